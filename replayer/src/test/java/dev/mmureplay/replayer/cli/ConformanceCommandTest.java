package dev.mmureplay.replayer.cli;

import dev.mmureplay.replayer.testutil.CliRun;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmureplay.replayer.testutil.Traces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code mmu-replay conformance} end to end: the real parser, the adapter and the model over the real traces. */
class ConformanceCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;


    private CliRun run(String... args) {
        List<String> all = new ArrayList<>(List.of("conformance", "--dead-letters",
                tmp.resolve("dead.jsonl").toString()));
        all.addAll(List.of(args));
        return CliRun.of(all);
    }

    private static String[] allTraces(String... more) {
        List<String> a = Traces.NAMES.stream().map(n -> Traces.path(n).toString()).collect(Collectors.toList());
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    private Path withLines(String name, String trace, int afterLine, String replaceOrInsert, boolean replace)
            throws IOException {
        List<String> lines = new ArrayList<>(Traces.lines(trace));
        if (replace) {
            lines.set(afterLine, replaceOrInsert);
        } else {
            lines.add(afterLine, replaceOrInsert);
        }
        Path p = tmp.resolve(name);
        Files.write(p, lines);
        return p;
    }

    @Test
    void everyRealTraceIsExplainedToAtLeast999PerMille() throws IOException {
        CliRun r = run(allTraces("--json"));
        assertEquals(0, r.exit(), r.err());
        JsonNode traces = r.json().get("traces");
        assertEquals(Traces.NAMES.size(), traces.size());
        for (JsonNode t : traces) {
            assertTrue(t.get("explainedRatio").asDouble() >= 0.999, t.get("trace") + " " + t.get("explainedRatio"));
            assertEquals(0, t.get("mismatched").asLong(), t.get("trace").asText());
        }
        assertTrue(r.json().get("explainedRatio").asDouble() >= 0.999);
    }

    @Test
    void privateFaultScenarioConformsUpstreamOnItsSnpHost() throws IOException {
        // synth private-fault (seed 1): every mapped fault, MMIO SPTE and predicted -EFAULT exit explained; learned:
        // the first TDP root and the first MMIO SPTE's memslot generation
        Path t = tmp.resolve("pf.trace");
        try (java.io.OutputStream o = Files.newOutputStream(t)) {
            dev.mmureplay.replayer.synth.Synth.generate("private-fault", 0, 1, o);
        }
        JsonNode j = run(t.toString(), "--json", "--host", "tdp=true", "--host", "mmioCaching=true").json();
        assertEquals(942, j.get("effects").asLong());
        assertEquals(940, j.get("explained").asLong());
        assertEquals(2, j.get("learned").asLong());
        assertEquals(1.0, j.get("explainedRatio").asDouble(), 1e-12);
        assertEquals(189, j.get("traces").get(0).get("kinds").get("kvm_userspace_exit").get("explained").asLong());
    }

    @Test
    void jsonHasTotalsAndTheSameFieldsPerTrace() throws IOException {
        JsonNode j = run(allTraces("--json")).json();
        List<String> fields = List.of("events", "effects", "explained", "mismatched", "learned", "explainedRatio");
        long effects = 0;
        for (JsonNode t : j.get("traces")) {
            for (String f : fields) {
                assertTrue(t.has(f), t.get("trace") + " lacks " + f);
            }
            assertTrue(t.get("kinds").isObject());
            assertTrue(t.get("digests").isObject());
            effects += t.get("effects").asLong();
        }
        for (String f : fields) {
            assertTrue(j.has(f), "total lacks " + f);
        }
        assertEquals(effects, j.get("effects").asLong());
        assertEquals(1043, j.get("effects").asLong());
        long denominator = j.get("effects").asLong() - j.get("learned").asLong();
        assertEquals((double) j.get("explained").asLong() / denominator, j.get("explainedRatio").asDouble(), 1e-12);
    }

    @Test
    void recordedEffectsAreCountedByType() throws IOException {
        JsonNode kinds = run(Traces.path("long_user_basic.trace").toString(), "--json").json().get("kinds");
        assertEquals(61, kinds.get("kvm_mmu_set_spte").get("effects").asLong());
        assertEquals(61, kinds.get("kvm_mmu_set_spte").get("explained").asLong());
        assertEquals(1, kinds.get("kvm_mmu_get_page").get("learned").asLong());
    }

    @Test
    void minExplainedAboveOneExitsWithCheckFailed() {
        CliRun r = run(allTraces("--min-explained", "1.01"));
        assertEquals(MmuReplayCli.EXIT_CHECK_FAILED, r.exit());
        assertTrue(r.err().contains("explainedRatio below 1.01"), r.err());
    }

    @Test
    void minExplainedThatEveryTraceMeetsExitsZero() {
        assertEquals(MmuReplayCli.EXIT_OK, run(allTraces("--min-explained", "0.999")).exit());
    }

    @Test
    void aCorruptLineIsADeadLetterAndTheTraceIsStillReplayed() throws IOException {
        Path bad = withLines("bad.trace", "long_user_basic.trace", 100, "kvmrec-8839 [000] garbage \u0001 here", false);
        CliRun r = run(bad.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode t = r.json().get("traces").get(0);
        assertEquals(1, t.get("deadLetters").asLong());
        assertEquals(1, r.json().get("deadLetters").asLong());
        assertEquals(228, t.get("effects").asLong());
        assertTrue(t.get("explainedRatio").asDouble() >= 0.999);
        assertTrue(Files.readString(tmp.resolve("dead.jsonl")).contains("\"line\":101"));
        assertTrue(r.err().contains("1 bad line(s)"), r.err());
    }

    @Test
    void moreBadLinesThanMaxErrorsExitsTooManyErrors() throws IOException {
        Path bad = withLines("bad.trace", "long_user_basic.trace", 100, "garbage", false);
        assertEquals(MmuReplayCli.EXIT_TOO_MANY_ERRORS, run(bad.toString(), "--max-errors", "0").exit());
    }

    @Test
    void twoRunsOverTheSameTraceGiveEqualDigests() throws IOException {
        String trace = Traces.path("long_kernel_emulated.trace").toString();
        JsonNode a = run(trace, "--json").json().get("traces").get(0).get("digests");
        JsonNode b = run(trace, "--json").json().get("traces").get(0).get("digests");
        assertEquals(a, b);
        assertEquals(16, a.get("long_kernel_emulated").asText().length());
    }

    @Test
    void aMismatchIsReportedWithSeqAndExpectedVersusRecordedFields() throws IOException {
        // line 28: kvm_mmu_set_spte: gfn 10 spte 123b48a25 (r-xu) ... with the W bit's neighbour bit 1 set
        String line = Traces.lines("long_user_basic.trace").get(27);
        assertTrue(line.contains("spte 123b48a25"), line);
        Path mutated = withLines("mut.trace", "long_user_basic.trace", 27, line.replace("123b48a25", "123b48a27"),
                true);
        JsonNode t = run(mutated.toString(), "--json").json().get("traces").get(0);
        assertEquals(1, t.get("mismatched").asLong());
        JsonNode ex = t.get("mismatches").get(0);
        assertEquals("kvm_mmu_set_spte", ex.get("kind").asText());
        assertEquals(15, ex.get("seq").asLong());
        JsonNode field = ex.get("fields").get(0);
        assertEquals("spte", field.get("field").asText());
        assertTrue(field.get("expected").asText().startsWith("a25"), field.toString());
        assertTrue(field.get("recorded").asText().startsWith("a27"), field.toString());
    }

    @Test
    void anAvroFileWrittenByIngestGivesTheSameReportAsItsText() throws IOException {
        String trace = Traces.path("long_user_memslot.trace").toString();
        Path avro = tmp.resolve("memslot.avro");
        StringWriter sink = new StringWriter();
        assertEquals(0, MmuReplayCli.run(new String[] {"ingest", trace, "-o", avro.toString()},
                new PrintWriter(sink), new PrintWriter(sink)), sink.toString());
        JsonNode fromText = run(trace, "--json").json().get("traces").get(0);
        JsonNode fromAvro = run(avro.toString(), "--json").json().get("traces").get(0);
        for (String f : List.of("events", "effects", "explained", "mismatched", "learned", "digests", "kinds")) {
            assertEquals(fromText.get(f), fromAvro.get(f), f);
        }
    }

    @Test
    void splitByTgidReplaysEachVmInItsOwnModel() throws IOException {
        // two recordings in one file, with the record-tgid column: each VM must end in the state it reaches alone
        List<String> lines = new ArrayList<>();
        for (String name : List.of("long_user_basic.trace", "long_user_many_pages.trace")) {
            for (String l : Traces.lines(name)) {
                if (!l.startsWith("#")) {
                    lines.add(l.replaceFirst("-(\\d+) +\\[", "-$1 ($1) ["));
                }
            }
        }
        Path both = tmp.resolve("both.trace");
        Files.write(both, lines);
        JsonNode digests = run(both.toString(), "--split-by", "tgid", "--json").json().get("traces").get(0)
                .get("digests");
        assertEquals(2, digests.size());
        JsonNode basic = run(Traces.path("long_user_basic.trace").toString(), "--json").json().get("traces").get(0)
                .get("digests");
        JsonNode many = run(Traces.path("long_user_many_pages.trace").toString(), "--json").json().get("traces")
                .get(0).get("digests");
        assertEquals(basic.get("long_user_basic"), digests.get("both-8839"));
        assertEquals(many.get("long_user_many_pages"), digests.get("both-8850"));
        assertNotEquals(digests.get("both-8839"), digests.get("both-8850"));
    }

    @Test
    void textReportShowsPerTraceTablesAndTheTotal() {
        CliRun r = run(Traces.path("real_io.trace").toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("kvm_mmu_prepare_zap_page"), r.out());
        assertTrue(r.out().contains("explainedRatio 1.0000"), r.out());
        assertTrue(r.out().contains("digest real_io "), r.out());
        assertTrue(r.out().contains("total: 1 trace(s)"), r.out());
    }

    @Test
    void helpShowsExamples() {
        CliRun r = run("--help");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("Examples:"), r.out());
        assertTrue(r.out().contains("--min-explained"), r.out());
    }

    @Test
    void aMissingTraceIsAUsageError() {
        CliRun r = run(tmp.resolve("nope.trace").toString());
        assertEquals(MmuReplayCli.EXIT_USAGE, r.exit());
        assertFalse(r.err().isEmpty());
    }
}
