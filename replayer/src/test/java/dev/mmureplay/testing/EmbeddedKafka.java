package dev.mmureplay.testing;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A real Kafka broker (KRaft, one combined broker+controller node) inside the test JVM, without Docker.
 *
 * <p>This is the only class that touches Kafka's internal test kit ({@code KafkaClusterTestKit}); tests see plain
 * client settings. One broker per JVM, started on first use ({@link #get()}) and stopped when the test run ends; tests
 * share it and stay independent by using {@link #uniqueTopic(String)}. Configured for a single node: replication
 * factor 1 and min ISR 1 for the offsets and transaction-state topics (transactions / exactly-once work),
 * {@code auto.create.topics.enable=false} (tests create their topics, so a missing creation is caught).
 *
 * <p>Use: {@code EmbeddedKafka kafka = EmbeddedKafka.get();} or as a JUnit 5 parameter with
 * {@code @ExtendWith(EmbeddedKafka.Extension.class)}. Self-contained (Kafka test kit + clients + JUnit API) so that
 * other modules can reuse it.
 */
public final class EmbeddedKafka {

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);
    private static final AtomicInteger TOPIC_COUNTER = new AtomicInteger();
    private static volatile EmbeddedKafka instance;

    private final KafkaClusterTestKit cluster;
    private final String bootstrapServers;
    private final long startupMillis;

    private EmbeddedKafka() throws Exception {
        long t0 = System.nanoTime();
        KafkaClusterTestKit c = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1)
                .build())
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("transaction.state.log.num.partitions", "1")
                .setConfigProp("default.replication.factor", "1")
                .setConfigProp("min.insync.replicas", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("auto.create.topics.enable", "false")
                .build();
        try {
            c.format();
            c.startup();
            c.waitForReadyBrokers();
        } catch (Exception e) {
            c.close();
            throw e;
        }
        this.cluster = c;
        this.bootstrapServers = c.bootstrapServers();
        this.startupMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    /** The JVM's broker, started on first call (about 2 s). */
    public static EmbeddedKafka get() {
        EmbeddedKafka k = instance;
        if (k == null) {
            synchronized (EmbeddedKafka.class) {
                k = instance;
                if (k == null) {
                    try {
                        k = new EmbeddedKafka();
                    } catch (Exception e) {
                        throw new IllegalStateException("cannot start the embedded Kafka broker", e);
                    }
                    // normally closed when the test run ends (EmbeddedKafkaSessionListener); the hook is the fallback
                    Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedKafka::closeIfStarted,
                            "embedded-kafka-shutdown"));
                    instance = k;
                }
            }
        }
        return k;
    }

    /** "host:port" of the broker's client listener. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** How long the broker took to start (format + startup + ready). */
    public long startupMillis() {
        return startupMillis;
    }

    /** Client settings with bootstrap.servers only; add to them freely (a fresh copy each call). */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return p;
    }

    /** A topic name no other test uses: {@code prefix-N-xxxxxxxx}. */
    public static String uniqueTopic(String prefix) {
        return prefix + "-" + TOPIC_COUNTER.incrementAndGet() + "-"
                + UUID.randomUUID().toString().substring(0, 8);
    }

    public void createTopic(String topic, int partitions) {
        createTopic(topic, partitions, Map.of());
    }

    /**
     * Creates a topic with replication factor 1 and the given topic configs; fails if it exists. Returns when every
     * partition's leader serves requests: an idempotent producer that writes to a partition the broker has not set up
     * yet can lose and reorder its first batch (KAFKA-15591), so tests must not produce before that.
     */
    public void createTopic(String topic, int partitions, Map<String, String> configs) {
        try (Admin admin = Admin.create(clientProperties())) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1).configs(configs)))
                    .all().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < partitions; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
                    break;
                } catch (ExecutionException e) {   // not yet visible to the broker: retry
                    if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(50);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topic " + topic, e);
        }
    }

    /** Partition count of a topic, or -1 when it does not exist. */
    public int partitions(String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            Map<String, List<PartitionInfo>> topics = consumer.listTopics(Duration.ofSeconds(30));
            List<PartitionInfo> p = topics.get(topic);
            return p == null ? -1 : p.size();
        }
    }

    /** Bytes the topic's partitions take in the broker's log directories (after compression). */
    public long logSizeBytes(String topic) {
        try (Admin admin = Admin.create(clientProperties())) {
            long total = 0;
            for (Map<String, LogDirDescription> dirs : admin.describeLogDirs(cluster.brokers().keySet())
                    .allDescriptions().get(30, TimeUnit.SECONDS).values()) {
                for (LogDirDescription dir : dirs.values()) {
                    for (Map.Entry<TopicPartition, ReplicaInfo> e : dir.replicaInfos().entrySet()) {
                        if (e.getKey().topic().equals(topic)) {
                            total += e.getValue().size();
                        }
                    }
                }
            }
            return total;
        } catch (Exception e) {
            throw new IllegalStateException("cannot describe log dirs of " + topic, e);
        }
    }

    /**
     * Every committed record of a topic ({@code isolation.level=read_committed}), up to the end offsets taken when the
     * call starts; ordered by partition, then offset. No consumer group is used.
     */
    public List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        return readAll(topic, r -> r);
    }

    /** As {@link #readAll(String)}, each record mapped (e.g. to its decoded value). */
    public <V> List<V> readAll(String topic, Function<ConsumerRecord<byte[], byte[]>, V> mapper) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException("no such topic: " + topic);
            }
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : infos) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            partitions.sort(Comparator.comparingInt(TopicPartition::partition));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            List<List<ConsumerRecord<byte[], byte[]>>> byPartition = new ArrayList<>();
            for (int i = 0; i < partitions.size(); i++) {
                byPartition.add(new ArrayList<>());
            }
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (!caughtUp(consumer, partitions, end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading " + topic + " did not reach end offsets " + end
                            + " within " + READ_TIMEOUT);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        byPartition.get(indexOf(partitions, r.partition())).add(r);
                    }
                }
            }
            List<V> out = new ArrayList<>();
            for (List<ConsumerRecord<byte[], byte[]>> records : byPartition) {
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    out.add(mapper.apply(r));
                }
            }
            return out;
        }
    }

    private static int indexOf(List<TopicPartition> partitions, int partition) {
        for (int i = 0; i < partitions.size(); i++) {
            if (partitions.get(i).partition() == partition) {
                return i;
            }
        }
        throw new IllegalStateException("unexpected partition " + partition);
    }

    private static boolean caughtUp(KafkaConsumer<?, ?> consumer, List<TopicPartition> partitions,
                                    Map<TopicPartition, Long> end) {
        for (TopicPartition tp : partitions) {
            if (consumer.position(tp) < end.get(tp)) {
                return false;
            }
        }
        return true;
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        Properties p = clientProperties();
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(8 * 1024 * 1024));
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * Stops the JVM's broker if it was started (idempotent). Called when the JUnit launcher session closes, on the
     * main thread and before any JVM shutdown hook: during JVM shutdown, Kafka's own temp-dir hooks delete the
     * broker's log dirs concurrently, the broker takes that for failed disks and halts the JVM with exit code 1
     * (the surefire fork then fails after every test passed).
     */
    public static synchronized void closeIfStarted() {
        EmbeddedKafka k = instance;
        if (k != null) {
            instance = null;
            k.shutdown();
        }
    }

    private void shutdown() {
        try {
            cluster.close();
        } catch (Exception e) {
            // the JVM is exiting; nothing useful to do
        }
    }

    /** JUnit 5: resolves {@code EmbeddedKafka} test and lifecycle-method parameters to the JVM's broker. */
    public static final class Extension implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
            return parameterContext.getParameter().getType() == EmbeddedKafka.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
            return get();
        }
    }
}
