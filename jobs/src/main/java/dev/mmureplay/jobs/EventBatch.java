package dev.mmureplay.jobs;

import java.util.Arrays;

/**
 * Input events of one VM, in their order, as they travel through the job: the sources batch each Avro block and
 * each Kafka fetch VM by VM ({@link EventBatcher#turns}), so Flink's per-record path — the source output, the keyBy
 * hop's framing and network buffers, the keyed operator's key switch and state lookup — is paid once per batch
 * instead of once per event. Inside, every event is still its own {@link EncodedEvent} (vm, seq, Avro
 * binary of the current schema): the replay offers them to the VM's reorder buffer one by one, in batch order, so
 * what is replayed does not depend on where batches begin or end.
 *
 * <p>Immutable. The events' bytes lie back to back in one array: event {@code i} is
 * {@code buffer()[start(i), end(i))}. A batch made from slices of one shared array (an Avro block's events) uses
 * that array without copying; nobody writes it after the batch is made.
 */
public final class EventBatch {

    /** The most events a source puts in one batch (bounds the memory of one record and the latency it adds). */
    public static final int MAX_EVENTS = 1024;

    /**
     * The most bytes a source puts in one batch (unless one event alone is larger): well below Flink's 32 KB network
     * buffer, so few batches span two buffers (a spanning record is copied into a fresh array on the receiving side),
     * while Flink's per-record costs are still shared by ~40 events.
     */
    public static final int MAX_BYTES = 4096;

    private final String vm;
    private final long[] seqs;
    private final byte[] buf;
    private final int[] bounds;

    /**
     * A batch of {@code seqs.length} events; event {@code i}'s bytes are {@code buf[bounds[i], bounds[i + 1])}. The
     * arrays become the batch's: the caller must not change them afterwards.
     */
    public EventBatch(String vm, long[] seqs, byte[] buf, int[] bounds) {
        if (seqs.length == 0 || bounds.length != seqs.length + 1) {
            throw new IllegalArgumentException(seqs.length + " seqs and " + bounds.length + " bounds");
        }
        for (int i = 0; i < seqs.length; i++) {
            if (bounds[i] < 0 || bounds[i] > bounds[i + 1] || bounds[i + 1] > buf.length) {
                throw new IllegalArgumentException("event " + i + ": slice [" + bounds[i] + ", " + bounds[i + 1]
                        + ") of " + buf.length + " bytes");
            }
        }
        this.vm = vm;
        this.seqs = seqs;
        this.buf = buf;
        this.bounds = bounds;
    }

    /** A batch of one event. */
    public static EventBatch of(EncodedEvent e) {
        return new EventBatch(e.vm(), new long[] {e.seq()}, e.buffer(), new int[] {e.offset(), e.offset() + e.length()});
    }

    /** The vm of every event in the batch (the key). */
    public String vm() {
        return vm;
    }

    public int size() {
        return seqs.length;
    }

    public long seq(int i) {
        return seqs[i];
    }

    /** The array holding the events' Avro binary (read only: shared). */
    public byte[] buffer() {
        return buf;
    }

    public int start(int i) {
        return bounds[i];
    }

    public int end(int i) {
        return bounds[i + 1];
    }

    /** Bytes of all events together. */
    public int bytes() {
        return bounds[seqs.length] - bounds[0];
    }

    /** Event {@code i} (a slice of this batch's array). */
    public EncodedEvent event(int i) {
        return new EncodedEvent(vm, seqs[i], buf, bounds[i], bounds[i + 1] - bounds[i]);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof EventBatch b) || !vm.equals(b.vm) || !Arrays.equals(seqs, b.seqs)) {
            return false;
        }
        for (int i = 0; i < seqs.length; i++) {
            if (!Arrays.equals(buf, bounds[i], bounds[i + 1], b.buf, b.bounds[i], b.bounds[i + 1])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return vm.hashCode() * 31 + Arrays.hashCode(seqs);
    }

    @Override
    public String toString() {
        return "EventBatch[vm=" + vm + ", seqs " + seqs[0] + ".." + seqs[seqs.length - 1] + " (" + seqs.length
                + " events), " + bytes() + " bytes]";
    }
}
