package dev.mmureplay.cluster;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A Flink standalone session cluster of child JVMs on 127.0.0.1: one JobManager
 * ({@code StandaloneSessionClusterEntrypoint}) and N TaskManagers ({@code TaskManagerRunner}), started the way
 * Flink's own scripts start them (a {@code config.yaml} in a conf dir, memory flags from {@code BashJavaUtils}, the
 * Java 17 {@code --add-opens} list), on the classpath written by the {@code classpath-flink} module. Jobs are
 * submitted over the REST API (jar upload + run), as the web UI does.
 *
 * <p>Everything lives in one fresh directory under {@code workDir}: {@code conf/}, {@code log/} (one
 * {@code .log} and one {@code .out} per process), {@code checkpoints/}, {@code tmp/}.
 */
public final class FlinkStandaloneCluster implements AutoCloseable {

    /** System property (set by failsafe) naming the file with the Flink processes' classpath. */
    public static final String CLASSPATH_FILE_PROPERTY = "cluster.flinkClasspathFile";

    /** Flink's default {@code env.java.opts.all} for Java 17 (flink-dist's config.yaml). */
    public static final List<String> JAVA_17_OPTS = List.of(
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
            "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED",
            "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    private static final String JOB_MANAGER_MAIN =
            "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    private static final String TASK_MANAGER_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    private static final String BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils";
    private static final String BASH_JAVA_UTILS_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";
    private static final Set<String> TERMINAL = Set.of("FINISHED", "FAILED", "CANCELED");
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(120);
    private static final int LOG_TAIL_LINES = 40;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final Path confDir;
    private final Path logDir;
    private final String classpath;
    private final int slotsPerTaskManager;
    private final int restPort;
    private final String prometheusPorts;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<ChildJvm> taskManagers = new ArrayList<>();
    private final Map<String, String> config = new LinkedHashMap<>();
    private final Map<Path, String> uploadedJars = new HashMap<>();
    private Params taskManagerParams;
    private ChildJvm jobManager;

    private FlinkStandaloneCluster(Path dir, String classpath, int slotsPerTaskManager) {
        this.dir = dir;
        this.confDir = dir.resolve("conf");
        this.logDir = dir.resolve("log");
        this.classpath = classpath;
        this.slotsPerTaskManager = slotsPerTaskManager;
        this.restPort = FreePorts.next();
        int prometheusBase = FreePorts.next();
        this.prometheusPorts = prometheusBase + "-" + (prometheusBase + 15);
    }

    /** Starts a JobManager and {@code taskManagers} TaskManagers; returns when all their slots are registered. */
    public static FlinkStandaloneCluster start(Path workDir, int taskManagers, int slotsPerTaskManager)
            throws IOException, InterruptedException {
        return start(workDir, taskManagers, slotsPerTaskManager, Map.of());
    }

    /** As {@link #start(Path, int, int)}, with {@code extraConfig} added to (or overriding) the config.yaml. */
    public static FlinkStandaloneCluster start(Path workDir, int taskManagers, int slotsPerTaskManager,
                                               Map<String, String> extraConfig)
            throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        Path dir = Files.createTempDirectory(workDir.toAbsolutePath(), "flink-");
        FlinkStandaloneCluster cluster = new FlinkStandaloneCluster(dir, readClasspath(CLASSPATH_FILE_PROPERTY),
                slotsPerTaskManager);
        try {
            cluster.writeConfig(extraConfig);
            // both BashJavaUtils runs at once, then every process at once: TaskManagers retry until the
            // JobManager's ResourceManager answers (cluster.registration.* in writeConfig keep those retries short)
            CompletableFuture<Params> tmParams = CompletableFuture.supplyAsync(
                    () -> cluster.resourceParamsUnchecked("GET_TM_RESOURCE_PARAMS"));
            Params jmParams = cluster.resourceParams("GET_JM_RESOURCE_PARAMS");
            cluster.taskManagerParams = join(tmParams);
            cluster.launchJobManager(jmParams);
            for (int i = 0; i < taskManagers; i++) {
                cluster.launchTaskManager();
            }
            cluster.waitForRestApi();
            cluster.waitForTaskManagers(taskManagers, STARTUP_TIMEOUT);
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            String tails = cluster.logTails();
            cluster.close();
            throw new IllegalStateException("Flink cluster in " + dir + " did not start: " + e + "\n" + tails, e);
        }
    }

