package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import org.apache.flink.types.Either;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Groups a source's records, in their order, into {@link EventBatch}es: each run of consecutive events of one VM
 * becomes one batch of at most {@code maxEvents} events and (unless one event alone is larger) {@code maxBytes}
 * bytes; a dead letter, another VM or {@link #flush} ends the current run. Order is kept exactly: what comes out, read
 * event by event, is what went in. Events that are consecutive slices of one array (an Avro block) stay in it; others
 * (Kafka record values) are copied into one array per batch. Not thread-safe; one per source reader.
 */
public final class EventBatcher {

    private final int maxEvents;
    private final int maxBytes;
    private final Consumer<Either<EventBatch, DeadLetter>> out;
    private final long[] seqs;
    private final int[] bounds;
    private String vm;
    private int n;
    /** The events' bytes: the source's array (while the events are consecutive slices of it), or {@code own}. */
    private byte[] buf;
    private byte[] own;
    private boolean owned;

    /** Batches of at most {@code maxEvents} events and {@link EventBatch#MAX_BYTES} bytes. */
    public EventBatcher(int maxEvents, Consumer<Either<EventBatch, DeadLetter>> out) {
        this(maxEvents, EventBatch.MAX_BYTES, out);
    }

    public EventBatcher(int maxEvents, int maxBytes, Consumer<Either<EventBatch, DeadLetter>> out) {
        if (maxEvents < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("maxEvents and maxBytes must be >= 1, got " + maxEvents + ", "
                    + maxBytes);
        }
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
        this.out = out;
        this.seqs = new long[maxEvents];
        this.bounds = new int[maxEvents + 1];
    }

    /** The next event; emits the current batch first when this event cannot join it. */
    public void add(EncodedEvent e) {
        add(e.vm(), e.seq(), e.buffer(), e.offset(), e.length());
    }

    /** The next event: {@code vm}'s event {@code seq}, whose Avro binary is {@code b[off, off + len)} (not copied). */
    public void add(String vm, long seq, byte[] b, int off, int len) {
        if (n > 0 && (n == maxEvents || bounds[n] - bounds[0] + len > maxBytes || !this.vm.equals(vm))) {
            flush();
        }
        if (n == 0) {
            this.vm = vm;
            buf = b;
            owned = false;
            bounds[0] = off;
        } else if (owned || b != buf || off != bounds[n]) {
            if (!owned) {   // not a continuation of the source array: from here on the batch has its own
                int have = bounds[n] - bounds[0];
                byte[] mine = room(have + len);
                System.arraycopy(buf, bounds[0], mine, 0, have);
                int base = bounds[0];
                for (int i = 0; i <= n; i++) {
                    bounds[i] -= base;
                }
                buf = mine;
                owned = true;
            } else {
                buf = room(bounds[n] + len);
            }
            System.arraycopy(b, off, buf, bounds[n], len);
            off = bounds[n];
        }
        seqs[n] = seq;
        bounds[n + 1] = off + len;
        n++;
    }

    /** A dead letter: the current batch is emitted before it, so the order of records is kept. */
    public void dead(DeadLetter d) {
        flush();
        out.accept(Either.Right(d));
    }

    /** Emits the current batch, if any. */
    public void flush() {
        if (n == 0) {
            return;
        }
        byte[] bytes;
        int[] b;
        if (owned) {
            bytes = Arrays.copyOf(buf, bounds[n]);   // the own array is reused for the next batch
            b = Arrays.copyOf(bounds, n + 1);
        } else {
            bytes = buf;
            b = Arrays.copyOf(bounds, n + 1);
        }
        EventBatch batch = new EventBatch(vm, Arrays.copyOf(seqs, n), bytes, b);
        n = 0;
        buf = null;
        vm = null;
        out.accept(Either.Left(batch));
    }

    /** Events waiting in the current batch. */
    public int pending() {
        return n;
    }

    /** The own array, grown (keeping its content) to at least {@code size} bytes. */
    private byte[] room(int size) {
        if (own == null || own.length < size) {
            byte[] grown = new byte[Math.max(size, Math.max(maxBytes, own == null ? 0 : own.length * 2))];
            if (own != null && owned) {
                System.arraycopy(own, 0, grown, 0, bounds[n]);
            }
            own = grown;
        }
        return own;
    }
}
