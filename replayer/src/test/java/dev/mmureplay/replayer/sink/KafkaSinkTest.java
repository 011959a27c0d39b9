package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.Marker;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.schemas.AvroCodec;
import dev.mmureplay.testing.EmbeddedKafka;
import dev.mmureplay.testing.SampleEvents;
import dev.mmureplay.testing.TraceEventTopics;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Kafka sinks against a real broker in this JVM (no mocks). */
class KafkaSinkTest {

    private static EmbeddedKafka kafka;

    @TempDir
    Path dir;

    @BeforeAll
    static void broker() {
        kafka = EmbeddedKafka.get();
        System.out.println("embedded Kafka broker started in " + kafka.startupMillis() + " ms at "
                + kafka.bootstrapServers());
    }

    @Test
    void kafkaOutputEqualsFileOutputKeyedByVmInPerVmOrder() throws IOException {
        List<TraceEvent> events = SampleEvents.threeVms(150);   // 450 events of 3 VMs, interleaved
        String topic = EmbeddedKafka.uniqueTopic("trace");
        Path file = dir.resolve("out.avro");
        try (TeeEventSink sink = new TeeEventSink(new AvroFileEventSink(file),
                new KafkaEventSink(KafkaSinkConfig.of(kafka.bootstrapServers(), topic)))) {
            for (TraceEvent e : events) {
                sink.accept(e);
            }
        }
        List<TraceEvent> fromFile = AvroFiles.readAll(file);
        assertEquals(events, fromFile);
        assertEquals(3, TraceEventTopics.byVm(fromFile).size());
        assertEquals(KafkaSinkConfig.DEFAULT_PARTITIONS, kafka.partitions(topic));
        TraceEventTopics.assertTopicHolds(kafka, topic, fromFile);
    }

    /**
     * A burst of 30k events of 4 VMs right after the sink created the topic: nothing lost, per-VM order kept. This is
     * the situation of KAFKA-15591 (see {@link KafkaTopics}), seen once in {@code KafkaSinkBenchTest} before the
     * sink waited for partition leaders; the race is timing-dependent, so this test guards but cannot force it.
     */
    @Test
    void aBurstRightAfterTopicCreationLosesAndReordersNothing() throws IOException {
        List<TraceEvent> events = AvroCodecBench.realisticEvents(30_000);
        for (int run = 0; run < 2; run++) {
            String topic = EmbeddedKafka.uniqueTopic("burst");
            try (KafkaEventSink sink = new KafkaEventSink(KafkaSinkConfig.of(kafka.bootstrapServers(), topic))) {
                for (TraceEvent e : events) {
                    sink.accept(e);
                }
            }
            TraceEventTopics.assertTopicHolds(kafka, topic, events);
        }
    }

    @Test
    void aRecordAboveMaxRequestSizeFailsFlushWithContext() throws IOException {
        String topic = EmbeddedKafka.uniqueTopic("too-large-client");
        List<TraceEvent> events = SampleEvents.threeVms(10);
        TraceEvent huge = TraceEvent.newBuilder(events.get(4)).setSeq(777)
                .setPayload(new Marker("x".repeat(2 << 20))).build();
        KafkaEventSink sink = new KafkaEventSink(KafkaSinkConfig.of(kafka.bootstrapServers(), topic));
        sink.accept(events.get(0));
        sink.accept(huge);                      // rejected by the producer (max.request.size 1 MiB), asynchronously
        KafkaSinkException e = assertThrows(KafkaSinkException.class, sink::flush);
        assertTrue(e.getMessage().contains("topic " + topic), e.getMessage());
        assertTrue(e.getMessage().contains("key " + huge.getVm()), e.getMessage());
        assertTrue(e.getMessage().contains("seq 777"), e.getMessage());
        assertInstanceOf(RecordTooLargeException.class, e.getCause());
        // the sink stays failed: no silent continuation
        assertThrows(KafkaSinkException.class, () -> sink.accept(events.get(1)));
        assertThrows(KafkaSinkException.class, sink::close);
        assertThrows(KafkaSinkException.class, sink::close);
        assertEquals(1, sink.failedSends());
        assertEquals(1, sink.acknowledged());
    }

