package dev.mmureplay.replayer.report;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Timeline} and its doubling-width builder. */
class ReportTimelineTest {

    private static List<long[]> events(int n, long maxSeq, long seed) {
        Random r = new Random(seed);
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long seq = (long) (r.nextDouble() * maxSeq);
            out.add(new long[] {seq, 5_000 + seq * 10 + r.nextInt(10)});
        }
        return out;
    }

    private static Timeline build(List<long[]> events) {
        Timeline.Builder b = Timeline.builder();
        for (long[] e : events) {
            b.event(e[0], e[1]);
        }
        return b.build();
    }

    @Test
    void bucketCountsSumToTheNumberOfEvents() {
        for (long maxSeq : new long[] {1, 150, 200, 201, 1_000_003, Long.MAX_VALUE / 3}) {
            Timeline t = build(events(10_000, maxSeq, maxSeq));
            assertEquals(10_000, Arrays.stream(t.eventCounts()).sum(), t.toString());
            assertEquals(10_000, t.events());
            assertTrue(t.buckets() <= Timeline.DEFAULT_BUCKETS, t.toString());
            assertEquals(0, t.bucketOf(t.minSeq()), "the first bucket holds minSeq: " + t);
            assertEquals(t.buckets() - 1, t.bucketOf(t.maxSeq()), "the last bucket holds maxSeq: " + t);
        }
    }

    @Test
    void sameEventsInAnyOrderOrSplitAndMergedGiveTheSameTimeline() {
        List<long[]> ev = events(20_000, 123_456, 7);
        Timeline once = build(ev);
        assertEquals(once, build(ev), "deterministic for the same input");

        List<long[]> shuffled = new ArrayList<>(ev);
        Collections.shuffle(shuffled, new Random(99));
        assertEquals(once, build(shuffled), "independent of arrival order");

        Collections.sort(shuffled, (a, b) -> Long.compare(b[0], a[0]));   // descending: shifts on every new min
        assertEquals(once, build(shuffled));

        Timeline.Builder merged = Timeline.builder();
        for (int part = 0; part < 3; part++) {
            Timeline.Builder p = Timeline.builder();
            for (int i = part; i < ev.size(); i += 3) {
                p.event(ev.get(i)[0], ev.get(i)[1]);
            }
            merged.merge(p.build());
        }
        assertEquals(once, merged.build(), "parallel parts merged");
    }

    @Test
    void bucketWidthIsTheSmallestPowerOfTwoThatFitsTheSeqRange() {
        Timeline.Builder b = Timeline.builder();
        for (long s = 0; s < 200; s++) {
            b.event(s, s);
        }
        Timeline t = b.build();
        assertEquals(1, t.bucketWidth());
        assertEquals(200, t.buckets());
        assertEquals(0, t.origin());

        t = b.event(200, 200).build();
        assertEquals(2, t.bucketWidth());
        assertEquals(101, t.buckets());
        assertEquals(2, t.eventCounts()[0], "seqs 0 and 1 together");
        assertEquals(1, t.eventCounts()[100], "seq 200 alone");

        Timeline one = Timeline.builder().event(5_000, 42).build();
        assertEquals(5_000, one.origin());
        assertEquals(1, one.buckets());
        assertEquals(42, one.minTimeNs());
        assertEquals(42, one.maxTimeNs());

        Timeline late = Timeline.builder().event(1_000_000, 1).event(1_000_399, 2).build();
        assertEquals(2, late.bucketWidth(), "the range starts where the seqs start, not at 0");
        assertEquals(1_000_000, late.origin());
        assertEquals(200, late.buckets());
    }

    @Test
    void divergencesArePlacedInTheBucketOfTheirSeq() {
        Timeline t = Timeline.builder().event(0, 10).event(999, 20).divergence(500).divergence(501).divergence(0)
                .build();
        assertEquals(8, t.bucketWidth());
        assertEquals(3, t.divergences());
        assertEquals(2, t.divergenceCounts()[t.bucketOf(500)]);
        assertEquals(1, t.divergenceCounts()[t.bucketOf(0)]);
        assertEquals(10, t.minTimeNs());
        assertEquals(20, t.maxTimeNs());
    }

    @Test
    void isImmutableAndRejectsNegativeSeqs() {
        Timeline t = Timeline.builder().event(1, 1).build();
        t.eventCounts()[0] = 99;
        assertArrayEquals(new long[] {1}, t.eventCounts());
        assertThrows(IllegalArgumentException.class, () -> Timeline.builder().event(-1, 0));
        assertTrue(Timeline.builder().build().isEmpty());
        assertEquals(Timeline.EMPTY, Timeline.builder().merge(Timeline.EMPTY).build());
    }
}
