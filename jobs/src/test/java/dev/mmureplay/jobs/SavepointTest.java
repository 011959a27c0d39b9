package dev.mmureplay.jobs;

import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.ReplayDigest;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.avro.VmSummary;
import dev.mmureplay.schemas.AvroCodec;
import dev.mmureplay.testing.EmbeddedKafka;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Stop with a savepoint mid-stream, resume from it with the rest of the input: the alerts (exactly once across both
 * runs) and the final digests equal an uninterrupted run.
 */
class SavepointTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = TestTraces.miniCluster(4);

    static void produce(EmbeddedKafka kafka, String topic, List<TraceEvent> events) {
        Properties p = kafka.clientProperties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        AvroCodec<TraceEvent> codec = AvroCodec.traceEvents();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (TraceEvent e : events) {
                producer.send(new ProducerRecord<>(topic, e.getVm().getBytes(StandardCharsets.UTF_8),
                        codec.encode(e)));
            }
            producer.flush();
        }
    }

    /** Waits until the job's consumer group committed the topic's end offsets (a checkpoint covers all input). */
    static void awaitCommitted(EmbeddedKafka kafka, String topic, String group) throws Exception {
        try (Admin admin = Admin.create(kafka.clientProperties())) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            int partitions = kafka.partitions(topic);
            for (int i = 0; i < partitions; i++) {
                latest.put(new TopicPartition(topic, i), OffsetSpec.latest());
            }
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> end = admin.listOffsets(latest).all().get();
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (true) {
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                boolean all = true;
                for (var e : end.entrySet()) {
                    OffsetAndMetadata c = committed.get(e.getKey());
                    if (e.getValue().offset() > 0 && (c == null || c.offset() < e.getValue().offset())) {
                        all = false;
                    }
                }
                if (all) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("group " + group + " did not commit " + end + " (has " + committed + ")");
                }
                Thread.sleep(100);
            }
        }
    }

    static JobClient start(EmbeddedKafka kafka, String in, String group, String out, ReplayOptions options,
                           String savepoint) throws Exception {
        return start(kafka, in, group, out, options, savepoint, 2);
    }

    static JobClient start(EmbeddedKafka kafka, String in, String group, String out, ReplayOptions options,
                           String savepoint, int parallelism) throws Exception {
        Configuration conf = ReplayJob.configure(new Configuration());
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.configure(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(200);
        ReplayJob.Streams s = ReplayJob.replay(
                ReplayJob.fromKafka(env, kafka.bootstrapServers(), in, group, false, new Properties()), options);
        KafkaOutputs.sinks(kafka, out).attach(s);
        return env.executeAsync("savepoint-" + (savepoint == null ? "first" : "resumed"));
    }

    @Test
    void resumingFromASavepointGivesTheAlertsAndDigestsOfAnUninterruptedRun(@TempDir Path dir) throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.get();
        String in = EmbeddedKafka.uniqueTopic("sp-trace");
        String out = KafkaOutputs.create(kafka, EmbeddedKafka.uniqueTopic("sp-out"));
        kafka.createTopic(in, 2);
        List<TraceEvent> fleet = TestTraces.fleet();
        ReplayOptions options = TestTraces.options();
        ReplayRun.Result whole = ReplayJobTest.run(2, fleet, options);
        assertFalse(whole.alerts().isEmpty());

        String group = "sp-" + in;
        produce(kafka, in, fleet.subList(0, fleet.size() / 2));
        JobClient first = start(kafka, in, group, out, options, null);
        awaitCommitted(kafka, in, group);
        String savepoint = first.stopWithSavepoint(false, dir.toUri().toString(), SavepointFormatType.CANONICAL)
                .get();

        produce(kafka, in, fleet.subList(fleet.size() / 2, fleet.size()));
        JobClient resumed = start(kafka, in, group, out, options, savepoint);
        awaitCommitted(kafka, in, group);
        // drain: the final watermark ends the input as a bounded run would (final digests, summaries)
        resumed.stopWithSavepoint(true, dir.toUri().toString(), SavepointFormatType.CANONICAL).get();

        assertEquals(whole.alerts(), KafkaOutputs.alerts(kafka, out), "no alert lost or duplicated across the savepoint");
        List<ReplayDigest> finals = new ArrayList<>(kafka.readAll(out + ".digests",
                r -> AvroCodec.digests().decode(r.value())).stream().filter(ReplayDigest::getAtEnd).toList());
        finals.sort(java.util.Comparator.comparing(ReplayDigest::getVm).thenComparing(ReplayDigest::getProfile));
        List<ReplayDigest> expected = new ArrayList<>(whole.finalDigests());
        expected.sort(java.util.Comparator.comparing(ReplayDigest::getVm).thenComparing(ReplayDigest::getProfile));
        assertEquals(expected, finals, "final digests equal the uninterrupted run");
        assertEquals(whole.summaries(), KafkaOutputs.summaries(kafka, out));
    }

    /**
     * A savepoint that the job as of commit 8f4145e took at parallelism 2 (events one Flink record each, Flink's
     * KafkaSource; made by the code in {@code src/test/resources/savepoints/README.md}: the first half of the fleet on
     * topic {@code xversion-trace}, 2 partitions) restores into this version (events in batches, KafkaBatchSource),
     * at the same parallelism and rescaled to 4 (what {@code replay} now chooses on 2 cores): the replay goes on from
     * the second half and ends with the state of an uninterrupted run.
     */
    @Test
    void aSavepointOfAnEarlierJobVersionRestoresAndTheReplayGoesOnExactly(@TempDir Path dir) throws Exception {
        Path old = Path.of(SavepointTest.class.getResource("/savepoints/8f4145e/_metadata").toURI()).getParent();
        EmbeddedKafka kafka = EmbeddedKafka.get();
        String in = "xversion-trace";   // the topic and partition count the savepoint was taken on
        kafka.createTopic(in, 2);
        List<TraceEvent> fleet = TestTraces.fleet();
        ReplayOptions options = TestTraces.options();
        ReplayRun.Result whole = ReplayJobTest.run(2, fleet, options);
        produce(kafka, in, fleet);   // the same records at the same offsets as when the savepoint was taken
        java.util.Set<String> secondHalf = new java.util.HashSet<>();
        fleet.subList(fleet.size() / 2, fleet.size()).forEach(e -> secondHalf.add(e.getVm() + "@" + e.getSeq()));
        List<DivergenceAlert> expectedAlerts = whole.alerts().stream()
                .filter(a -> secondHalf.contains(a.getVm() + "@" + a.getSeq())).toList();
        assertFalse(expectedAlerts.isEmpty(), "the second half has divergences");
        List<ReplayDigest> expected = new ArrayList<>(whole.finalDigests());
        expected.sort(java.util.Comparator.comparing(ReplayDigest::getVm).thenComparing(ReplayDigest::getProfile));

        for (int parallelism : new int[] {2, 4}) {
            String out = KafkaOutputs.create(kafka, EmbeddedKafka.uniqueTopic("xv-out-p" + parallelism));
            String group = "xversion-p" + parallelism;   // the offsets come from the savepoint; commits to a group of its own
            JobClient resumed = start(kafka, in, group, out, options, old.toUri().toString(), parallelism);
            awaitCommitted(kafka, in, group);
            resumed.stopWithSavepoint(true, dir.toUri().toString(), SavepointFormatType.CANONICAL).get();

            String at = "restored at parallelism " + parallelism + ": ";
            assertEquals(expectedAlerts, KafkaOutputs.alerts(kafka, out), at + "the alerts of the events after it");
            List<ReplayDigest> finals = new ArrayList<>(kafka.readAll(out + ".digests",
                    r -> AvroCodec.digests().decode(r.value())).stream().filter(ReplayDigest::getAtEnd).toList());
            finals.sort(java.util.Comparator.comparing(ReplayDigest::getVm).thenComparing(ReplayDigest::getProfile));
            assertEquals(expected, finals, at + "final digests equal the uninterrupted run");
            assertEquals(whole.summaries(), KafkaOutputs.summaries(kafka, out), at + "counts carried across");
        }
    }
}
