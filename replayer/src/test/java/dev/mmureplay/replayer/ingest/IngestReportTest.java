package dev.mmureplay.replayer.ingest;

import dev.mmureplay.replayer.parse.TraceInput;
import dev.mmureplay.replayer.testutil.MemorySinks;
import dev.mmureplay.replayer.testutil.Traces;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the report counts, and when progress is told. */
class IngestReportTest {

    private static final String GOOD = "          kvmrec-8839    [000] .....   569.264856: kvm_mmu_paging_element: pte 2007 level 4\n";

    @Test
    void firstAndLastTimestampsAreTheSmallestAndLargestInNanoseconds() throws Exception {
        IngestReport r = MemorySinks.ingest(IngestOptions.defaults(), List.of(Traces.path("real_io.trace").toString())).report();

        assertEquals(620_783_479_000L, r.firstTimestampNs());
        assertEquals(620_784_471_000L, r.lastTimestampNs());
        assertEquals(992_000L, r.timeSpanNs());
    }

    @Test
    void genericEventsAreCountedUnderTheirOwnNameAndAsGeneric() throws Exception {
        MemorySinks.Run run = MemorySinks.ingestText("g.trace", GOOD
                + "          kvmrec-8839    [000] .....   569.264857: kvm_entry: vcpu 0, rip 0x10000\n");

        assertEquals(1, run.report().generic());
        assertEquals(Map.of("kvm_entry", 1L, "kvm_mmu_paging_element", 1L), run.report().byType());
    }

    @Test
    void lostEventNoticesAreSkippedLinesAndTheirCountsAreSummed() throws Exception {
        IngestReport r = MemorySinks.ingestText("l.trace", GOOD + "CPU:1 [LOST 40 EVENTS]\n" + GOOD
                + "CPU:0 [LOST 2 EVENTS]\n").report();

        assertEquals(2, r.skipped());
        assertEquals(42, r.lostEvents());
        assertEquals(2, r.events());
    }

    @Test
    void progressIsToldEvery65536LinesAndAtTheEndOfEachInput() throws Exception {
        byte[] input = GOOD.repeat(150_000).getBytes(StandardCharsets.UTF_8);
        List<long[]> calls = new ArrayList<>();
        MemorySinks sinks = new MemorySinks();
        Ingest ingest = new Ingest(IngestOptions.defaults(), sinks, sinks,
                (name, bytes, total, lines) -> calls.add(new long[] {bytes, total, lines}));

        try (TraceInput in = TraceInput.of("p.trace", new ByteArrayInputStream(input), input.length)) {
            ingest.ingest(in);
        }

        assertEquals(List.of(65_536L, 131_072L, 150_000L), calls.stream().map(c -> c[2]).toList());
        assertEquals(input.length, calls.get(2)[0], "all bytes read at the end");
        assertEquals(input.length, calls.get(0)[1]);
        assertTrue(calls.get(0)[0] <= input.length);
    }

    @Test
    void theSinksAreFlushedAtTheEndOfARun() throws Exception {
        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults(), List.of(Traces.path("real_io.trace").toString()));

        assertEquals(2, run.sinks().flushes, "the event sink and the dead-letter sink (one object here)");
    }
}
