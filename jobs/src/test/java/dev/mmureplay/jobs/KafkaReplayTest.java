package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.DivergenceKind;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.avro.VmSummary;
import dev.mmureplay.schemas.AvroCodec;
import dev.mmureplay.testing.EmbeddedKafka;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kafka in, Kafka out, on a real embedded KRaft broker: the alerts read back with {@code read_committed} equal the
 * local {@code diff}; bad records become dead letters naming topic/partition/offset; duplicates and out-of-order
 * seqs are absorbed; the counts reconcile.
 */
class KafkaReplayTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = TestTraces.miniCluster(2);

    /** A TraceEvent written with a newer schema (one more field): its fingerprint is unknown to this build. */
    static byte[] futureSchemaRecord() {
        Schema current = TraceEvent.getClassSchema();
        SchemaBuilder.FieldAssembler<Schema> f = SchemaBuilder.record("TraceEvent").namespace("dev.mmureplay.avro")
                .fields();
        f = f.name("vm").type().stringType().noDefault();
        f = f.name("futureField").type().longType().longDefault(0);
        Schema future = f.endRecord();
        GenericRecord r = new GenericData.Record(future);
        r.put("vm", "vm-future");
        r.put("futureField", 42L);
        try {
            ByteBuffer b = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), future).encode(r);
            byte[] out = new byte[b.remaining()];
            b.get(out);
            assertTrue(!future.equals(current));
            return out;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void alertsThroughKafkaEqualTheLocalDiffAndBadRecordsAreDeadLetters() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.get();
        String in = EmbeddedKafka.uniqueTopic("trace");
        String alerts = EmbeddedKafka.uniqueTopic("alerts");
        String dead = EmbeddedKafka.uniqueTopic("dead");
        String digests = EmbeddedKafka.uniqueTopic("digests");
        kafka.createTopic(in, 4);
        for (String t : List.of(alerts, dead, digests, digests + ".summary")) {
            kafka.createTopic(t, 1);
        }
        List<TraceEvent> fleet = TestTraces.fleet();
        ReplayOptions options = TestTraces.options();

        // the fleet, with one vm's records swapped in pairs (out of order) and every 100th record sent twice
        List<TraceEvent> sent = new ArrayList<>(fleet);
        String swapVm = "long_user_basic.trace";
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
            if (sent.get(i).getVm().equals(swapVm)) {
                idx.add(i);
            }
        }
        for (int k = 0; k + 1 < idx.size(); k += 2) {
            TraceEvent t = sent.get(idx.get(k));
            sent.set(idx.get(k), sent.get(idx.get(k + 1)));
            sent.set(idx.get(k + 1), t);
        }
        int duplicates = 0;
        for (int i = sent.size() - 1; i >= 0; i -= 100) {
            sent.add(i, sent.get(i));
            duplicates++;
        }
        AvroCodec<TraceEvent> codec = AvroCodec.traceEvents();
        Properties p = kafka.clientProperties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        byte[] corrupt = "this is not avro".getBytes(StandardCharsets.UTF_8);
        byte[] unknownFingerprint = codec.encode(fleet.get(0));
        for (int i = 2; i < 10; i++) {
            unknownFingerprint[i] ^= (byte) 0x5a;
        }
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (TraceEvent e : sent) {
                producer.send(new ProducerRecord<>(in, e.getVm().getBytes(StandardCharsets.UTF_8), codec.encode(e)));
            }
            producer.send(new ProducerRecord<>(in, 0, null, corrupt));
            producer.send(new ProducerRecord<>(in, 1, null, unknownFingerprint));
            producer.send(new ProducerRecord<>(in, 2, null, futureSchemaRecord()));
            producer.flush();
        }
        long inputRecords = sent.size() + 3;

        Configuration conf = ReplayJob.configure(new Configuration());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(200);
        ReplayJob.Streams streams = ReplayJob.replay(
                ReplayJob.fromKafka(env, kafka.bootstrapServers(), in, "it-" + in, true, new Properties()), options);
        new ReplaySinks(kafka.bootstrapServers(), alerts, dead, digests, "it-" + in, new Properties())
                .attach(streams);
        ReplayRun.Result r = ReplayRun.collect(env, streams, "kafka-it");

        // alerts on Kafka (read_committed) = the collected ones; profile alerts = the local diff
        List<DivergenceAlert> onKafka = new ArrayList<>(kafka.readAll(alerts,
                rec -> AvroCodec.alerts().decode(rec.value())));
        onKafka.sort(ReplayRun.ALERT_ORDER);
        assertEquals(r.alerts(), onKafka, "exactly once on the alerts topic");
        assertEquals(TestTraces.localDiff(TestTraces.PROFILES, options.modelConfig(), fleet),
                ReplayJobTest.keys(onKafka, DivergenceKind.PROFILE_VS_PROFILE));

        // three dead letters, each naming its place and reason
        List<DeadLetter> deadOnKafka = kafka.readAll(dead, rec -> AvroCodec.deadLetters().decode(rec.value()));
        assertEquals(3, deadOnKafka.size(), deadOnKafka.toString());
        for (DeadLetter d : deadOnKafka) {
            assertEquals(in, d.getPlace().getTopic());
            assertTrue(d.getPlace().getOffset() != null && d.getPlace().getPartition() != null);
            assertEquals("decode", d.getStage());
        }
        assertTrue(deadOnKafka.stream().anyMatch(d -> d.getReason().contains("not Avro single-object")),
                deadOnKafka.toString());
        assertEquals(2, deadOnKafka.stream().filter(d -> d.getReason().contains("unknown schema fingerprint"))
                .count(), deadOnKafka.toString());
        assertEquals(r.deadLetters().size(), deadOnKafka.size());

        // reconciliation: input records = processed + dead letters + duplicates dropped
        long processed = r.summaries().stream().mapToLong(VmSummary::getProcessed).sum();
        long dups = r.summaries().stream().mapToLong(VmSummary::getDuplicates).sum();
        long late = r.summaries().stream().mapToLong(VmSummary::getLate).sum();
        assertEquals(duplicates, dups);
        assertEquals(0, late);
        assertEquals(fleet.size(), processed);
        assertEquals(inputRecords, processed + deadOnKafka.size() + dups);
        assertEquals(r.summaries().size(), kafka.readAll(digests + ".summary").size());
    }

    @Test
    void aFailureMidStreamLosesAndDuplicatesNoAlertOnTheExactlyOnceTopic() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.get();
        String in = EmbeddedKafka.uniqueTopic("fail-trace");
        String out = KafkaOutputs.create(kafka, EmbeddedKafka.uniqueTopic("fail-out"));
        kafka.createTopic(in, 2);
        List<TraceEvent> fleet = TestTraces.fleet();
        ReplayOptions options = TestTraces.options();
        ReplayRun.Result clean = ReplayJobTest.run(2, fleet, options);
        SavepointTest.produce(kafka, in, fleet);

        StreamExecutionEnvironment env = ReplayJobTest.failOnceEnv();
        var source = ReplayJob.fromKafka(env, kafka.bootstrapServers(), in, "it-" + in, true, new Properties())
                .map(new ReplayJobTest.FailOnceAfterCheckpoint(fleet.size() / 2)).returns(ReplayJob.INPUT_TYPE)
                .setParallelism(1);
        ReplayJob.Streams streams = ReplayJob.replay(source, options);
        KafkaOutputs.sinks(kafka, out).attach(streams);
        env.execute("kafka-fail-once");

        assertTrue(ReplayJobTest.FailOnceAfterCheckpoint.FAILED.get(), "the failure was induced");
        assertEquals(clean.alerts(), KafkaOutputs.alerts(kafka, out), "every alert exactly once after the restart");
        assertEquals(clean.summaries(), KafkaOutputs.summaries(kafka, out), "same per-VM totals and final digests");
    }
}
