package dev.mmureplay.replayer.sink;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;

/**
 * Where and how a Kafka sink writes: the topic, the client settings (bootstrap servers, security, producer tuning),
 * and whether/how the topic is created. Immutable; {@code with...} methods return a copy.
 *
 * <p>The CLI builds it as {@code KafkaSinkConfig.of(bootstrap, topic).withProperties(loadProperties(producerConfigFile))
 * .withProperty(k, v)...} for {@code --kafka}, {@code --topic}, {@code --producer-config FILE} and each
 * {@code -X key=value}; later settings win.
 *
 * <p><b>Producer settings.</b> Defaults tuned for throughput of small records (an event is ~90 bytes), measured with
 * {@code KafkaSinkBenchTest} against the embedded broker on a 2-core machine: {@code compression.type=lz4} (the
 * producer compresses on the sending thread; per event lz4 took ~0.75-0.85 us of that thread and 24 bytes on the
 * topic, zstd ~1.0-1.4 us and 12 bytes, none ~0.7 us and 128 bytes; lz4 sustained 0.83-0.91 M events/s, zstd
 * 0.57-0.74 M), {@code linger.ms=20}, {@code batch.size=256 KiB}, {@code buffer.memory=64 MiB},
 * {@code client.id=mmu-replay}, and {@code max.in.flight.requests.per.connection=1} — see below. Any of them can be
 * overridden. Fixed, because the product's guarantees rest on them: {@code enable.idempotence=true},
 * {@code acks=all} (no duplicates on retries, no loss of acknowledged records), byte-array serializers, and keyed
 * partitioning ({@code partitioner.ignore.keys=false}, so one VM's events go to one partition). Setting one of them
 * to another value is an error.
 *
 * <p><b>Why one request in flight.</b> Idempotence is meant to keep order with up to 5 requests in flight, but a
 * broker accepts any first sequence number from a producer it has no state for on a partition (a new producer, i.e.
 * every ingest run, or a new topic). If the producer's first request to a partition fails with a retriable error
 * (NOT_LEADER_OR_FOLLOWER while the partition is being set up or moved) and the next in-flight request is accepted,
 * the first batch can never be written: it is retried until {@code delivery.timeout.ms} and lost, and the VM's events
 * on the topic start in the middle (KAFKA-15591 / KAFKA-14312 / KAFKA-19880). We hit this in our benchmark against a
 * 4.2.1 broker, also after waiting for the partition leaders ({@link KafkaTopics}); the sink reported it
 * ({@link KafkaSinkException}) instead of losing events silently, but the ingest failed. With one request in flight per broker no later batch can overtake the first one; the cost
 * measured on one machine was within the noise (0.83-0.91 vs 0.87-1.08 M events/s with lz4). Raise it (at most 5)
 * with {@code -X max.in.flight.requests.per.connection=5} for high-latency links to brokers that have the fix.
 *
 * <p><b>Topic creation.</b> By default the sink creates the topic if it does not exist (never failing when it does),
 * with {@link #DEFAULT_PARTITIONS} partitions — per-VM order only needs one partition per VM, and 4 lets a few VMs
 * be replayed in parallel downstream — and the <em>broker's</em> default replication factor
 * ({@code default.replication.factor}: 1 on a single dev broker, typically 3 on a production cluster), so the
 * same command works on both without a flag. Both can be set explicitly; creation can be turned off (e.g. when the
 * principal may not create topics).
 */
public final class KafkaSinkConfig {

    public static final int DEFAULT_PARTITIONS = 4;

    /** Settings the sinks rely on: value required, or the forbidden value. */
    private static final Map<String, String> FIXED = Map.of(
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
            ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG, "false",
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

    private static final Map<String, String> DEFAULTS;

    static {
        Map<String, String> d = new LinkedHashMap<>();
        d.put(ProducerConfig.CLIENT_ID_CONFIG, "mmu-replay");
        d.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        d.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        d.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
        d.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(64L * 1024 * 1024));
        d.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        DEFAULTS = Map.copyOf(d);
    }

    private final String topic;
    private final Map<String, String> properties;
    private final boolean createTopic;
    private final int partitions;
    private final Optional<Short> replicationFactor;
    private final Map<String, String> topicConfigs;

    private KafkaSinkConfig(String topic, Map<String, String> properties, boolean createTopic, int partitions,
                            Optional<Short> replicationFactor, Map<String, String> topicConfigs) {
        this.topic = topic;
        this.properties = Map.copyOf(properties);
        this.createTopic = createTopic;
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
        this.topicConfigs = Map.copyOf(topicConfigs);
    }

    /** A config with the given bootstrap servers ("host:port,...") and topic, defaults otherwise. */
    public static KafkaSinkConfig of(String bootstrapServers, String topic) {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        return new KafkaSinkConfig(requireTopic(topic),
                Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
                true, DEFAULT_PARTITIONS, Optional.empty(), Map.of());
    }

    /** A config from client properties that include {@code bootstrap.servers}. */
    public static KafkaSinkConfig of(Properties clientProperties, String topic) {
        KafkaSinkConfig c = new KafkaSinkConfig(requireTopic(topic), Map.of(), true, DEFAULT_PARTITIONS,
                Optional.empty(), Map.of()).withProperties(clientProperties);
        if (!c.properties.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
            throw new IllegalArgumentException("Kafka client properties have no bootstrap.servers");
        }
        return c;
    }

