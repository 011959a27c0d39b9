package dev.mmureplay.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmureplay.replayer.cli.MmuReplayCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code mmu-replay replay}: the README's main command, its outputs, and its agreement with {@code diff}. */
class ReplayCommandTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String PAE = "../replayer/src/test/resources/scenarios/no_reset_on_pae_toggle.trace";
    static final String BASIC = "../mmu-model/src/test/resources/traces/long_user_basic.trace";

    @TempDir
    Path tmp;

    record Result(int exit, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void theDefaultParallelismIsTwoTasksPerCoreAtMostEight() {
        assertEquals(2, ReplayCommand.defaultParallelism(1));
        assertEquals(4, ReplayCommand.defaultParallelism(2));
        assertEquals(8, ReplayCommand.defaultParallelism(4));
        assertEquals(8, ReplayCommand.defaultParallelism(64));
    }

    @Test
    void replayWritesTheSummaryTheReportAndTheAlerts() throws Exception {
        Path dir = tmp.resolve("out");
        Result r = run("replay", BASIC, PAE, "--out", dir.toString(), "-p", "2", "--progress", "never");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("upstream vs no-reset-on-pae-toggle"), r.out());
        assertTrue(r.out().contains("reconciliation: "), r.out());
        for (String f : List.of("summary.json", "report.html", "alerts.jsonl", "alerts.avro", "deadletters.jsonl",
                "digests.jsonl")) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
        JsonNode s = JSON.readTree(Files.readString(dir.resolve("summary.json")));
        assertEquals("embedded", s.get("mode").asText());
        assertEquals(2, s.get("vms").asInt());
        assertEquals(1, s.get("divergences").get("PROFILE_VS_PROFILE").asLong());
        assertEquals(2 * 3, s.get("digests").size(), "a final digest per vm and profile");
        String html = Files.readString(dir.resolve("report.html"));
        assertTrue(html.contains("<svg") && html.contains("no-reset-on-pae-toggle"));
    }

    @Test
    void jsonOnStdoutHasEventsDivergencesAndDigests() throws Exception {
        Result r = run("replay", PAE, "--json", "--out", tmp.resolve("j").toString(), "--progress", "never");
        assertEquals(0, r.exit(), r.err());
        JsonNode s = JSON.readTree(r.out());
        assertEquals(11, s.get("events").asLong());
        assertEquals(1, s.get("divergences").get("total").asLong());
        assertEquals(3, s.get("digests").size());
    }

    @Test
    void profileAlertsEqualWhatDiffFindsLocally() throws Exception {
        Path replayOut = tmp.resolve("replay");
        Path diffOut = tmp.resolve("diff");
        Result r = run("replay", PAE, "--profiles", "upstream,no-reset-on-pae-toggle", "--out", replayOut.toString(),
                "--progress", "never");
        assertEquals(0, r.exit(), r.err());
        Result d = run("diff", PAE, "--profiles", "upstream,no-reset-on-pae-toggle", "--out", diffOut.toString());
        assertEquals(0, d.exit(), d.err());
        assertSameProfileAlerts(diffOut, replayOut, "the same alert records, field for field");
    }

    /**
     * synth nx-recovery without its host header line: the client infers tdp, NPT and nxHugePages from the ingested
     * events, says so on stderr, and the job replays on that host — the same profile alerts as diff finds.
     */
    @Test
    void theHostIsInferredOnTheClientFromTheIngestedEvents() throws Exception {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        dev.mmureplay.replayer.synth.Synth.generate("nx-recovery", 0, 1, b);
        Path bare = tmp.resolve("nx.trace");
        Files.writeString(bare, b.toString(java.nio.charset.StandardCharsets.ISO_8859_1)
                .replaceFirst("# mmu-replay host:[^\n]*\n", ""), java.nio.charset.StandardCharsets.ISO_8859_1);
        Path replayOut = tmp.resolve("replay");
        Path diffOut = tmp.resolve("diff");
        Result r = run("replay", bare.toString(), "--profiles", "upstream,tdp-zap-sp-may-yield", "--out",
                replayOut.toString(), "--progress", "never", "--no-noise-replica");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("mmu-replay replay: host: tdp=true (inferred), tdpEncoding=NPT (inferred),"
                + " nxHugePages=true (inferred); other settings default"), r.err());
        assertTrue(r.err().contains("mmu-replay replay: inferred nxHugePages=true from seq 26 of "
                + replayOut.resolve("input.avro")), r.err());
        Result d = run("diff", bare.toString(), "--profiles", "upstream,tdp-zap-sp-may-yield", "--out",
                diffOut.toString());
        assertEquals(0, d.exit(), d.err());
        assertSameProfileAlerts(diffOut, replayOut, "replayed on the inferred host, as diff does");
    }

    /** diff's alerts.jsonl equals the PROFILE_VS_PROFILE lines of replay's, line for line (and is not empty). */
    static void assertSameProfileAlerts(Path diffOut, Path replayOut, String why) throws Exception {
        List<String> fromDiff = Files.readAllLines(diffOut.resolve("alerts.jsonl"));
        List<String> fromReplay = new ArrayList<>();
        for (String line : Files.readAllLines(replayOut.resolve("alerts.jsonl"))) {
            if (JSON.readTree(line).get("kind").asText().equals("PROFILE_VS_PROFILE")) {
                fromReplay.add(line);
            }
        }
        assertTrue(!fromDiff.isEmpty());
        assertEquals(fromDiff, fromReplay, why);
    }

    @Test
    void badTraceLinesAreDeadLettersAndTheCountsReconcile() throws Exception {
        Path bad = tmp.resolve("mixed.trace");
        java.util.List<String> lines = new ArrayList<>(Files.readAllLines(Path.of(PAE)));
        lines.add(14, "garbage line");
        lines.add("\u0001\u0002 binary");
        Files.write(bad, lines);
        Path dir = tmp.resolve("bad");
        Result r = run("replay", bad.toString(), "--out", dir.toString(), "--progress", "never");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("reconciliation: 13 records = 11 processed + 2 dead letters + 0 duplicates dropped"),
                r.out());
        List<String> dead = Files.readAllLines(dir.resolve("deadletters.jsonl"));
        assertEquals(2, dead.size());
        assertTrue(dead.get(0).contains("mixed.trace") && dead.get(0).contains("\"line\": 15"), dead.get(0));
        JsonNode s = JSON.readTree(Files.readString(dir.resolve("summary.json")));
        assertEquals(13, s.get("inputRecords").asLong());
        assertEquals(2, s.get("deadLetters").asLong());
    }

    @Test
    void anUnknownProfileIsAUsageError() {
        Result r = run("replay", PAE, "--profiles", "upstream,nope", "--out", tmp.toString());
        assertEquals(MmuReplayCli.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("unknown profile 'nope'"), r.err());
    }

    @Test
    void neitherTracesNorKafkaIsAUsageError() {
        Result r = run("replay", "--out", tmp.toString());
        assertEquals(MmuReplayCli.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("give trace files or --kafka"), r.err());
    }

    @Test
    void followWithoutKafkaOutIsAUsageError() {
        Result r = run("replay", "--kafka", "localhost:1", "--follow", "--out", tmp.toString());
        assertEquals(MmuReplayCli.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("--follow needs --kafka and --kafka-out"), r.err());
    }

    @Test
    void helpListsTheOptions() {
        Result r = run("replay", "--help");
        assertEquals(0, r.exit());
        for (String o : List.of("--profiles", "--parallelism", "--out", "--json", "--kafka", "--cluster",
                "--kafka-out", "--max-pending")) {
            assertTrue(r.out().contains(o), o);
        }
    }

    @Test
    void failOnDivergenceExitsWith4() {
        Result r = run("replay", PAE, "--fail-on-divergence", "--out", tmp.toString(), "--progress", "never");
        assertEquals(MmuReplayCli.EXIT_CHECK_FAILED, r.exit(), r.err());
    }
}