    static String readClasspath(String property) throws IOException {
        String file = System.getProperty(property);
        if (file == null) {
            throw new IllegalStateException("system property " + property + " is not set (failsafe sets it; "
                    + "run through Maven: ./mvnw -pl cluster-tests -am verify)");
        }
        String classpath = Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
        if (classpath.isEmpty()) {
            throw new IllegalStateException("empty classpath file " + file);
        }
        return classpath;
    }

    // ------------------------------------------------------------------------------------------ startup

    private void writeConfig(Map<String, String> extraConfig) throws IOException {
        Files.createDirectories(confDir);
        Files.createDirectories(logDir);
        config.put("jobmanager.rpc.address", "127.0.0.1");
        config.put("jobmanager.rpc.port", String.valueOf(FreePorts.next()));
        config.put("jobmanager.bind-host", "127.0.0.1");
        config.put("taskmanager.bind-host", "127.0.0.1");
        config.put("taskmanager.host", "127.0.0.1");
        config.put("rest.address", "127.0.0.1");
        config.put("rest.bind-address", "127.0.0.1");
        config.put("rest.port", String.valueOf(restPort));
        config.put("taskmanager.numberOfTaskSlots", String.valueOf(slotsPerTaskManager));
        config.put("parallelism.default", "1");
        // memory: small processes (a 2-core machine shared with the build)
        config.put("jobmanager.memory.process.size", "512m");
        config.put("jobmanager.memory.jvm-metaspace.size", "128m");
        config.put("jobmanager.memory.jvm-overhead.min", "64m");
        config.put("taskmanager.memory.process.size", "1024m");
        config.put("taskmanager.memory.managed.size", "64m");
        config.put("taskmanager.memory.network.min", "64m");
        config.put("taskmanager.memory.network.max", "64m");
        config.put("taskmanager.memory.jvm-metaspace.size", "192m");
        config.put("taskmanager.memory.jvm-overhead.min", "96m");
        config.put("taskmanager.memory.jvm-overhead.max", "96m");
        // a TaskManager started before the JobManager is up retries every second, not after 10 s
        config.put("cluster.registration.error-delay", "1000");
        config.put("cluster.registration.max-timeout", "5000");
        // fault tolerance: a killed TaskManager is noticed within seconds (failed heartbeat RPCs), jobs restart
        config.put("heartbeat.interval", "1000");
        config.put("heartbeat.timeout", "10000");
        config.put("jobmanager.execution.failover-strategy", "region");
        config.put("restart-strategy.type", "fixed-delay");
        config.put("restart-strategy.fixed-delay.attempts", "30");
        config.put("restart-strategy.fixed-delay.delay", "1 s");
        config.put("state.backend.type", "hashmap");
        config.put("execution.checkpointing.dir", dir.resolve("checkpoints").toUri().toString());
        config.put("io.tmp.dirs", dir.resolve("tmp").toString());
        config.put("web.tmpdir", dir.resolve("web-tmp").toString());
        config.put("metrics.reporter.prom.factory.class",
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        config.put("metrics.reporter.prom.port", prometheusPorts);
        // read by this class, as flink-dist's scripts read them: C1 only roughly halves a JobManager's start-up
        // (10 s -> 5.5 s measured on a loaded 2-core machine); test jobs are small, peak JIT speed does not matter
        config.put("env.java.opts.all", "-XX:TieredStopAtLevel=1");
        config.putAll(extraConfig);

        StringBuilder yaml = new StringBuilder(
                "# written by FlinkStandaloneCluster (Flink 2.x reads only config.yaml)\n");
        config.forEach((key, value) -> yaml.append(key).append(": '").append(value.replace("'", "''")).append("'\n"));
        Files.writeString(confDir.resolve("config.yaml"), yaml.toString(), StandardCharsets.UTF_8);
        Files.writeString(confDir.resolve("log4j.properties"), String.join("\n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.file.ref = MainAppender",
                "logger.kafka.name = org.apache.kafka",
                "logger.kafka.level = WARN",
                "appender.main.name = MainAppender",
                "appender.main.type = File",
                "appender.main.append = true",
                "appender.main.fileName = ${sys:log.file}",
                "appender.main.layout.type = PatternLayout",
                "appender.main.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
                ""), StandardCharsets.UTF_8);
    }

    private void launchJobManager(Params params) throws IOException {
        List<String> args = new ArrayList<>(List.of("--configDir", confDir.toString()));
        args.addAll(params.dynamicArgs);
        jobManager = ChildJvm.start("jobmanager", classpath, jvmArgs(params.jvmArgs, "jobmanager", "jobmanager"),
                JOB_MANAGER_MAIN, args, logDir);
    }

    private void waitForRestApi() {
        Waiting.until("the JobManager's REST API at " + restUrl(), STARTUP_TIMEOUT, Duration.ofMillis(250),
                () -> {
                    if (!jobManager.isAlive()) {
                        throw new IllegalStateException("the JobManager exited");
                    }
                    return get("/overview").has("taskmanagers");
                }, this::logTails);
    }

    private ChildJvm launchTaskManager() throws IOException {
        int index = taskManagers.size();
        String name = "taskmanager-" + index;
        List<String> args = new ArrayList<>(List.of("--configDir", confDir.toString()));
        args.addAll(taskManagerParams.dynamicArgs);
        args.addAll(List.of("-D", "taskmanager.resource-id=" + name));
        ChildJvm taskManager = ChildJvm.start(name, classpath, jvmArgs(taskManagerParams.jvmArgs, "taskmanager", name),
                TASK_MANAGER_MAIN, args, logDir);
        taskManagers.add(taskManager);
        return taskManager;
    }

    /** Like flink-dist's scripts: memory flags, the Java 17 list, env.java.opts.all, env.java.opts.{role}. */
    private List<String> jvmArgs(List<String> memoryArgs, String role, String name) {
        List<String> args = new ArrayList<>(memoryArgs);
        args.addAll(JAVA_17_OPTS);
        args.addAll(split(config.getOrDefault("env.java.opts.all", "")));
        args.addAll(split(config.getOrDefault("env.java.opts." + role, "")));
        args.add("-Dlog.file=" + logDir.resolve(name + ".log"));
        args.add("-Dlog4j.configurationFile=" + confDir.resolve("log4j.properties").toUri());
        return args;
    }

    private record Params(List<String> jvmArgs, List<String> dynamicArgs) {}

    /**
     * Runs BashJavaUtils like flink-dist's config.sh does: its last two result lines are the JVM memory flags and
     * the dynamic properties ({@code -D key=value ...}) to pass to the entrypoint.
     */
    private Params resourceParams(String command) throws IOException, InterruptedException {
        String output = ChildJvm.run("bash-java-utils-" + command, classpath,
                List.of("-Xmx128m", "-XX:TieredStopAtLevel=1",
                        "-Dlog.file=" + logDir.resolve("bash-java-utils-" + command + ".log"),
                        "-Dlog4j.configurationFile=" + confDir.resolve("log4j.properties").toUri()),
                BASH_JAVA_UTILS, List.of(command, "--configDir", confDir.toString()), logDir, Duration.ofSeconds(60));
        List<String> results = output.lines()
                .filter(line -> line.startsWith(BASH_JAVA_UTILS_PREFIX))
                .map(line -> line.substring(BASH_JAVA_UTILS_PREFIX.length()).trim())
                .collect(Collectors.toList());
        if (results.size() < 2) {
            throw new IllegalStateException("unexpected BashJavaUtils " + command + " output:\n" + output);
        }
        return new Params(split(results.get(results.size() - 2)), split(results.get(results.size() - 1)));
    }

    private Params resourceParamsUnchecked(String command) {
        try {
            return resourceParams(command);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static <T> T join(CompletableFuture<T> future) throws IOException {
        try {
            return future.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException io) {
                throw io.getCause();
            }
            throw e;
        }
    }

    private static List<String> split(String line) {
        return line.isBlank() ? List.of() : Arrays.asList(line.trim().split("\\s+"));
    }

    // ------------------------------------------------------------------------------------------ cluster API

    /** e.g. {@code http://127.0.0.1:41234} */
    public String restUrl() {
        return "http://127.0.0.1:" + restPort;
    }

    /** The port range the Prometheus reporters bind in (each process takes the first free port of it). */
    public String prometheusPorts() {
        return prometheusPorts;
    }

    /**
     * Scrapes {@code /metrics} on every port of {@link #prometheusPorts()} that answers: port -> Prometheus text.
     * Each process's reporter takes the first free port of the range, so the JobManager is usually the first.
     */
    public Map<Integer, String> scrapePrometheus() throws InterruptedException {
        String[] range = prometheusPorts.split("-");
        Map<Integer, String> scrapes = new LinkedHashMap<>();
        for (int port = Integer.parseInt(range[0]); port <= Integer.parseInt(range[1]); port++) {
            try {
                HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(5)).build();
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    scrapes.put(port, response.body());
                }
            } catch (IOException e) {
                // nothing listens there
            }
        }
        return scrapes;
    }

