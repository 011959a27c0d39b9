package dev.mmureplay.jobs;

import dev.mmureplay.model.divergence.VmReplay;

import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Everything the replay job keeps for one VM (Flink keyed state, one value per vm; {@link VmStateSerializer}): the
 * reorder buffer, the models of every profile ({@link VmReplay}) and the counters of the VM's summary. Mutable;
 * only the task that owns the key touches it.
 *
 * <p>A state can be <i>frozen</i> ({@link #handOff}): when a checkpoint's asynchronous part still has to write it and
 * the task wants to go on with it, the heap state backend asks for a copy ({@link VmStateSerializer#copy}). Instead of
 * a deep copy (write and read back the whole state: tens of milliseconds for a large VM, on the task thread, at every
 * checkpoint), the state is written once into bytes, which this object keeps for the checkpoint, and its live parts
 * move to a new object, which the task goes on with. A frozen state only serializes; anything else fails.
 */
public final class VmState {

    // not final: a frozen state drops them (handOff), so a use after the hand-off fails at once
    ReorderBuffer<EncodedEvent> reorder;
    VmReplay replay;
    /** Records of this vm that reached the replay function. */
    long records;
    /** Alerts by kind name and by "left vs right" (sorted: deterministic summaries). */
    TreeMap<String, Long> byKind;
    TreeMap<String, Long> byPair;
    /** {@code replay.events()} when the last periodic digest was emitted. */
    long lastDigestAt;
    /** Timestamp of the last event applied (ns), for the event-time lag metric. */
    long lastTimestampNs;
    /** Whether the end-of-input timer is registered. */
    boolean timerSet;
    /** Set by {@link #handOff}: this state's serialized form, all that is left of it. Guarded by {@link #lock}. */
    private byte[] frozen;
    /**
     * Held while a checkpoint thread writes this state and while the task hands it off ({@link VmStateSerializer}).
     * Not state: a new object has a new lock.
     */
    final ReentrantLock lock = new ReentrantLock();

    VmState(ReorderBuffer<EncodedEvent> reorder, VmReplay replay, long records, TreeMap<String, Long> byKind,
            TreeMap<String, Long> byPair, long lastDigestAt, long lastTimestampNs, boolean timerSet) {
        this.reorder = reorder;
        this.replay = replay;
        this.records = records;
        this.byKind = byKind;
        this.byPair = byPair;
        this.lastDigestAt = lastDigestAt;
        this.lastTimestampNs = lastTimestampNs;
        this.timerSet = timerSet;
    }

    static VmState fresh(VmReplay replay, int maxPending) {
        return new VmState(new ReorderBuffer<>(maxPending, 0), replay, 0, new TreeMap<>(), new TreeMap<>(), 0,
                Long.MIN_VALUE, false);
    }

    /**
     * Freezes this state as {@code bytes} (its serialized form, written by the caller) and returns a new live state
     * that owns everything this one had. The caller holds {@link #lock}.
     */
    VmState handOff(byte[] bytes) {
        if (frozen != null) {
            throw new IllegalStateException("this VmState was already handed off");
        }
        VmState live = new VmState(reorder, replay, records, byKind, byPair, lastDigestAt, lastTimestampNs, timerSet);
        frozen = bytes;
        reorder = null;
        replay = null;
        byKind = null;
        byPair = null;
        return live;
    }

    /** This state's serialized form if it was handed off, else null. The caller holds {@link #lock}. */
    byte[] frozen() {
        return frozen;
    }

    void count(String kind, String pair) {
        byKind.merge(kind, 1L, Long::sum);
        byPair.merge(pair, 1L, Long::sum);
    }

    public VmReplay replay() {
        return live(replay);
    }

    public ReorderBuffer<EncodedEvent> reorder() {
        return live(reorder);
    }

    private <T> T live(T part) {
        if (part == null) {
            throw new IllegalStateException("this VmState was handed off to a copy (VmStateSerializer.copy): only "
                    + "the copy is live");
        }
        return part;
    }
}
