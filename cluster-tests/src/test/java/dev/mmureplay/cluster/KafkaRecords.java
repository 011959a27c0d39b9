package dev.mmureplay.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Test-side Kafka I/O: writing a topic's input and reading a transactional output exactly as committed. */
public final class KafkaRecords {

    private KafkaRecords() {}

    /** Writes {@code values} (no keys; idempotent producer, acks=all) and waits until all are acknowledged. */
    public static void produce(String bootstrapServers, String topic, List<String> values) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        try (KafkaProducer<String, String> producer =
                     new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (String value : values) {
                producer.send(new ProducerRecord<>(topic, value));
            }
            producer.flush();
        }
    }

    /**
     * Reads every committed record of {@code topic} with {@code isolation.level=read_committed}, from the beginning
     * up to the high watermark of each partition as of the call, i.e. until every transaction that wrote below it is
     * decided (committed or aborted). Fails after {@code timeout}, saying how far it got.
     */
    public static List<String> readCommitted(String bootstrapServers, String topic, Duration timeout) {
        return readCommitted(bootstrapServers, topic, timeout, new StringDeserializer());
    }

    /** As {@link #readCommitted(String, String, Duration)}, the values as raw bytes (e.g. Avro records). */
    public static List<byte[]> readCommittedBytes(String bootstrapServers, String topic, Duration timeout) {
        return readCommitted(bootstrapServers, topic, timeout,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer());
    }

    private static <V> List<V> readCommitted(String bootstrapServers, String topic, Duration timeout,
                                             org.apache.kafka.common.serialization.Deserializer<V> values0) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        Map<TopicPartition, Long> highWatermarks = highWatermarks(bootstrapServers, topic);
        List<V> values = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer =
                     new KafkaConsumer<>(props, new StringDeserializer(), values0)) {
            consumer.assign(highWatermarks.keySet());
            consumer.seekToBeginning(highWatermarks.keySet());
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!reached(consumer, highWatermarks)) {
                if (System.nanoTime() > deadline) {
                    Map<TopicPartition, Long> positions = new TreeMap<>(
                            java.util.Comparator.comparingInt(TopicPartition::partition));
                    highWatermarks.keySet().forEach(tp -> positions.put(tp, consumer.position(tp)));
                    throw new AssertionError("read_committed consumer of " + topic + " did not reach the high "
                            + "watermarks " + highWatermarks + " within " + timeout + " (positions " + positions
                            + ", " + values.size() + " records read): an open transaction?");
                }
                for (ConsumerRecord<String, V> record : consumer.poll(Duration.ofMillis(500))) {
                    values.add(record.value());
                }
            }
        }
        return values;
    }

    private static boolean reached(KafkaConsumer<String, ?> consumer, Map<TopicPartition, Long> targets) {
        for (Map.Entry<TopicPartition, Long> target : targets.entrySet()) {
            if (consumer.position(target.getKey()) < target.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static Map<TopicPartition, Long> highWatermarks(String bootstrapServers, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(info -> new TopicPartition(topic, info.partition()))
                    .collect(Collectors.toList());
            return new HashMap<>(consumer.endOffsets(partitions, Duration.ofSeconds(30)));
        }
    }

    /**
     * Asserts that {@code actual} holds each of {@code expected} exactly once and nothing else; the message names the
     * counts and the first few missing, duplicated and unexpected records.
     */
    public static void assertExactlyOnce(List<String> expected, List<String> actual, String context) {
        Map<String, Integer> counts = new HashMap<>();
        actual.forEach(value -> counts.merge(value, 1, Integer::sum));
        List<String> missing = expected.stream().filter(v -> !counts.containsKey(v)).collect(Collectors.toList());
        List<String> duplicated = counts.entrySet().stream().filter(e -> e.getValue() > 1)
                .map(e -> e.getKey() + " x" + e.getValue()).sorted().collect(Collectors.toList());
        java.util.Set<String> wanted = new java.util.HashSet<>(expected);
        List<String> unexpected = counts.keySet().stream().filter(v -> !wanted.contains(v)).sorted()
                .collect(Collectors.toList());
        if (!missing.isEmpty() || !duplicated.isEmpty() || !unexpected.isEmpty() || actual.size() != expected.size()) {
            throw new AssertionError(String.format("not exactly once: expected %d records, read %d; "
                            + "missing %d %s, duplicated %d %s, unexpected %d %s%n%s",
                    expected.size(), actual.size(), missing.size(), first(missing), duplicated.size(),
                    first(duplicated), unexpected.size(), first(unexpected), context));
        }
    }

    private static List<String> first(List<String> values) {
        return values.subList(0, Math.min(10, values.size()));
    }

    /** Convenience for tests: {@code prefix-000000 .. prefix-(n-1)}. */
    public static List<String> numbered(String prefix, int n) {
        List<String> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            values.add(String.format("%s-%06d", prefix, i));
        }
        return values;
    }

}
