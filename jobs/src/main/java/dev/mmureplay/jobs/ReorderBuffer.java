package dev.mmureplay.jobs;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Puts one VM's records back into dense {@code seq} order (DESIGN §5), bounded:
 * <ul>
 *   <li>a record with the next seq is delivered at once, followed by any buffered successors;</li>
 *   <li>a record ahead of the next seq waits; when more than {@code maxPending} wait, the missing seqs before the
 *       oldest waiting one are declared a <b>gap</b> and skipped. The bound counts records, not time, so the
 *       decision is the same on every run whatever the parallelism or the machine's speed;</li>
 *   <li>a record whose seq was already delivered or is already waiting is a <b>duplicate</b> (dropped, counted);</li>
 *   <li>a record whose seq lies in a gap already declared is <b>late</b> (not replayed: the models have moved on);</li>
 *   <li>{@link #flush} (end of a bounded input) declares the remaining gaps and delivers everything waiting.</li>
 * </ul>
 * Not thread-safe; one per VM. Its whole state is exposed for the Flink state serializer.
 *
 * @param <T> the record type
 */
public final class ReorderBuffer<T> {

    /** Declared gaps remembered to tell a late record from a duplicate; older ones count as duplicates. */
    public static final int GAPS_REMEMBERED = 256;

    /** What became of an offered record. */
    public enum Verdict { DELIVERED, BUFFERED, DUPLICATE, LATE }

    /** Where delivered records and declared gaps go. */
    public interface Output<T> {
        void deliver(long seq, T record);

        /** Seqs {@code from..to} (inclusive) will never be delivered. */
        void gap(long from, long to);
    }

    private final int maxPending;
    private long next;
    private final TreeMap<Long, T> pending;
    private final ArrayDeque<long[]> gaps;
    private long duplicates;
    private long late;
    private long gapCount;
    private long missing;

    /** An empty buffer expecting {@code firstSeq} first. */
    public ReorderBuffer(int maxPending, long firstSeq) {
        this(maxPending, firstSeq, new TreeMap<>(), new ArrayDeque<>(), 0, 0, 0, 0);
    }

    /** A restored buffer (see the getters for the meaning of each part). */
    public ReorderBuffer(int maxPending, long next, TreeMap<Long, T> pending, ArrayDeque<long[]> gaps,
                         long duplicates, long late, long gapCount, long missing) {
        if (maxPending < 1) {
            throw new IllegalArgumentException("maxPending must be >= 1, got " + maxPending);
        }
        this.maxPending = maxPending;
        this.next = next;
        this.pending = pending;
        this.gaps = gaps;
        this.duplicates = duplicates;
        this.late = late;
        this.gapCount = gapCount;
        this.missing = missing;
    }

    /** Offers one record; delivered records and declared gaps go to {@code out} before this returns. */
    public Verdict offer(long seq, T record, Output<T> out) {
        if (seq < next) {
            if (inDeclaredGap(seq)) {
                late++;
                return Verdict.LATE;
            }
            duplicates++;
            return Verdict.DUPLICATE;
        }
        if (seq == next) {
            out.deliver(seq, record);
            next++;
            drain(out);
            return Verdict.DELIVERED;
        }
        if (pending.putIfAbsent(seq, record) != null) {
            duplicates++;
            return Verdict.DUPLICATE;
        }
        if (pending.size() > maxPending) {
            skipToFirstPending(out);
        }
        return Verdict.BUFFERED;
    }

    /** End of input: every remaining gap is declared and every waiting record delivered. */
    public void flush(Output<T> out) {
        while (!pending.isEmpty()) {
            skipToFirstPending(out);
        }
    }

    private void skipToFirstPending(Output<T> out) {
        long first = pending.firstKey();
        if (first > next) {
            out.gap(next, first - 1);
            gaps.addLast(new long[] {next, first - 1});
            if (gaps.size() > GAPS_REMEMBERED) {
                gaps.removeFirst();
            }
            gapCount++;
            missing += first - next;
            next = first;
        }
        drain(out);
    }

    private void drain(Output<T> out) {
        while (!pending.isEmpty() && pending.firstKey() == next) {
            out.deliver(next, pending.pollFirstEntry().getValue());
            next++;
        }
    }

    private boolean inDeclaredGap(long seq) {
        Iterator<long[]> it = gaps.descendingIterator();
        while (it.hasNext()) {
            long[] g = it.next();
            if (seq >= g[0] && seq <= g[1]) {
                return true;
            }
        }
        return false;
    }

    public int maxPending() {
        return maxPending;
    }

    /** The next seq to deliver. */
    public long next() {
        return next;
    }

    /** Records waiting for an earlier seq, by seq (live view, for the serializer). */
    public TreeMap<Long, T> pending() {
        return pending;
    }

    public int depth() {
        return pending.size();
    }

    /** Declared gaps {from, to} still remembered, oldest first (live view, for the serializer). */
    public ArrayDeque<long[]> gaps() {
        return gaps;
    }

    public long duplicates() {
        return duplicates;
    }

    public long late() {
        return late;
    }

    /** Gaps declared. */
    public long gapCount() {
        return gapCount;
    }

    /** Seqs skipped by declared gaps. */
    public long missing() {
        return missing;
    }

    /** For tests: the pending seqs in order. */
    long[] pendingSeqs() {
        long[] out = new long[pending.size()];
        int i = 0;
        for (Map.Entry<Long, T> e : pending.entrySet()) {
            out[i++] = e.getKey();
        }
        return out;
    }
}
