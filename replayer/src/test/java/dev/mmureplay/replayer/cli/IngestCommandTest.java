package dev.mmureplay.replayer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.sink.AvroFiles;
import dev.mmureplay.replayer.sink.JsonLinesDeadLetterSink;
import dev.mmureplay.schemas.AvroCodec;
import dev.mmureplay.testing.EmbeddedKafka;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ingest and stats commands as a user runs them: arguments in, exit code, stdout, files out. */
class IngestCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    record Run(int exit, String out, String err) {
        JsonNode json() throws IOException {
            return JSON.readTree(out);
        }
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = MmuReplayCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    static Path realTrace(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = IngestCommandTest.class.getResourceAsStream("/traces/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    @Test
    void ingestOfARealTraceWritesEveryEventAndPrintsAReconciledJsonSummary(@TempDir Path dir) throws IOException {
        Path trace = realTrace(dir, "long_user_basic.trace");
        Path avro = dir.resolve("out/basic.avro");

        Run r = cli("ingest", trace.toString(), "-o", avro.toString(), "--json");

        assertEquals(0, r.exit(), r.err());
        JsonNode s = r.json();
        assertEquals(791, s.get("linesRead").asLong());
        assertEquals(779, s.get("events").asLong());
        assertEquals(0, s.get("deadLetters").asLong());
        assertEquals(12, s.get("skipped").asLong());
        assertEquals(0, s.get("generic").asLong());
        assertEquals(61, s.get("byType").get("kvm_mmu_set_spte").asLong());
        assertEquals(779, s.get("byVm").get("long_user_basic").asLong());
        List<TraceEvent> events = AvroFiles.readAll(avro);
        assertEquals(779, events.size());
        for (int i = 0; i < events.size(); i++) {
            assertEquals(i, events.get(i).getSeq(), "seq is dense from 0");
        }
        assertFalse(Files.exists(dir.resolve("out/basic.deadletters.jsonl")), "no dead-letter file on a clean run");
    }

    @Test
    void statsCountsWhatIngestWrote(@TempDir Path dir) throws IOException {
        Path avro = dir.resolve("all.avro");
        List<String> args = new ArrayList<>(List.of("ingest", "-o", avro.toString(), "--json"));
        for (String t : List.of("long_user_memslot.trace", "real_io.trace")) {
            args.add(realTrace(dir, t).toString());
        }
        Run ingest = cli(args.toArray(String[]::new));
        assertEquals(0, ingest.exit(), ingest.err());

        Run stats = cli("stats", avro.toString(), "--json");

        assertEquals(0, stats.exit(), stats.err());
        JsonNode s = stats.json();
        assertEquals(ingest.json().get("events").asLong(), s.get("events").asLong());
        assertEquals(ingest.json().get("byType"), s.get("byType"));
        assertEquals(2, s.get("vms").asInt());
        assertEquals(0, s.get("byVm").get("real_io").get("seqGaps").asLong());
        assertEquals(25, s.get("byVm").get("real_io").get("lastSeq").asLong());
        assertTrue(s.get("spanNs").asLong() > 0);
    }

    @Test
    void badLinesBecomeDeadLettersWithFileAndLineBesideTheOutput(@TempDir Path dir) throws IOException {
        Path trace = dir.resolve("damaged.trace");
        List<String> lines = new ArrayList<>(Files.readAllLines(realTrace(dir, "real_io.trace")));
        lines.set(13, lines.get(13).replace("kvm_mmu_get_page: sp gen 0 gfn 0", "kvm_mmu_get_page: sp gen 0 gfn zz"));
        lines.add(20, "this is not a trace line");
        Files.write(trace, lines);
        Path avro = dir.resolve("damaged.avro");

        Run r = cli("ingest", trace.toString(), "-o", avro.toString(), "--json");

        assertEquals(0, r.exit(), r.err());
        JsonNode s = r.json();
        assertEquals(2, s.get("deadLetters").asLong());
        assertEquals(s.get("linesRead").asLong(),
                s.get("events").asLong() + s.get("deadLetters").asLong() + s.get("skipped").asLong());
        List<DeadLetter> dead = JsonLinesDeadLetterSink.read(dir.resolve("damaged.deadletters.jsonl"));
        assertEquals(2, dead.size());
        assertEquals(14L, dead.get(0).getPlace().getLine());
        assertEquals(trace.toString(), dead.get(0).getPlace().getOrigin());
        assertTrue(dead.get(0).getReason().contains("gfn"), dead.get(0).getReason());
        assertEquals(21L, dead.get(1).getPlace().getLine());
        assertEquals("this is not a trace line",
                StandardCharsets.UTF_8.decode(dead.get(1).getRaw()).toString());
        assertTrue(r.err().contains("2 bad line(s)"), r.err());
    }

    @Test
    void moreBadLinesThanMaxErrorsExitsWith3(@TempDir Path dir) throws IOException {
        Path trace = dir.resolve("garbage.trace");
        Files.writeString(trace, "garbage one\ngarbage two\n");

        Run r = cli("ingest", trace.toString(), "--max-errors", "1", "--dead-letters", dir.resolve("d.jsonl").toString());

        assertEquals(3, r.exit());
        assertTrue(r.err().contains("--max-errors"), r.err());
    }

    @Test
    void usageErrorsExitWith2AndNameTheProblem(@TempDir Path dir) {
        Run unknownOption = cli("ingest", "--no-such-option", "x.trace");
        assertEquals(2, unknownOption.exit());

        Run missingFile = cli("ingest", dir.resolve("missing.trace").toString());
        assertEquals(2, missingFile.exit());
        assertTrue(missingFile.err().contains("missing.trace"), missingFile.err());

        Run badSplit = cli("ingest", "--split-by", "thread", "x.trace");
        assertEquals(2, badSplit.exit());
        assertTrue(badSplit.err().contains("--split-by"), badSplit.err());

        assertEquals(2, cli().exit(), "a command is required");
        assertEquals(2, cli("bench", "--size", "lots").exit());
    }

    @Test
    void benchReportsEveryCaseAgainstBothLineReadingBaselines(@TempDir Path dir) throws Exception {
        Run r = cli("bench", "--size", "2m", "--rounds", "1", "--codecs=", "--traces", "../examples/traces",
                "--work", dir.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        var results = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out()).get("results");
        assertEquals("bare line reading (BufferedReader.readLine)", results.get(1).get("case").asText());
        double readLine = results.get(1).get("linesPerCpuSec").asDouble();
        double bare = results.get(0).get("linesPerCpuSec").asDouble();
        for (var c : results) {
            double rate = c.get("linesPerCpuSec").asDouble();
            assertTrue(rate > 0, c.toString());
            assertEquals(rate / bare, c.get("ratioToBareLineReadingPerCore").asDouble(), 1e-9, c.toString());
            assertEquals(rate / readLine, c.get("ratioToReadLinePerCore").asDouble(), 1e-9, c.toString());
        }
    }

    @Test
    void everyCommandHasHelp() {
        for (String cmd : List.of("ingest", "stats", "bench", "conformance")) {
            Run r = cli(cmd, "--help");
            assertEquals(0, r.exit(), cmd);
            assertTrue(r.out().startsWith("Usage: mmu-replay " + cmd), cmd + ": " + r.out());
        }
        Run top = cli("--help");
        assertEquals(0, top.exit());
        assertTrue(top.out().contains("ingest") && top.out().contains("stats"));
    }

    @Test
    void standardInputIsReadWhenTheTraceIsADash(@TempDir Path dir) throws IOException {
        byte[] trace = Files.readAllBytes(realTrace(dir, "real_io.trace"));
        InputStream saved = System.in;
        Run r;
        try {
            System.setIn(new ByteArrayInputStream(trace));
            r = cli("ingest", "-", "--vm", "live", "-o", dir.resolve("live.avro").toString(), "--json");
        } finally {
            System.setIn(saved);
        }
        assertEquals(0, r.exit(), r.err());
        assertEquals(26, r.json().get("byVm").get("live").asLong());
    }

    @Test
    void kafkaOutputReadBackFromARealBrokerEqualsTheFileOutput(@TempDir Path dir) throws IOException {
        EmbeddedKafka kafka = EmbeddedKafka.get();
        String topic = EmbeddedKafka.uniqueTopic("ingest");
        Path avro = dir.resolve("both.avro");
        List<String> args = new ArrayList<>(List.of("ingest", "-o", avro.toString(),
                "--kafka", kafka.bootstrapServers(), "--topic", topic, "--json"));
        for (String t : List.of("long_user_basic.trace", "long_user_memslot.trace", "real_io.trace")) {
            args.add(realTrace(dir, t).toString());
        }

        Run r = cli(args.toArray(String[]::new));

        assertEquals(0, r.exit(), r.err());
        List<TraceEvent> fromFile = AvroFiles.readAll(avro);
        AvroCodec<TraceEvent> codec = AvroCodec.traceEvents();
        List<ConsumerRecord<byte[], byte[]>> records = kafka.readAll(topic);
        assertEquals(fromFile.size(), records.size());
        // Kafka keeps order per partition; one VM lives in one partition, so compare per VM, record for record.
        Map<String, List<TraceEvent>> fileByVm = new LinkedHashMap<>();
        fromFile.forEach(e -> fileByVm.computeIfAbsent(e.getVm(), k -> new ArrayList<>()).add(e));
        Map<String, List<TraceEvent>> kafkaByVm = new LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> rec : records) {
            TraceEvent e = codec.decode(rec.value());
            assertEquals(e.getVm(), new String(rec.key(), StandardCharsets.UTF_8), "key = vm");
            kafkaByVm.computeIfAbsent(e.getVm(), k -> new ArrayList<>()).add(e);
        }
        assertEquals(fileByVm.keySet(), kafkaByVm.keySet());
        for (String vm : fileByVm.keySet()) {
            assertEquals(fileByVm.get(vm), kafkaByVm.get(vm), vm);
        }
    }
}
