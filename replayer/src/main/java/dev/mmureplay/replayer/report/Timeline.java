package dev.mmureplay.replayer.report;

import java.util.Arrays;

/**
 * Events and divergences per seq bucket, for the report's timeline plot. Immutable (the arrays are copied in and
 * out).
 *
 * <p>Bucket {@code i} holds the seqs {@code [origin + i * bucketWidth, origin + (i + 1) * bucketWidth)}. The
 * bucket width is a power of two and {@code origin} a multiple of it; {@code eventCounts} and
 * {@code divergenceCounts} have the same length, at most the builder's bucket count, and cover
 * {@code minSeq..maxSeq} exactly (the first bucket holds {@code minSeq}, the last {@code maxSeq}). seqs are per VM, so
 * the events of all VMs with the same seq share a bucket.
 *
 * <p>Built incrementally by {@link Builder} in memory independent of the number of events, see there.
 *
 * @param minSeq           smallest seq of an event or divergence (0 when empty)
 * @param maxSeq           largest seq of an event or divergence (0 when empty)
 * @param minTimeNs        smallest event timestamp (0 when there were no events)
 * @param maxTimeNs        largest event timestamp (0 when there were no events)
 * @param origin           first seq of bucket 0
 * @param bucketWidth      seqs per bucket, a power of two
 * @param eventCounts      events per bucket; they sum to the number of events
 * @param divergenceCounts divergences per bucket (all of them, not only those listed in the report)
 */
