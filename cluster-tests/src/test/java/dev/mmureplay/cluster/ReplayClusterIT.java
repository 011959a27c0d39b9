package dev.mmureplay.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.jobs.ReplayOptions;
import dev.mmureplay.jobs.TestTraces;
import dev.mmureplay.jobs.cli.Main;
import dev.mmureplay.schemas.AvroCodec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tier 3 with the product's own job: {@code mmu-replay replay --kafka ... --cluster HOST:PORT} submits the replay job
 * (the {@code jobs} module's job jar) to a real standalone cluster of 2 TaskManagers reading a broker process; the
 * alerts (read {@code read_committed}) equal the local diff, also when a TaskManager is killed mid-replay.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplayClusterIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration TIMEOUT = Duration.ofSeconds(240);

    private BrokerAndCluster processes;
    private KafkaBrokerProcess broker;
    private FlinkStandaloneCluster cluster;
    private List<TraceEvent> fleet;
    private ReplayOptions options;
    private List<String> expected;

    @RegisterExtension
    final TestWatcher logTailsOnFailure = BrokerAndCluster.logTailsOnFailure(() -> processes);

    @BeforeAll
    void start() throws Exception {
        processes = BrokerAndCluster.start(2);
        broker = processes.broker;
        cluster = processes.cluster;
        fleet = TestTraces.fleet();
        options = TestTraces.options();
        expected = TestTraces.localDiff(TestTraces.PROFILES, options.modelConfig(), fleet);
        assertFalse(expected.isEmpty());
    }

    @AfterAll
    void stop() {
        if (processes != null) {
            processes.close();
        }
    }

    private String topicWithFleet(String name, List<TraceEvent> events) throws Exception {
        broker.createTopic(name, 4);
        for (String suffix : List.of(".alerts", ".dead", ".digests", ".digests.summary")) {
            broker.createTopic(name + suffix, 1);
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        AvroCodec<TraceEvent> codec = AvroCodec.traceEvents();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (TraceEvent e : events) {
                producer.send(new ProducerRecord<>(name, e.getVm().getBytes(StandardCharsets.UTF_8),
                        codec.encode(e)));
            }
            producer.flush();
        }
        return name;
    }

    private record Run(int exit, String out, String err) {
    }

    private Run replay(String topic, Path out) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        String rest = cluster.restUrl().replaceFirst("^https?://", "");
        int exit = Main.run(new String[] {"replay", "--kafka", broker.bootstrapServers(), "--topic", topic,
            "--group", "g-" + topic, "--cluster", rest, "--job-jar", System.getProperty("cluster.replayJobJar"),
            "--kafka-out", "--alerts-topic", topic + ".alerts", "--dead-letter-topic", topic + ".dead",
            "--digest-topic", topic + ".digests", "--profiles", String.join(",", TestTraces.PROFILES),
            "--host", "mmioCaching=true", "-p", "2", "--checkpoint-interval", "300", "--out", out.toString(),
            "--json"}, new PrintWriter(o, true), new PrintWriter(e, true));
        return new Run(exit, o.toString(), e.toString());
    }

    private List<String> profileAlertsOnKafka(String topic) {
        List<String> out = new ArrayList<>();
        for (byte[] value : KafkaRecords.readCommittedBytes(broker.bootstrapServers(), topic + ".alerts",
                Duration.ofSeconds(90))) {
            DivergenceAlert a = AvroCodec.alerts().decode(value);
            if (a.getKind() == dev.mmureplay.avro.DivergenceKind.PROFILE_VS_PROFILE) {
                out.add(TestTraces.key(a));
            }
        }
        out.sort(null);
        return out;
    }

    @Test
    @Order(1)
    void replayOnTheClusterFindsWhatTheLocalDiffFinds() throws Exception {
        String topic = topicWithFleet("replay-plain", fleet);
        Path out = Files.createTempDirectory("replay-cluster");
        Run r = replay(topic, out);
        assertEquals(0, r.exit(), r.err() + cluster.logTails());
        JsonNode summary = JSON.readTree(r.out());
        assertEquals("cluster", summary.get("mode").asText());
        assertEquals(fleet.size(), summary.get("events").asLong());
        assertEquals(expected, profileAlertsOnKafka(topic), "alerts on Kafka (read_committed) = local diff");
    }

    @Test
    @Order(2)
    void aTaskManagerKilledMidReplayChangesNoAlertAndNoDigest() throws Exception {
        // a longer input: the fleet and a large synthetic VM, so the kill lands mid-replay
        List<TraceEvent> big = new ArrayList<>(fleet);
        big.addAll(TestTraces.synth("scale", 500_000, 11));   // several seconds of replay even on an idle machine
        String topic = topicWithFleet("replay-kill", big);
        // a spare TaskManager: in the failover after the kill, Flink 2.2.1 can take down a surviving TaskManager too
        // (CollectSinkFunction.accumulateFinalResults NPE when a not-yet-opened collect sink is cancelled: "FATAL -
        // exception in exception handler"), which would leave the job one slot short
        cluster.startTaskManager();
        Path out = Files.createTempDirectory("replay-cluster-kill");
        CompletableFuture<Run> run = CompletableFuture.supplyAsync(() -> replay(topic, out));
        String job = null;
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (job == null || cluster.completedCheckpoints(job) < 1) {
            assertTrue(System.nanoTime() < deadline, "no running job with a checkpoint" + cluster.logTails());
            assertFalse(run.isDone() && job == null, () -> "the replay ended before the kill: " + run.join());
            List<String> running = cluster.jobs("RUNNING");
            job = running.isEmpty() ? null : running.get(0);
            Thread.sleep(100);
        }
        // the job's own metrics reach Prometheus (what a Grafana dashboard reads)
        String scraped = String.join("\n", cluster.scrapePrometheus().values());
        assertTrue(scraped.contains("mmureplay_recordsIn") && scraped.contains("mmureplay_steps"),
                "replay metrics exported to Prometheus");
        int victim = cluster.taskManagerRunning(job);
        assertTrue(victim >= 0, "no TaskManager runs a subtask of the replay any more" + cluster.logTails());
        cluster.killTaskManager(victim);
        cluster.startTaskManager();
        Run r = run.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(0, r.exit(), r.err() + cluster.logTails());
        assertFalse(cluster.jobFailures(job).isEmpty(), "the job saw the TaskManager's loss and recovered");
        JsonNode summary = JSON.readTree(r.out());
        assertEquals(big.size(), summary.get("events").asLong());
        assertEquals(expected, profileAlertsOnKafka(topic), "every alert once after recovery");
    }
}
