package dev.mmureplay.replayer.synth;

import java.util.SplittableRandom;

/** One synthetic trace scenario: writes trace lines through {@link Kvm} until the writer is full. */
interface Scenario {

    String name();

    String description();

    /** The event count when {@code --events} is not given. */
    long defaultEvents();

    /**
     * Writes events until {@code k.writer().full()}. All randomness comes from {@code rnd} (seeded by the caller);
     * state must stay bounded whatever the length.
     */
    void generate(Kvm k, SplittableRandom rnd);
}