    /** Reads a Java properties file (e.g. {@code --producer-config}), UTF-8. */
    public static Properties loadProperties(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        return p;
    }

    /** Adds or replaces one client setting (producer, admin or security), e.g. from {@code -X key=value}. */
    public KafkaSinkConfig withProperty(String key, String value) {
        Map<String, String> p = new LinkedHashMap<>(properties);
        p.put(key.trim(), value.trim());
        return new KafkaSinkConfig(topic, p, createTopic, partitions, replicationFactor, topicConfigs);
    }

    /** Adds or replaces client settings; values are converted with {@code toString()}. */
    public KafkaSinkConfig withProperties(Properties props) {
        Map<String, String> p = new LinkedHashMap<>(properties);
        for (String key : props.stringPropertyNames()) {
            p.put(key.trim(), props.getProperty(key).trim());
        }
        return new KafkaSinkConfig(topic, p, createTopic, partitions, replicationFactor, topicConfigs);
    }

    public KafkaSinkConfig withTopic(String newTopic) {
        return new KafkaSinkConfig(requireTopic(newTopic), properties, createTopic, partitions, replicationFactor,
                topicConfigs);
    }

    /** Whether the sink creates the topic when it is missing (default true). */
    public KafkaSinkConfig withCreateTopic(boolean create) {
        return new KafkaSinkConfig(topic, properties, create, partitions, replicationFactor, topicConfigs);
    }

    /** Partitions of a topic the sink creates (default {@link #DEFAULT_PARTITIONS}). */
    public KafkaSinkConfig withPartitions(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, not " + n);
        }
        return new KafkaSinkConfig(topic, properties, createTopic, n, replicationFactor, topicConfigs);
    }

    /** Replication factor of a topic the sink creates (default: the broker's default.replication.factor). */
    public KafkaSinkConfig withReplicationFactor(short rf) {
        if (rf < 1) {
            throw new IllegalArgumentException("replication factor must be >= 1, not " + rf);
        }
        return new KafkaSinkConfig(topic, properties, createTopic, partitions, Optional.of(rf), topicConfigs);
    }

    /** Topic-level configs of a topic the sink creates (e.g. retention.ms); ignored when the topic exists. */
    public KafkaSinkConfig withTopicConfig(String key, String value) {
        Map<String, String> t = new LinkedHashMap<>(topicConfigs);
        t.put(key, value);
        return new KafkaSinkConfig(topic, properties, createTopic, partitions, replicationFactor, t);
    }

    public String topic() {
        return topic;
    }

    public boolean createTopic() {
        return createTopic;
    }

    public int partitions() {
        return partitions;
    }

    public Optional<Short> replicationFactor() {
        return replicationFactor;
    }

    public Map<String, String> topicConfigs() {
        return topicConfigs;
    }

    /** The client settings as given (no defaults). */
    public Map<String, String> properties() {
        return properties;
    }

    public String bootstrapServers() {
        return properties.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    }

    /**
     * The producer's settings: defaults, then the given settings that the producer knows, then the fixed ones.
     *
     * @throws IllegalArgumentException when a given setting contradicts a fixed one
     */
    public Properties producerProperties() {
        for (Map.Entry<String, String> fixed : FIXED.entrySet()) {
            String given = properties.get(fixed.getKey());
            if (given != null && !sameSetting(fixed.getKey(), given, fixed.getValue())) {
                throw new IllegalArgumentException("Kafka setting " + fixed.getKey() + "=" + given
                        + " is not allowed: the sink needs " + fixed.getKey() + "=" + fixed.getValue()
                        + " (idempotent, acknowledged by all in-sync replicas, keyed by VM for per-VM order)");
            }
        }
        Properties p = new Properties();
        p.putAll(DEFAULTS);
        for (Map.Entry<String, String> e : properties.entrySet()) {
            if (ProducerConfig.configNames().contains(e.getKey()) || !AdminClientConfig.configNames()
                    .contains(e.getKey())) {
                p.put(e.getKey(), e.getValue());   // unknown keys go to the producer, which warns about them
            }
        }
        p.putAll(FIXED);
        return p;
    }

    /** The settings an AdminClient (topic creation) needs: the given ones it knows (bootstrap, security, timeouts). */
    public Properties adminProperties() {
        Properties p = new Properties();
        for (Map.Entry<String, String> e : properties.entrySet()) {
            if (AdminClientConfig.configNames().contains(e.getKey())) {
                p.put(e.getKey(), e.getValue());
            }
        }
        p.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG,
                properties.getOrDefault(ProducerConfig.CLIENT_ID_CONFIG, "mmu-replay") + "-admin");
        return p;
    }

    private static boolean sameSetting(String key, String given, String required) {
        String g = given.trim().toLowerCase(Locale.ROOT);
        if (key.equals(ProducerConfig.ACKS_CONFIG)) {
            return g.equals("all") || g.equals("-1");
        }
        if (key.endsWith("serializer")) {
            return given.trim().equals(required);
        }
        return g.equals(required);
    }

    private static String requireTopic(String topic) {
        if (topic == null || topic.isBlank()) {
            throw new IllegalArgumentException("a Kafka topic is required");
        }
        return topic;
    }

    @Override
    public String toString() {
        return "KafkaSinkConfig{topic=" + topic + ", bootstrap=" + bootstrapServers() + ", createTopic=" + createTopic
                + ", partitions=" + partitions + ", replicationFactor="
                + replicationFactor.map(String::valueOf).orElse("broker default") + "}";
    }
}
