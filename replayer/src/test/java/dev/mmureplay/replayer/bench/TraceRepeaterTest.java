package dev.mmureplay.replayer.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceRepeaterTest {

    private static final String HEADER = "# tracer: nop\n#\n";
    private static final String L1 =
            "          kvmrec-8839    [000] ...1.   569.264748: tracing_mark_write: kvmrec start 0";
    private static final String L2 =
            " kvm-nx-lpage-re-9737    [001] ...1.   620.784020: kvm_mmu_zap_all_fast: kvm-mmu-valid-gen 0 used_pages 5";

    @Test
    void repetitionsKeepTheLinesAndShiftTimestampsPastThePreviousRepetition(@TempDir Path dir) throws IOException {
        Path template = dir.resolve("t.trace");
        Files.writeString(template, HEADER + L1 + "\n" + L2 + "\n");
        TraceRepeater repeater = TraceRepeater.fromTraces(List.of(template));
        assertEquals(2, repeater.templateLines());

        Path out = dir.resolve("big.trace");
        long lines = repeater.write(out, 400);

        List<String> written = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertEquals(lines, written.size());
        assertTrue(Files.size(out) >= 400);
        assertEquals(L1, written.get(2));
        assertEquals(L2, written.get(3));
        // second repetition: same text, timestamps moved by the span (51.519272 s) + 1 ms
        assertEquals(L1.replace("569.264748", "620.785020"), written.get(4));
        assertEquals(L2.replace("620.784020", "672.304292"), written.get(5));
    }

    @Test
    void timestampsPrintLikeTheKernel() {
        byte[] buf = new byte[32];
        assertEquals("    0.000001", new String(buf, 0, TraceRepeater.formatTimestamp(1, buf), StandardCharsets.US_ASCII));
        assertEquals("  569.264748",
                new String(buf, 0, TraceRepeater.formatTimestamp(569_264_748L, buf), StandardCharsets.US_ASCII));
        assertEquals("123456.000000",
                new String(buf, 0, TraceRepeater.formatTimestamp(123_456_000_000L, buf), StandardCharsets.US_ASCII));
        assertEquals("10000.000000",
                new String(buf, 0, TraceRepeater.formatTimestamp(10_000_000_000L, buf), StandardCharsets.US_ASCII));
    }
}
