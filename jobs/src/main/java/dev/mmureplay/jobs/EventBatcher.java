package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import org.apache.flink.types.Either;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Groups a source's records, in their order, into {@link EventBatch}es: each run of consecutive events of one VM
 * becomes one batch of at most {@code maxEvents}; a dead letter, another VM or {@link #flush} ends the current run.
 * Order is kept exactly: what comes out, read event by event, is what went in. Events that are consecutive slices of
 * one array (an Avro block) stay in it; others (Kafka record values) are copied into one array per batch.
 * Not thread-safe; one per source reader.
 */
public final class EventBatcher {

    private final int maxEvents;
    private final Consumer<Either<EventBatch, DeadLetter>> out;
    private final EncodedEvent[] run;
    private int n;

    public EventBatcher(int maxEvents, Consumer<Either<EventBatch, DeadLetter>> out) {
        if (maxEvents < 1) {
            throw new IllegalArgumentException("maxEvents must be >= 1, got " + maxEvents);
        }
        this.maxEvents = maxEvents;
        this.out = out;
        this.run = new EncodedEvent[maxEvents];
    }

    /** The next event; emits the current batch first when this event cannot join it. */
    public void add(EncodedEvent e) {
        if (n > 0 && (n == maxEvents || !run[0].vm().equals(e.vm()))) {
            flush();
        }
        run[n++] = e;
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
        out.accept(Either.Left(build()));
        Arrays.fill(run, 0, n, null);
        n = 0;
    }

    /** Events waiting in the current batch. */
    public int pending() {
        return n;
    }

    private EventBatch build() {
        long[] seqs = new long[n];
        int[] bounds = new int[n + 1];
        byte[] shared = run[0].buffer();
        boolean contiguous = true;
        for (int i = 0; i < n; i++) {
            seqs[i] = run[i].seq();
            if (run[i].buffer() != shared || (i > 0 && run[i].offset() != run[i - 1].offset() + run[i - 1].length())) {
                contiguous = false;
            }
        }
        if (contiguous) {
            for (int i = 0; i < n; i++) {
                bounds[i] = run[i].offset();
            }
            bounds[n] = run[n - 1].offset() + run[n - 1].length();
            return new EventBatch(run[0].vm(), seqs, shared, bounds);
        }
        int total = 0;
        for (int i = 0; i < n; i++) {
            total += run[i].length();
        }
        byte[] buf = new byte[total];
        int pos = 0;
        for (int i = 0; i < n; i++) {
            bounds[i] = pos;
            System.arraycopy(run[i].buffer(), run[i].offset(), buf, pos, run[i].length());
            pos += run[i].length();
        }
        bounds[n] = pos;
        return new EventBatch(run[0].vm(), seqs, buf, bounds);
    }
}
