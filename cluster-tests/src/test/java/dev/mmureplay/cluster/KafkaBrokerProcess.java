package dev.mmureplay.cluster;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

/**
 * A Kafka broker in a child JVM: one KRaft node that is both broker and controller, listening on 127.0.0.1 (ports
 * chosen once, kept across restarts), replication factor 1 for the offsets and transaction logs. Runs
 * {@code kafka.Kafka server.properties} on the classpath written by the {@code classpath-kafka} module, after
 * formatting its log dir with {@code kafka.tools.StorageTool format}.
 *
 * <p>{@link #stop()} and {@link #start()} restart it on the same log dir (its topics and committed data survive).
 */
public final class KafkaBrokerProcess implements AutoCloseable {

    /** System property (set by failsafe) naming the file with the broker's classpath. */
    public static final String CLASSPATH_FILE_PROPERTY = "cluster.kafkaClasspathFile";

    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(90);
    private static final int LOG_TAIL_LINES = 40;

    private final Path dir;
    private final Path logDir;
    private final Path serverProperties;
    private final String classpath;
    private final int port;
    private ChildJvm process;
    private int starts;

    private KafkaBrokerProcess(Path dir, String classpath) {
        this.dir = dir;
        this.logDir = dir.resolve("log");
        this.serverProperties = dir.resolve("server.properties");
        this.classpath = classpath;
        this.port = FreePorts.next();
    }

    /** Formats a fresh log dir in a new directory under {@code workDir} and starts the broker. */
    public static KafkaBrokerProcess start(Path workDir) throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        Path dir = Files.createTempDirectory(workDir.toAbsolutePath(), "kafka-");
        KafkaBrokerProcess broker =
                new KafkaBrokerProcess(dir, FlinkStandaloneCluster.readClasspath(CLASSPATH_FILE_PROPERTY));
        try {
            broker.format();
            broker.start();
            return broker;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            String tail = broker.logTail();
            broker.close();
            throw new IllegalStateException("Kafka broker in " + dir + " did not start: " + e + "\n" + tail, e);
        }
    }

    private void format() throws IOException, InterruptedException {
        int controllerPort = FreePorts.next();
        Properties props = new Properties();
        props.putAll(Map.ofEntries(
                Map.entry("process.roles", "broker,controller"),
                Map.entry("node.id", "1"),
                Map.entry("controller.quorum.voters", "1@127.0.0.1:" + controllerPort),
                Map.entry("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort),
                Map.entry("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port),
                Map.entry("controller.listener.names", "CONTROLLER"),
                Map.entry("inter.broker.listener.name", "PLAINTEXT"),
                Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
                Map.entry("log.dirs", dir.resolve("data").toString()),
                Map.entry("num.partitions", "1"),
                Map.entry("offsets.topic.replication.factor", "1"),
                Map.entry("offsets.topic.num.partitions", "4"),
                Map.entry("transaction.state.log.replication.factor", "1"),
                Map.entry("transaction.state.log.min.isr", "1"),
                Map.entry("transaction.state.log.num.partitions", "4"),
                Map.entry("share.coordinator.state.topic.replication.factor", "1"),
                Map.entry("share.coordinator.state.topic.min.isr", "1"),
                Map.entry("group.initial.rebalance.delay.ms", "0")));
        try (var out = Files.newBufferedWriter(serverProperties, StandardCharsets.UTF_8)) {
            props.store(out, "written by KafkaBrokerProcess");
        }
        // what "StorageTool random-uuid" prints (it calls the same method); saves one JVM start
        String clusterId = Uuid.randomUuid().toString();
        ChildJvm.run("kafka-storage-format", classpath, jvmArgs(), "kafka.tools.StorageTool",
                List.of("format", "-t", clusterId, "-c", serverProperties.toString()), logDir, Duration.ofSeconds(60));
    }

    /** Starts the broker (again, after {@link #stop()}) and waits until it answers an Admin request. */
    public void start() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("broker already running: " + process);
        }
        process = ChildJvm.start("kafka", classpath, jvmArgs(), "kafka.Kafka", List.of(serverProperties.toString()),
                logDir);
        starts++;
        ChildJvm started = process;
        Waiting.until("the Kafka broker at " + bootstrapServers() + " (start #" + starts + ")", STARTUP_TIMEOUT,
                Duration.ofMillis(250), () -> {
                    if (!started.isAlive()) {
                        throw new IllegalStateException("the broker exited");
                    }
                    try (Socket socket = new Socket()) {
                        socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                    }
                    try (Admin admin = admin()) {
                        return !admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).isEmpty();
                    }
                }, this::logTail);
    }

    /** Orderly shutdown (SIGTERM; SIGKILL after 60 s); {@link #start()} brings it back on the same log dir. */
    public void stop() {
        if (process != null) {
            process.stop(Duration.ofSeconds(60));
        }
    }

    /** SIGKILL: a crash; {@link #start()} brings it back (with log recovery). */
    public void kill() {
        if (process != null) {
            process.kill();
        }
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** {@code 127.0.0.1:<port>}, the same across restarts. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** Creates a topic with replication factor 1. */
    public void createTopic(String name, int partitions) throws InterruptedException {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot create topic " + name + ": " + e + "\n" + logTail(), e);
        }
    }

    /** An Admin client for this broker (the caller closes it). */
    public Admin admin() {
        return Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000));
    }

    public Path directory() {
        return dir;
    }

    /** The last lines of the broker's log and output, for failure messages. */
    public String logTail() {
        return "\n===== kafka broker: " + logDir.resolve("kafka.log") + " (tail) =====\n"
                + ChildJvm.tail(logDir.resolve("kafka.log"), LOG_TAIL_LINES)
                + "\n----- kafka.out (tail) -----\n"
                + ChildJvm.tail(logDir.resolve("kafka.out"), 10) + "\n";
    }

    @Override
    public void close() {
        kill();
    }

    private List<String> jvmArgs() throws IOException {
        Path log4j = dir.resolve("log4j2.properties");
        if (!Files.exists(log4j)) {
            Files.writeString(log4j, String.join("\n",
                    "rootLogger.level = INFO",
                    "rootLogger.appenderRef.file.ref = MainAppender",
                    "appender.main.name = MainAppender",
                    "appender.main.type = File",
                    "appender.main.append = true",
                    "appender.main.fileName = ${sys:log.file}",
                    "appender.main.layout.type = PatternLayout",
                    "appender.main.layout.pattern = [%d{HH:mm:ss,SSS}] %p %m (%c)%n",
                    ""), StandardCharsets.UTF_8);
        }
        // C1 only: starts (and restarts) faster on 2 cores; a test broker never needs peak JIT speed
        return List.of("-Xms256m", "-Xmx512m", "-XX:TieredStopAtLevel=1",
                "-Dlog.file=" + logDir.resolve("kafka.log"),
                "-Dlog4j2.configurationFile=" + log4j.toUri(),
                "-Dkafka.logs.dir=" + logDir);
    }
}
