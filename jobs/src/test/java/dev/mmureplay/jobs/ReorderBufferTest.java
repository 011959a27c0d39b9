package dev.mmureplay.jobs;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link ReorderBuffer}: dense seq order out of any arrival order, bounded, duplicates and gaps accounted. */
class ReorderBufferTest {

    /** Records what the buffer delivers: "seq" for a record, "gap a..b" for a declared gap. */
    static final class Log implements ReorderBuffer.Output<String> {
        final List<String> out = new ArrayList<>();

        @Override
        public void deliver(long seq, String record) {
            assertEquals("r" + seq, record, "record delivered under its own seq");
            out.add(Long.toString(seq));
        }

        @Override
        public void gap(long from, long to) {
            out.add("gap " + from + ".." + to);
        }
    }

    static ReorderBuffer.Verdict offer(ReorderBuffer<String> b, long seq, Log log) {
        return b.offer(seq, "r" + seq, log);
    }

    @Test
    void inOrderRecordsAreDeliveredAtOnce() {
        ReorderBuffer<String> b = new ReorderBuffer<>(4, 0);
        Log log = new Log();
        for (long s = 0; s < 3; s++) {
            assertEquals(ReorderBuffer.Verdict.DELIVERED, offer(b, s, log));
        }
        assertEquals(List.of("0", "1", "2"), log.out);
        assertEquals(0, b.depth());
    }

    @Test
    void anEarlierSeqReleasesTheWaitingSuccessorsInOrder() {
        ReorderBuffer<String> b = new ReorderBuffer<>(4, 0);
        Log log = new Log();
        assertEquals(ReorderBuffer.Verdict.BUFFERED, offer(b, 2, log));
        assertEquals(ReorderBuffer.Verdict.BUFFERED, offer(b, 1, log));
        assertArrayEquals(new long[] {1, 2}, b.pendingSeqs());
        assertEquals(ReorderBuffer.Verdict.DELIVERED, offer(b, 0, log));
        assertEquals(List.of("0", "1", "2"), log.out);
        assertEquals(3, b.next());
    }

    @Test
    void aSeqAlreadyDeliveredOrWaitingIsADuplicate() {
        ReorderBuffer<String> b = new ReorderBuffer<>(4, 0);
        Log log = new Log();
        offer(b, 0, log);
        offer(b, 2, log);
        assertEquals(ReorderBuffer.Verdict.DUPLICATE, offer(b, 0, log));
        assertEquals(ReorderBuffer.Verdict.DUPLICATE, offer(b, 2, log));
        assertEquals(2, b.duplicates());
        assertEquals(List.of("0"), log.out);
    }

    @Test
    void moreWaitingRecordsThanTheBoundDeclareAGap() {
        ReorderBuffer<String> b = new ReorderBuffer<>(2, 0);
        Log log = new Log();
        offer(b, 0, log);
        offer(b, 3, log);
        offer(b, 4, log);
        assertEquals(List.of("0"), log.out, "two waiting: within the bound");
        offer(b, 5, log);
        assertEquals(List.of("0", "gap 1..2", "3", "4", "5"), log.out);
        assertEquals(1, b.gapCount());
        assertEquals(2, b.missing());
    }

    @Test
    void aRecordOfADeclaredGapIsLateNotADuplicate() {
        ReorderBuffer<String> b = new ReorderBuffer<>(1, 0);
        Log log = new Log();
        offer(b, 2, log);
        offer(b, 3, log);   // gap 0..1 declared
        assertEquals(ReorderBuffer.Verdict.LATE, offer(b, 1, log));
        assertEquals(ReorderBuffer.Verdict.DUPLICATE, offer(b, 3, log));
        assertEquals(1, b.late());
        assertEquals(1, b.duplicates());
    }

    @Test
    void flushDeclaresTheRemainingGapsAndDeliversEverything() {
        ReorderBuffer<String> b = new ReorderBuffer<>(100, 0);
        Log log = new Log();
        offer(b, 1, log);
        offer(b, 5, log);
        offer(b, 6, log);
        b.flush(log);
        assertEquals(List.of("gap 0..0", "1", "gap 2..4", "5", "6"), log.out);
        assertEquals(0, b.depth());
        assertEquals(2, b.gapCount());
        assertEquals(4, b.missing());
    }

    @Test
    void everyRecordIsDeliveredOrLateWhateverTheBound() {
        long[] arrivals = {3, 0, 1, 7, 2, 5, 4, 6, 9, 8};
        for (int bound = 1; bound <= 10; bound++) {
            ReorderBuffer<String> b = new ReorderBuffer<>(bound, 0);
            Log log = new Log();
            for (long s : arrivals) {
                offer(b, s, log);
            }
            b.flush(log);
            long delivered = log.out.stream().filter(x -> !x.startsWith("gap")).count();
            assertEquals(arrivals.length, delivered + b.late(), "bound " + bound + ": " + log.out);
        }
    }

    @Test
    void theBoundMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new ReorderBuffer<String>(0, 0));
    }
}