    public Path directory() {
        return dir;
    }

    public Path logDirectory() {
        return logDir;
    }

    /**
     * Uploads {@code jobJar} ({@code POST /jars/upload}) and runs {@code mainClass} from it with {@code args}
     * ({@code POST /jars/{id}/run}); returns the job id. The jar must not bundle Flink itself. A jar is uploaded
     * once per cluster (same path: the same upload).
     */
    public String submit(Path jobJar, String mainClass, String... args) throws IOException, InterruptedException {
        if (!Files.isRegularFile(jobJar)) {
            throw new IllegalArgumentException("no job jar at " + jobJar + " (built in the package phase)");
        }
        String jarId = uploadedJars.get(jobJar.toAbsolutePath());
        if (jarId == null) {
            jarId = upload(jobJar);
            uploadedJars.put(jobJar.toAbsolutePath(), jarId);
        }
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("entryClass", mainClass);
        run.put("programArgsList", List.of(args));
        JsonNode result = send(HttpRequest.newBuilder(URI.create(restUrl() + "/jars/" + jarId + "/run"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(run))), Duration.ofSeconds(120));
        String jobId = result.path("jobid").asText();
        if (jobId.isEmpty()) {
            throw new IllegalStateException("jar run answered " + result + "\n" + logTails());
        }
        return jobId;
    }

