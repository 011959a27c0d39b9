package dev.mmureplay.replayer.ingest;

import dev.mmureplay.avro.GenericEvent;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.testutil.MemorySinks;
import dev.mmureplay.replayer.testutil.Traces;
import dev.mmureplay.schemas.EventNames;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** (a) Every line of every shared real trace parses into its typed record. */
class RealTracesIngestTest {

    static List<String> traces() {
        return Traces.NAMES;
    }

    @ParameterizedTest
    @MethodSource("traces")
    void everyLineParsesWithoutDeadLetters(String name) throws Exception {
        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults(), List.of(Traces.path(name).toString()));

        assertEquals(List.of(), run.deadLetters().stream().map(d -> d.getPlace().getLine() + ": " + d.getReason()).toList());
        assertEquals(0, run.report().deadLetters());
    }

    @ParameterizedTest
    @MethodSource("traces")
    void noKvmOrKvmmmuEventIsKeptAsGeneric(String name) throws Exception {
        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults(), List.of(Traces.path(name).toString()));

        assertEquals(0, run.report().generic());
        for (TraceEvent e : run.events()) {
            assertTrue(!(e.getPayload() instanceof GenericEvent), () -> "generic: " + e);
            assertTrue(EventNames.payloadClass(EventNames.of(e)) != null);
        }
    }

    @ParameterizedTest
    @MethodSource("traces")
    void linesReadEqualEventsPlusDeadLettersPlusSkipped(String name) throws Exception {
        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults(), List.of(Traces.path(name).toString()));
        IngestReport r = run.report();

        assertEquals(Traces.lines(name).size(), r.linesRead());
        assertEquals(r.linesRead(), r.events() + r.deadLetters() + r.skipped());
        assertEquals(12, r.skipped(), "the 12 '#' header lines of the tracefs file");
        assertEquals(run.events().size(), r.events());
        assertTrue(r.reconciles());
    }

    @ParameterizedTest
    @MethodSource("traces")
    void eventCountMatchesTheTraceHeaderEntriesLine(String name) throws Exception {
        // "# entries-in-buffer/entries-written: 779/779   #P:2"
        String header = Traces.lines(name).stream().filter(l -> l.startsWith("# entries-in-buffer")).findFirst().orElseThrow();
        long entries = Long.parseLong(header.replaceAll(".*: (\\d+)/.*", "$1"));

        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults(), List.of(Traces.path(name).toString()));

        assertEquals(entries, run.report().events());
    }

    @ParameterizedTest
    @MethodSource("traces")
    void byTypeCountsEveryEventUnderItsTracepointName(String name) throws Exception {
        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults(), List.of(Traces.path(name).toString()));
        Map<String, Long> expected = new TreeMap<>();
        for (String line : Traces.lines(name)) {
            if (!line.startsWith("#")) {
                String event = line.replaceFirst("^.*?\\d+\\.\\d+: ([a-z_]+): .*$", "$1");
                expected.merge(event, 1L, Long::sum);
            }
        }

        assertEquals(expected, run.report().byType());
    }

    @ParameterizedTest
    @MethodSource("traces")
    void seqIsDenseFromZeroInInputOrderAndVmIsTheFileName(String name) throws Exception {
        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults(), List.of(Traces.path(name).toString()));
        String vm = name.substring(0, name.length() - ".trace".length());

        for (int i = 0; i < run.events().size(); i++) {
            assertEquals(i, run.events().get(i).getSeq());
            assertEquals(vm, run.events().get(i).getVm());
        }
        assertEquals(Map.of(vm, (long) run.events().size()), run.report().byVm());
    }
}
