package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.Marker;
import dev.mmureplay.avro.Source;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.schemas.AvroCodec;
import dev.mmureplay.testing.EmbeddedKafka;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Either;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link KafkaBatchSource} on a real embedded KRaft broker: a fetch's records become batches VM by VM (each VM's in
 * offset order, at most {@link EventBatch#MAX_EVENTS}; alternating VMs still give big batches), a bad record is a
 * dead letter naming its offset, bounded mode ends (also with empty partitions), and completed checkpoints commit the
 * offsets a later run of the same consumer group resumes from.
 */
@Timeout(180)
class KafkaBatchSourceTest {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = TestTraces.miniCluster(2);

    private static final AvroCodec<TraceEvent> CODEC = AvroCodec.traceEvents();

    /** A small valid event: vm, seq and a marker payload. */
    static TraceEvent event(String vm, long seq) {
        return TraceEvent.newBuilder()
                .setVm(vm)
                .setSeq(seq)
                .setTimestampNs(1_000 * seq)
                .setSource(Source.newBuilder().setTask("CPU 0/KVM").setPid(42).setCpu(0).setOrigin(vm + ".trace")
                        .setLine(seq + 1).build())
                .setPayload(Marker.newBuilder().setText(vm + " #" + seq).build())
                .build();
    }

    /** Appends {@code n} events of {@code vm} (seqs continuing from the vm's last) to {@code out}. */
    static void run(List<TraceEvent> out, String vm, int n) {
        long seq = out.stream().filter(e -> e.getVm().equals(vm)).count();
        for (int i = 0; i < n; i++) {
            out.add(event(vm, seq + i));
        }
    }

    /** Record values to one partition, in this order (null key). */
    static void produce(EmbeddedKafka kafka, String topic, int partition, List<byte[]> values) {
        Properties p = kafka.clientProperties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (byte[] v : values) {
                producer.send(new ProducerRecord<>(topic, partition, null, v));
            }
            producer.flush();
        }
    }

    static void produceEvents(EmbeddedKafka kafka, String topic, int partition, List<TraceEvent> events) {
        produce(kafka, topic, partition, events.stream().map(CODEC::encode).toList());
    }

    static StreamExecutionEnvironment env(int parallelism) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(
                ReplayJob.configure(new Configuration()));
        env.setParallelism(parallelism);
        return env;
    }

    /** Everything a bounded run of the source gives, in the order it arrives. */
    static List<Either<EventBatch, DeadLetter>> readBounded(EmbeddedKafka kafka, String topic, String group,
                                                            int parallelism, Properties consumer) throws Exception {
        StreamExecutionEnvironment env = env(parallelism);
        List<Either<EventBatch, DeadLetter>> out = new ArrayList<>();
        try (CloseableIterator<Either<EventBatch, DeadLetter>> it = ReplayJob.fromKafka(env,
                kafka.bootstrapServers(), topic, group, true, consumer).executeAndCollect("kafka-batches " + topic)) {
            it.forEachRemaining(out::add);
        }
        return out;
    }

    static List<EncodedEvent> flatten(List<EventBatch> batches) {
        return EventBatchSerializerTest.flatten(batches);
    }

    static List<EncodedEvent> encoded(List<TraceEvent> events) {
        EventIntake intake = new EventIntake();
        return events.stream().map(intake::of).toList();
    }

    static List<EventBatch> batches(List<Either<EventBatch, DeadLetter>> out) {
        return out.stream().filter(Either::isLeft).map(Either::left).toList();
    }

    static List<DeadLetter> deadLetters(List<Either<EventBatch, DeadLetter>> out) {
        return out.stream().filter(Either::isRight).map(Either::right).toList();
    }

    @Test
    void aFetchIsBatchedVmByVmEachVmInOffsetOrderAndAlternatingVmsGiveBigBatches() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.get();
        String topic = EmbeddedKafka.uniqueTopic("batches");
        kafka.createTopic(topic, 2);
        List<TraceEvent> p0 = new ArrayList<>();
        run(p0, "vm-a", 1);
        run(p0, "vm-b", 3);
        run(p0, "vm-a", 7);
        run(p0, "vm-b", 1);
        run(p0, "vm-a", EventBatch.MAX_EVENTS + 476);   // longer than a batch
        run(p0, "vm-b", 2);
        List<TraceEvent> p1 = new ArrayList<>();
        for (int i = 0; i < 300; i++) {   // two VMs alternating record by record
            run(p1, "vm-c", 1);
            run(p1, "vm-d", 1);
        }
        produceEvents(kafka, topic, 0, p0);
        produceEvents(kafka, topic, 1, p1);

        Properties consumer = new Properties();
        consumer.setProperty(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");   // the batch bound, not the poll's
        List<Either<EventBatch, DeadLetter>> out = readBounded(kafka, topic, "g-" + topic, 2, consumer);

        assertEquals(List.of(), deadLetters(out));
        List<EncodedEvent> all = new ArrayList<>(encoded(p0));
        all.addAll(encoded(p1));
        assertEquals(EventBatchSerializerTest.perVm(all), EventBatchSerializerTest.perVm(flatten(batches(out))), "every record once, each vm's in offset order");
        for (EventBatch b : batches(out)) {
            assertTrue(b.size() <= EventBatch.MAX_EVENTS && (b.size() == 1 || b.bytes() <= EventBatch.MAX_BYTES),
                    b.toString());
        }
        // the alternating VMs of partition 1 come in a few big batches, not one per record (how many depends on
        // how the consumer's fetches cut the partition)
        long p1Batches = batches(out).stream().filter(b -> b.vm().startsWith("vm-c") || b.vm().startsWith("vm-d"))
                .count();
        assertTrue(p1Batches < 60, p1Batches + " batches for 600 alternating records");
    }

    @Test
    void aCorruptRecordIsADeadLetterNamingItsOffsetAndTheOtherRecordsAreBatchedAroundIt() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.get();
        String topic = EmbeddedKafka.uniqueTopic("batches-corrupt");
        kafka.createTopic(topic, 1);
        List<TraceEvent> events = new ArrayList<>();
        run(events, "vm-a", 10);
        byte[] corrupt = "not avro at all".getBytes(StandardCharsets.UTF_8);
        List<byte[]> values = new ArrayList<>(events.stream().map(CODEC::encode).toList());
        values.add(5, corrupt);   // offset 5, among vm-a's records
        produce(kafka, topic, 0, values);

        List<Either<EventBatch, DeadLetter>> out = readBounded(kafka, topic, "g-" + topic, 1, new Properties());

        List<DeadLetter> dead = deadLetters(out);
        assertEquals(1, dead.size(), dead.toString());
        DeadLetter d = dead.get(0);
        assertEquals(topic + "/0@5", d.getPlace().getOrigin());
        assertEquals(topic, d.getPlace().getTopic());
        assertEquals(0, d.getPlace().getPartition());
        assertEquals(5L, d.getPlace().getOffset());
        assertEquals(TraceRecordDeserializer.STAGE, d.getStage());
        assertArrayEquals(corrupt, bytes(d.getRaw()));
        assertEquals(encoded(events), flatten(batches(out)), "the good records, in offset order");
    }

    @Test
    void boundedModeFinishesWithAnEmptyPartition() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.get();
        String topic = EmbeddedKafka.uniqueTopic("batches-empty-partition");
        kafka.createTopic(topic, 3);
        List<TraceEvent> p0 = new ArrayList<>();
        run(p0, "vm-a", 5);
        List<TraceEvent> p2 = new ArrayList<>();
        run(p2, "vm-b", 3);
        produceEvents(kafka, topic, 0, p0);
        produceEvents(kafka, topic, 2, p2);   // partition 1 stays empty

        List<Either<EventBatch, DeadLetter>> out = readBounded(kafka, topic, "g-" + topic, 2, new Properties());

        assertEquals(List.of(), deadLetters(out));
        assertEquals(encoded(p0), flatten(batches(out).stream().filter(b -> b.vm().equals("vm-a")).toList()));
        assertEquals(encoded(p2), flatten(batches(out).stream().filter(b -> b.vm().equals("vm-b")).toList()));
    }

    @Test
    void boundedModeFinishesOnAnEmptyTopic() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.get();
        String topic = EmbeddedKafka.uniqueTopic("batches-empty");
        kafka.createTopic(topic, 2);

        assertEquals(List.of(), readBounded(kafka, topic, "g-" + topic, 1, new Properties()));
    }

    @Test
    void aBoundedRunCommitsTheEndOffsetsAtItsLastCheckpointAndTheGroupResumesThere() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.get();
        String topic = EmbeddedKafka.uniqueTopic("batches-commit");
        String group = "g-" + topic;
        kafka.createTopic(topic, 2);
        List<TraceEvent> a = new ArrayList<>();
        run(a, "vm-a", 10);
        List<TraceEvent> b = new ArrayList<>();
        run(b, "vm-b", 20);
        produceEvents(kafka, topic, 0, a);
        List<byte[]> p1 = new ArrayList<>(b.stream().map(CODEC::encode).toList());
        p1.add(new byte[] {1, 2, 3});   // the last record is a dead letter: the offset after it is committed too
        produce(kafka, topic, 1, p1);

        // as the CLI runs it: bounded, with checkpoints; the last one (after all records) commits the group's offsets
        StreamExecutionEnvironment env = env(2);
        env.enableCheckpointing(100);
        ReplayJob.fromKafka(env, kafka.bootstrapServers(), topic, group, true, new Properties())
                .sinkTo(new DiscardingSink<>());
        env.execute("kafka-batches-commit");
        Map<TopicPartition, Long> end = Map.of(new TopicPartition(topic, 0), 10L, new TopicPartition(topic, 1), 21L);
        assertEquals(end, awaitCommitted(kafka, group, end));

        // the next run of the group reads only what came after
        List<TraceEvent> more = new ArrayList<>(a);
        run(more, "vm-a", 3);
        List<TraceEvent> added = more.subList(a.size(), more.size());
        produceEvents(kafka, topic, 0, added);
        List<Either<EventBatch, DeadLetter>> out = readBounded(kafka, topic, group, 1, new Properties());
        assertEquals(encoded(added), flatten(batches(out)));
        assertEquals(List.of(), deadLetters(out));
    }

    /** The group's committed offsets once they reach {@code end} (or what they are after 30 s; commits are asynchronous). */
    static Map<TopicPartition, Long> awaitCommitted(EmbeddedKafka kafka, String group, Map<TopicPartition, Long> end)
            throws Exception {
        try (Admin admin = Admin.create(kafka.clientProperties())) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            end.keySet().forEach(tp -> latest.put(tp, OffsetSpec.latest()));
            Map<TopicPartition, Long> ends = new HashMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, info) -> ends.put(tp, info.offset()));
            assertEquals(end, ends, "the topic's end offsets");
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (true) {
                Map<TopicPartition, Long> committed = new HashMap<>();
                for (Map.Entry<TopicPartition, OffsetAndMetadata> e : admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get().entrySet()) {
                    if (e.getValue() != null) {
                        committed.put(e.getKey(), e.getValue().offset());
                    }
                }
                if (committed.equals(end) || System.nanoTime() > deadline) {
                    return committed;
                }
                Thread.sleep(100);
            }
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