    @Test
    void aRecordTheBrokerRejectsFailsCloseWithPartition() throws IOException {
        String topic = EmbeddedKafka.uniqueTopic("too-large-broker");
        // the topic accepts at most 4 KiB batches; the producer's own limit (1 MiB) lets the record through
        KafkaSinkConfig config = KafkaSinkConfig.of(kafka.bootstrapServers(), topic)
                .withTopicConfig("max.message.bytes", "4096");
        List<TraceEvent> events = SampleEvents.threeVms(10);
        TraceEvent big = TraceEvent.newBuilder(events.get(0)).setSeq(4242)
                .setPayload(new Marker(randomText(64 * 1024))).build();
        KafkaEventSink sink = new KafkaEventSink(config);
        sink.accept(events.get(0));
        sink.flush();
        sink.accept(big);
        KafkaSinkException e = assertThrows(KafkaSinkException.class, sink::close);
        assertTrue(e.getMessage().contains("partition "), e.getMessage());
        assertTrue(e.getMessage().contains("seq 4242"), e.getMessage());
        assertInstanceOf(RecordTooLargeException.class, e.getCause());
        assertEquals(1, kafka.readAll(topic).size());
    }

    @Test
    void topicCreationIsIdempotent() throws IOException {
        String topic = EmbeddedKafka.uniqueTopic("create");
        KafkaSinkConfig config = KafkaSinkConfig.of(kafka.bootstrapServers(), topic).withPartitions(3);
        KafkaTopics.TopicState first = KafkaTopics.ensureTopic(config);
        assertTrue(first.created());
        assertEquals(3, first.partitions());
        KafkaTopics.TopicState again = KafkaTopics.ensureTopic(config.withPartitions(8));
        assertFalse(again.created());
        assertEquals(3, again.partitions(), "an existing topic is left as it is");

        // a topic someone else created: the sink uses it as it is
        String existing = EmbeddedKafka.uniqueTopic("existing");
        kafka.createTopic(existing, 2);
        List<TraceEvent> events = SampleEvents.threeVms(5);
        try (KafkaEventSink sink = new KafkaEventSink(KafkaSinkConfig.of(kafka.bootstrapServers(), existing))) {
            for (TraceEvent e : events) {
                sink.accept(e);
            }
        }
        assertEquals(2, kafka.partitions(existing));
        assertEquals(events.size(), kafka.readAll(existing).size());

        // creation off: a missing topic is not created by the sink (the broker does not auto-create either)
        String missing = EmbeddedKafka.uniqueTopic("missing");
        KafkaEventSink noCreate = new KafkaEventSink(KafkaSinkConfig.of(kafka.bootstrapServers(), missing)
                .withCreateTopic(false).withProperty("max.block.ms", "1500"));
        assertEquals(-1, kafka.partitions(missing));
        noCreate.accept(events.get(0));
        KafkaSinkException e = assertThrows(KafkaSinkException.class, noCreate::close);
        assertTrue(e.getMessage().contains(missing), e.getMessage());
    }

