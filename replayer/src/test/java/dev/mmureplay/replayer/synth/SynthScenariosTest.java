package dev.mmureplay.replayer.synth;

import dev.mmureplay.avro.GenericEvent;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.IngestReport;
import dev.mmureplay.replayer.testutil.MemorySinks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every scenario: deterministic bytes, the raw tracefs layout, and a clean ingest through the real parser. */
class SynthScenariosTest {

    static List<String> scenarios() {
        return Synth.scenarios();
    }

    @Test
    void allSevenScenariosAreRegistered() {
        assertEquals(List.of("mmio-gen", "mmio-gen-wrap", "nonpaging-pae", "nx-recovery", "pae-toggle", "private-fault", "scale"),
                Synth.scenarios());
        assertThrows(IllegalArgumentException.class, () -> SynthTestSupport.bytes("nope", 10, 1));
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void sameSeedGivesTheSameBytes(String scenario) {
        byte[] a = SynthTestSupport.bytes(scenario, 20_000, 42);
        byte[] b = SynthTestSupport.bytes(scenario, 20_000, 42);
        assertArrayEquals(a, b);
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void differentSeedGivesDifferentBytes(String scenario) {
        byte[] a = SynthTestSupport.bytes(scenario, 20_000, 1);
        byte[] b = SynthTestSupport.bytes(scenario, 20_000, 2);
        assertFalse(Arrays.equals(a, b));
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void aShorterRunIsAPrefixOfALongerOneExceptTheHeaderCount(String scenario) {
        List<String> shorter = SynthTestSupport.lines(SynthTestSupport.bytes(scenario, 3_000, 5));
        List<String> longer = SynthTestSupport.lines(SynthTestSupport.bytes(scenario, 6_000, 5));
        assertEquals(longer.subList(13, 13 + 3_000), shorter.subList(13, shorter.size()));
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void rawTracefsLayoutWithStrictlyIncreasingTimestamps(String scenario) {
        List<String> lines = SynthTestSupport.lines(SynthTestSupport.bytes(scenario, 0, 3));
        long n = Synth.defaultEvents(scenario);
        assertEquals(13 + n, lines.size());   // 12 tracefs header lines + the host header line
        assertEquals("# tracer: nop", lines.get(0));
        assertEquals("# entries-in-buffer/entries-written: " + n + "/" + n + "   #P:2", lines.get(2));
        assertEquals(dev.mmureplay.model.HostHeader.format(Synth.host(scenario)), lines.get(12));
        long last = -1;
        for (String l : lines.subList(13, lines.size())) {
            // %16s-%-7d [%03d] %5s %5lu.%06lu: event: payload
            assertTrue(l.matches("^[ -~]{16}-\\d+ {0,6} \\[\\d{3}\\] [.dDbXNnpLlBZzHhs0-9a-f]{5} +\\d+\\.\\d{6}: [a-z_]+: .*$"),
                    () -> "layout: " + l);
            int dash = l.indexOf('-', 15);
            assertTrue(l.charAt(16) == '-' || dash == 16, l);
            String ts = l.replaceFirst("^.{16}-\\d+ +\\[\\d{3}\\] \\S{5} +(\\d+\\.\\d{6}): .*$", "$1");
            long us = Long.parseLong(ts.replace(".", ""));
            assertTrue(us > last, () -> "timestamps must increase: " + l);
            last = us;
        }
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void ingestsWithZeroDeadLettersAndNoGenericRecords(String scenario) throws Exception {
        byte[] trace = SynthTestSupport.bytes(scenario, 0, 11);
        MemorySinks.Run run = SynthTestSupport.ingest(scenario, trace);
        IngestReport r = run.report();

        assertEquals(List.of(), run.deadLetters().stream().map(d -> d.getPlace().getLine() + ": " + d.getReason()
                + " | " + d.getRaw()).toList());
        assertEquals(0, r.generic());
        for (TraceEvent e : run.events()) {
            assertFalse(e.getPayload() instanceof GenericEvent, () -> "generic: " + e);
        }
        assertEquals(Synth.defaultEvents(scenario), r.events());
        assertEquals(13, r.skipped(), "12 tracefs header lines + the host header line");
        assertTrue(r.reconciles());
        long seq = -1;
        for (TraceEvent e : run.events()) {
            assertTrue(e.getSeq() > seq);
            seq = e.getSeq();
        }
    }
}
