package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import org.apache.flink.types.Either;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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

    /**
     * The order in which to batch {@code n} events of several VMs (event {@code i}: VM {@code vms[i]}, compared with
     * {@code equals}; {@code lengths[i]} bytes) whose relative order only matters per VM: the VMs take turns, in the
     * order of their first event, each turn one batch of the VM's next events in their given order (as many as
     * {@link EventBatch#MAX_EVENTS} and {@link EventBatch#MAX_BYTES} allow, where a batcher with those limits cuts).
     * Turns, not each VM's whole share at once: a VM's thousand events in a row would fill its replay task's network
     * buffers and hold the source there while the other tasks ran dry. A pure function of its input.
     *
     * @return the events' indexes in that order (a new array of {@code n})
     */
    public static int[] turns(String[] vms, int[] lengths, int n) {
        int[] group = new int[n];
        List<String> seen = new ArrayList<>(4);
        int[] sizes = new int[4];
        String last = null;
        int g = -1;
        for (int i = 0; i < n; i++) {
            String vm = vms[i];
            if (vm != last) {   // the same instance as the event before (interned vms, runs): the same VM
                last = vm;
                g = seen.indexOf(vm);
                if (g < 0) {
                    g = seen.size();
                    seen.add(vm);
                    if (g == sizes.length) {
                        sizes = Arrays.copyOf(sizes, g * 2);
                    }
                }
            }
            group[i] = g;
            sizes[g]++;
        }
        int k = seen.size();
        int[] from = new int[k + 1];   // each VM's events, VM after VM (a counting sort by first appearance)
        for (int v = 0; v < k; v++) {
            from[v + 1] = from[v] + sizes[v];
        }
        int[] fill = Arrays.copyOf(from, k);
        int[] grouped = new int[n];
        for (int i = 0; i < n; i++) {
            grouped[fill[group[i]]++] = i;
        }
        int[] order = new int[n];
        int out = 0;
        int[] next = Arrays.copyOf(from, k);
        while (out < n) {   // rounds: one batch's worth of each VM with events left
            for (int v = 0; v < k; v++) {
                int events = 0;
                int bytes = 0;
                while (next[v] < from[v + 1] && events < EventBatch.MAX_EVENTS) {
                    int i = grouped[next[v]];
                    if (events > 0 && bytes + lengths[i] > EventBatch.MAX_BYTES) {
                        break;
                    }
                    order[out++] = i;
                    events++;
                    bytes += lengths[i];
                    next[v]++;
                }
            }
        }
        return order;
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