    @Test
    void deadLettersRoundTripThroughKafkaAndHugeRawIsCutVisibly() throws IOException {
        String topic = EmbeddedKafka.uniqueTopic("dead");
        List<DeadLetter> letters = DeadLetterSinkTest.withOneMiBLine(SampleEvents.deadLetters());
        try (KafkaDeadLetterSink sink = new KafkaDeadLetterSink(KafkaSinkConfig.of(kafka.bootstrapServers(), topic))) {
            for (DeadLetter dl : letters) {
                sink.accept(dl);
            }
        }
        AvroCodec<DeadLetter> codec = AvroCodec.deadLetters();
        List<DeadLetter> read = kafka.readAll(topic, r -> codec.decode(r.value()));
        read.sort(java.util.Comparator.comparing((DeadLetter d) -> d.getPlace().getOrigin())
                .thenComparing(d -> d.getPlace().getLine() == null ? -1 : d.getPlace().getLine()));
        List<DeadLetter> expected = new ArrayList<>(letters);
        expected.sort(java.util.Comparator.comparing((DeadLetter d) -> d.getPlace().getOrigin())
                .thenComparing(d -> d.getPlace().getLine() == null ? -1 : d.getPlace().getLine()));
        assertEquals(expected.size(), read.size());
        for (int i = 0; i < expected.size(); i++) {
            DeadLetter want = expected.get(i);
            DeadLetter got = read.get(i);
            if (want.getRaw().remaining() > KafkaDeadLetterSink.DEFAULT_MAX_RAW_BYTES) {
                assertEquals(KafkaDeadLetterSink.DEFAULT_MAX_RAW_BYTES, got.getRaw().remaining());
                assertTrue(got.getReason().startsWith(want.getReason()), got.getReason());
                assertTrue(got.getReason().endsWith("[raw truncated to 262144 of 1048576 bytes]"), got.getReason());
                assertEquals(want.getRaw().duplicate().limit(KafkaDeadLetterSink.DEFAULT_MAX_RAW_BYTES),
                        got.getRaw());
            } else {
                assertEquals(want, got);
            }
        }
    }

    @Test
    void settingsTheGuaranteesRestOnCannotBeChanged() {
        KafkaSinkConfig base = KafkaSinkConfig.of("localhost:1", "t");
        for (String[] kv : new String[][] {{"acks", "1"}, {"enable.idempotence", "false"},
                {"partitioner.ignore.keys", "true"},
                {"value.serializer", "org.apache.kafka.common.serialization.StringSerializer"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> base.withProperty(kv[0], kv[1]).producerProperties());
            assertTrue(e.getMessage().contains(kv[0]), e.getMessage());
        }
        // equivalent spellings and tuning are fine; later settings win
        Properties file = new Properties();
        file.setProperty("acks", "-1");
        file.setProperty("compression.type", "zstd");
        file.setProperty("security.protocol", "SASL_SSL");
        Properties p = base.withProperties(file).withProperty("linger.ms", "5").producerProperties();
        assertEquals("all", p.getProperty("acks"));
        assertEquals("true", p.getProperty("enable.idempotence"));
        assertEquals("zstd", p.getProperty("compression.type"));
        assertEquals("5", p.getProperty("linger.ms"));
        assertEquals("SASL_SSL", p.getProperty("security.protocol"));
        assertEquals("1", p.getProperty("max.in.flight.requests.per.connection"));
        assertEquals("5", base.withProperty("max.in.flight.requests.per.connection", "5").producerProperties()
                .getProperty("max.in.flight.requests.per.connection"));
        Properties admin = base.withProperties(file).adminProperties();
        assertEquals("SASL_SSL", admin.getProperty("security.protocol"));
        assertEquals("localhost:1", admin.getProperty("bootstrap.servers"));
        assertFalse(admin.containsKey("linger.ms"));
        assertThrows(IllegalArgumentException.class, () -> KafkaSinkConfig.of(new Properties(), "t"));
        assertThrows(IllegalArgumentException.class, () -> KafkaSinkConfig.of("localhost:1", " "));
    }

    @Test
    void anUnreachableClusterFailsWithinTheTimeoutInsteadOfHanging() {
        KafkaSinkConfig config = KafkaSinkConfig.of("127.0.0.1:1", "nowhere")
                .withProperty("default.api.timeout.ms", "3000").withProperty("request.timeout.ms", "1000");
        IOException e = assertThrows(IOException.class, () -> new KafkaEventSink(config).close());
        assertTrue(e.getMessage().contains("nowhere"), e.getMessage());
    }

    private static String randomText(int n) {
        java.util.Random r = new java.util.Random(1);
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append((char) ('!' + r.nextInt(90)));
        }
        return sb.toString();
    }
}