    /** POST /jars/upload (multipart, part "jarfile"); returns the jar id. */
    private String upload(Path jobJar) throws IOException, InterruptedException {
        String boundary = "----cluster-tests-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"jarfile\"; filename=\"" + jobJar.getFileName() + "\"\r\n"
                + "Content-Type: application/x-java-archive\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(jobJar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        JsonNode upload = send(HttpRequest.newBuilder(URI.create(restUrl() + "/jars/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())), Duration.ofSeconds(60));
        String uploaded = upload.path("filename").asText();
        if (uploaded.isEmpty()) {
            throw new IllegalStateException("jar upload answered " + upload);
        }
        return Path.of(uploaded).getFileName().toString();
    }

    /** The job's state: CREATED, RUNNING, RESTARTING, FINISHED, FAILED, CANCELED, ... */
    public String jobStatus(String jobId) throws IOException, InterruptedException {
        return get("/jobs/" + jobId).path("state").asText();
    }

    /** Waits until the job is FINISHED, FAILED or CANCELED and returns that state. */
    public String waitForJob(String jobId, Duration timeout) {
        String[] last = {"?"};
        Waiting.until("job " + jobId + " to end", timeout, Duration.ofMillis(500),
                () -> TERMINAL.contains(last[0] = jobStatus(jobId)),
                () -> "last state: " + last[0] + "\n" + failuresText(jobId) + logTails());
        return last[0];
    }

    /** Waits until the job is RUNNING and every one of its tasks is RUNNING (or already FINISHED). */
    public void waitForJobRunning(String jobId, Duration timeout) {
        Waiting.until("every task of job " + jobId + " to run", timeout, Duration.ofMillis(250), () -> {
            JsonNode job = get("/jobs/" + jobId);
            if (!"RUNNING".equals(job.path("state").asText())) {
                return false;
            }
            for (JsonNode vertex : job.path("vertices")) {
                String status = vertex.path("status").asText();
                if (!status.equals("RUNNING") && !status.equals("FINISHED")) {
                    return false;
                }
            }
            return true;
        }, () -> failuresText(jobId) + logTails());
    }

    /** Number of completed checkpoints of the job (kept across restarts). */
    public long completedCheckpoints(String jobId) throws IOException, InterruptedException {
        return get("/jobs/" + jobId + "/checkpoints").path("counts").path("completed").asLong();
    }

    /** The job's failures so far ({@code /jobs/{id}/exceptions}), one line each: exception, task, TaskManager. */
    public List<String> jobFailures(String jobId) throws IOException, InterruptedException {
        List<String> failures = new ArrayList<>();
        for (JsonNode entry : get("/jobs/" + jobId + "/exceptions").path("exceptionHistory").path("entries")) {
            failures.add(entry.path("exceptionName").asText() + " in " + entry.path("taskName").asText("?")
                    + " on " + entry.path("taskManagerId").asText("?"));
        }
        return failures;
    }

    /** Cancels the job ({@code PATCH /jobs/{id}?mode=cancel}) and waits until it is CANCELED (or otherwise ended). */
    public void cancel(String jobId) throws IOException, InterruptedException {
        send(HttpRequest.newBuilder(URI.create(restUrl() + "/jobs/" + jobId + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()), Duration.ofSeconds(30));
        waitForJob(jobId, Duration.ofSeconds(60));
    }

    /** TaskManagers registered at the JobManager ({@code GET /taskmanagers}): their resource ids. */
    /** Ids of the cluster's jobs in the given state (e.g. "RUNNING"), from {@code /jobs/overview}. */
    public List<String> jobs(String state) throws IOException, InterruptedException {
        List<String> out = new ArrayList<>();
        for (JsonNode job : get("/jobs/overview").path("jobs")) {
            if (job.path("state").asText().equals(state)) {
                out.add(job.path("jid").asText());
            }
        }
        return out;
    }

    /**
     * The index of a live TaskManager that runs a RUNNING subtask of the job ({@code taskmanager-id} of
     * {@code /jobs/{id}/vertices/{vid}} = our {@code taskmanager.resource-id}), or -1: the one to kill when a fault
     * must hit the job (a TaskManager whose subtasks have all finished would not).
     */
    public int taskManagerRunning(String jobId) throws IOException, InterruptedException {
        for (JsonNode vertex : get("/jobs/" + jobId).path("vertices")) {
            for (JsonNode subtask : get("/jobs/" + jobId + "/vertices/" + vertex.path("id").asText())
                    .path("subtasks")) {
                if (!"RUNNING".equals(subtask.path("status").asText())) {
                    continue;
                }
                String id = subtask.path("taskmanager-id").asText();
                for (int i = 0; i < taskManagers.size(); i++) {
                    if (taskManagers.get(i).isAlive() && taskManagers.get(i).name().equals(id)) {
                        return i;
                    }
                }
            }
        }
        return -1;
    }

    public List<String> registeredTaskManagers() throws IOException, InterruptedException {
        List<String> ids = new ArrayList<>();
        for (JsonNode tm : get("/taskmanagers").path("taskmanagers")) {
            ids.add(tm.path("id").asText());
        }
        return ids;
    }

    /** Waits until exactly {@code count} TaskManagers with all their slots are registered. */
    public void waitForTaskManagers(int count, Duration timeout) {
        Waiting.until(count + " TaskManagers with " + slotsPerTaskManager + " slot(s) each", timeout,
                Duration.ofMillis(250), () -> {
                    JsonNode overview = get("/overview");
                    return overview.path("taskmanagers").asInt() == count
                            && overview.path("slots-total").asInt() == count * slotsPerTaskManager;
                }, this::logTails);
    }

    /** Number of TaskManager processes started so far (killed ones included); their indexes are 0..n-1. */
    public int taskManagerCount() {
        return taskManagers.size();
    }

    public boolean isTaskManagerAlive(int index) {
        return taskManagers.get(index).isAlive();
    }

    /** SIGKILLs TaskManager {@code index} (no orderly shutdown: the JobManager learns it from failed heartbeats). */
    public void killTaskManager(int index) {
        taskManagers.get(index).kill();
    }

    /** Starts one more TaskManager and waits until it is registered; returns its index. */
    public int startTaskManager() throws IOException {
        ChildJvm taskManager = launchTaskManager();
        Waiting.until(taskManager.name() + " to register", STARTUP_TIMEOUT, Duration.ofMillis(250), () -> {
            if (!taskManager.isAlive()) {
                throw new IllegalStateException(taskManager.name() + " exited");
            }
            return registeredTaskManagers().contains(taskManager.name());
        }, this::logTails);
        return taskManagers.size() - 1;
    }

    /** The last lines of every process's log and output, for failure messages. */
    public String logTails() {
        StringBuilder text = new StringBuilder();
        List<ChildJvm> processes = new ArrayList<>();
        if (jobManager != null) {
            processes.add(jobManager);
        }
        processes.addAll(taskManagers);
        for (ChildJvm process : processes) {
            text.append("\n===== ").append(process).append(": ")
                    .append(logDir.resolve(process.name() + ".log")).append(" (tail) =====\n")
                    .append(ChildJvm.tail(logDir.resolve(process.name() + ".log"), LOG_TAIL_LINES))
                    .append("\n----- ").append(process.name()).append(".out (tail) -----\n")
                    .append(process.outputTail(10));
        }
        return text.append('\n').toString();
    }

    /**
     * Kills every process of the cluster (SIGKILL: nothing here needs an orderly shutdown), then deletes its
     * {@code tmp/} and {@code web-tmp/} (blob copies of every job jar per TaskManager: ~250 MB a run); the logs, the
     * conf and the checkpoints stay.
     */
    @Override
    public void close() {
        taskManagers.forEach(ChildJvm::kill);
        if (jobManager != null) {
            jobManager.kill();
        }
        deleteRecursively(dir.resolve("tmp"));
        deleteRecursively(dir.resolve("web-tmp"));
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort: it is all under target/
        }
    }

    // ------------------------------------------------------------------------------------------ REST

    private String failuresText(String jobId) {
        try {
            List<String> failures = jobFailures(jobId);
            return failures.isEmpty() ? "" : "job failures:\n  " + String.join("\n  ", failures) + "\n";
        } catch (Exception e) {
            return "(job failures unavailable: " + e + ")\n";
        }
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(restUrl() + path)).GET(), Duration.ofSeconds(10));
    }

    private JsonNode send(HttpRequest.Builder request, Duration timeout) throws IOException, InterruptedException {
        HttpRequest built = request.timeout(timeout).build();
        HttpResponse<String> response = http.send(built, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IOException(built.method() + " " + built.uri() + " answered " + response.statusCode() + ": "
                    + response.body());
        }
        return response.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(response.body());
    }
}