public record Timeline(long minSeq, long maxSeq, long minTimeNs, long maxTimeNs, long origin, long bucketWidth,
                       long[] eventCounts, long[] divergenceCounts) {

    /** Buckets of a timeline built with {@link #builder()}. */
    public static final int DEFAULT_BUCKETS = 200;

    /** No events, no divergences. */
    public static final Timeline EMPTY = new Timeline(0, 0, 0, 0, 0, 1, new long[0], new long[0]);

    public Timeline {
        if (bucketWidth <= 0 || Long.bitCount(bucketWidth) != 1) {
            throw new IllegalArgumentException("bucketWidth must be a power of two: " + bucketWidth);
        }
        if (eventCounts.length != divergenceCounts.length) {
            throw new IllegalArgumentException("eventCounts and divergenceCounts differ in length");
        }
        eventCounts = eventCounts.clone();
        divergenceCounts = divergenceCounts.clone();
    }

    /** A builder with {@link #DEFAULT_BUCKETS} buckets. */
    public static Builder builder() {
        return new Builder(DEFAULT_BUCKETS);
    }

    /** Buckets in use (the length of both arrays). */
    public int buckets() {
        return eventCounts.length;
    }

    /** True when neither an event nor a divergence was added. */
    public boolean isEmpty() {
        return eventCounts.length == 0;
    }

    /** The bucket that holds {@code seq}, or -1 when it is outside the buckets. */
    public int bucketOf(long seq) {
        if (seq < origin) {
            return -1;
        }
        long i = (seq - origin) / bucketWidth;
        return i < eventCounts.length ? (int) i : -1;
    }

    /** First seq past the last bucket ({@code origin + buckets() * bucketWidth}). */
    public long end() {
        return origin + eventCounts.length * bucketWidth;
    }

    /** Sum of {@link #eventCounts}. */
    public long events() {
        return Arrays.stream(eventCounts).sum();
    }

    /** Sum of {@link #divergenceCounts}. */
    public long divergences() {
        return Arrays.stream(divergenceCounts).sum();
    }

    @Override
    public long[] eventCounts() {
        return eventCounts.clone();
    }

    @Override
    public long[] divergenceCounts() {
        return divergenceCounts.clone();
    }

    long eventCount(int bucket) {
        return eventCounts[bucket];
    }

    long divergenceCount(int bucket) {
        return divergenceCounts[bucket];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Timeline t && minSeq == t.minSeq && maxSeq == t.maxSeq && minTimeNs == t.minTimeNs
                && maxTimeNs == t.maxTimeNs && origin == t.origin && bucketWidth == t.bucketWidth
                && Arrays.equals(eventCounts, t.eventCounts) && Arrays.equals(divergenceCounts, t.divergenceCounts);
    }

    @Override
    public int hashCode() {
        int h = Long.hashCode(minSeq);
        h = 31 * h + Long.hashCode(maxSeq);
        h = 31 * h + Long.hashCode(minTimeNs);
        h = 31 * h + Long.hashCode(maxTimeNs);
        h = 31 * h + Long.hashCode(origin);
        h = 31 * h + Long.hashCode(bucketWidth);
        h = 31 * h + Arrays.hashCode(eventCounts);
        return 31 * h + Arrays.hashCode(divergenceCounts);
    }

    @Override
    public String toString() {
        return "Timeline[seq " + minSeq + ".." + maxSeq + ", time " + minTimeNs + ".." + maxTimeNs + " ns, "
                + eventCounts.length + " buckets of " + bucketWidth + " from " + origin + ", " + events()
                + " events, " + divergences() + " divergences]";
    }

    /**
     * Builds a {@link Timeline} one event at a time, in O(buckets) memory whatever the number of events, without
     * knowing the seq range in advance: <b>doubling bucket width</b>. The width starts at 1; when a seq falls more
     * than {@code buckets} buckets away from the others, the width doubles (adjacent buckets merge pairwise) until it
     * fits. The result is therefore the smallest power-of-two width {@code w} for which
     * {@code maxSeq / w - minSeq / w < buckets}, with {@code origin = (minSeq / w) * w} — a function of the
     * <em>set</em> of seqs added, not of their order: the same events in any order (or split over several builders
     * and {@link #merge merged}, as parallel tasks would) give an equal timeline. Not thread-safe.
     *
     * <pre>
     * Timeline.Builder b = Timeline.builder();
     * for (TraceEvent e : events) b.event(e.getSeq(), e.getTimestampNs());
     * for (DivergenceAlert a : alerts) b.divergence(a.getSeq());
     * Timeline t = b.build();
     * </pre>
     */
    public static final class Builder {

        private final int capacity;
        private long[] events;
        private long[] divergences;
        private long width = 1;
        private long lo;         // absolute index (seq / width) of array slot 0
        private long hi = -1;    // absolute index of the last bucket in use; hi < lo: empty
        private long minSeq = Long.MAX_VALUE;
        private long maxSeq = Long.MIN_VALUE;
        private long minTime = Long.MAX_VALUE;
        private long maxTime = Long.MIN_VALUE;

        /** @param buckets the most buckets the timeline has (at least 2) */
        public Builder(int buckets) {
            if (buckets < 2) {
                throw new IllegalArgumentException("buckets must be >= 2: " + buckets);
            }
            this.capacity = buckets;
            this.events = new long[buckets];
            this.divergences = new long[buckets];
        }

        /** Counts one event (seq >= 0). */
        public Builder event(long seq, long timestampNs) {
            int i = slot(seq);          // first: slot() may replace the arrays
            events[i]++;
            minTime = Math.min(minTime, timestampNs);
            maxTime = Math.max(maxTime, timestampNs);
            return this;
        }

        /** Counts one divergence at {@code seq} (>= 0); it extends the seq range like an event. */
        public Builder divergence(long seq) {
            int i = slot(seq);
            divergences[i]++;
            return this;
        }

        /** Adds everything {@code t} counted, as if its events and divergences had been added here. */
        public Builder merge(Timeline t) {
            if (t.isEmpty()) {
                return this;
            }
            cover(t.minSeq);
            cover(t.maxSeq);
            while (width < t.bucketWidth) {
                doubleWidth();
            }
            for (int i = 0; i < t.buckets(); i++) {
                if (t.eventCount(i) != 0 || t.divergenceCount(i) != 0) {
                    // any seq of bucket i inside t's range lands in the one bucket here that holds all of bucket i
                    long seq = Math.max(t.minSeq, Math.min(t.maxSeq, t.origin + i * t.bucketWidth));
                    int s = slot(seq);
                    events[s] += t.eventCount(i);
                    divergences[s] += t.divergenceCount(i);
                }
            }
            if (t.events() > 0) {
                minTime = Math.min(minTime, t.minTimeNs);
                maxTime = Math.max(maxTime, t.maxTimeNs);
            }
            return this;
        }

        public Timeline build() {
            if (hi < lo) {
                return EMPTY;
            }
            int n = (int) (hi - lo + 1);
            boolean timed = minTime <= maxTime;
            return new Timeline(minSeq, maxSeq, timed ? minTime : 0, timed ? maxTime : 0, lo * width, width,
                    Arrays.copyOf(events, n), Arrays.copyOf(divergences, n));
        }

        /** The array slot of {@code seq}, after widening/shifting so that it has one. */
        private int slot(long seq) {
            cover(seq);
            return (int) (seq / width - lo);
        }

        private void cover(long seq) {
            if (seq < 0) {
                throw new IllegalArgumentException("seq must be >= 0: " + seq);
            }
            minSeq = Math.min(minSeq, seq);
            maxSeq = Math.max(maxSeq, seq);
            if (hi < lo) {                       // first value
                lo = seq / width;
                hi = lo;
                return;
            }
            while (Math.max(hi, seq / width) - Math.min(lo, seq / width) >= capacity) {
                doubleWidth();
            }
            long k = seq / width;
            if (k < lo) {                        // shift right: the new first bucket is k
                int by = (int) (lo - k);
                System.arraycopy(events, 0, events, by, (int) (hi - lo + 1));
                System.arraycopy(divergences, 0, divergences, by, (int) (hi - lo + 1));
                Arrays.fill(events, 0, by, 0);
                Arrays.fill(divergences, 0, by, 0);
                lo = k;
            } else if (k > hi) {
                hi = k;
            }
        }

        /** Width x2: absolute bucket j becomes j / 2, so slot i moves to (lo + i) / 2 - lo / 2. */
        private void doubleWidth() {
            long[] e = new long[capacity];
            long[] d = new long[capacity];
            long newLo = lo / 2;
            for (long j = lo; j <= hi; j++) {
                int to = (int) (j / 2 - newLo);
                e[to] += events[(int) (j - lo)];
                d[to] += divergences[(int) (j - lo)];
            }
            events = e;
            divergences = d;
            lo = newLo;
            hi = hi / 2;
            width *= 2;
        }
    }
}
