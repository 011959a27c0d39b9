package dev.mmureplay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Tier 3: the smoke job ({@link dev.mmureplay.cluster.job.UppercaseCopyJob}, from this module's job jar) on a real
 * standalone cluster of 2 TaskManagers x 1 slot, against a broker process; exactly-once with and without faults.
 * One cluster and one broker for the class (each start costs seconds); every test uses its own topics and leaves
 * 2 live TaskManagers and a running broker behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {

    private static final String JOB_CLASS = "dev.mmureplay.cluster.job.UppercaseCopyJob";
    private static final int PARALLELISM = 2;
    private static final Duration JOB_TIMEOUT = Duration.ofSeconds(180);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(90);

    private BrokerAndCluster processes;
    private KafkaBrokerProcess broker;
    private FlinkStandaloneCluster cluster;

    @RegisterExtension
    final TestWatcher logTailsOnFailure = BrokerAndCluster.logTailsOnFailure(() -> processes);

    @BeforeAll
    void startBrokerAndCluster() throws Exception {
        processes = BrokerAndCluster.start(2);
        broker = processes.broker;
        cluster = processes.cluster;
        log("broker and cluster (2 TaskManagers) up in %d ms; logs in %s and %s", processes.startMillis,
                cluster.logDirectory(), broker.directory().resolve("log"));
    }

    @AfterAll
    void stopAll() {
        if (processes != null) {
            processes.close();
        }
    }

    @Test
    @Order(1)
    void copiesEveryRecordExactlyOnce() throws Exception {
        Run run = new Run("smoke", 2_000);
        String jobId = run.submit(0);

        assertEquals("FINISHED", cluster.waitForJob(jobId, JOB_TIMEOUT), run.diagnostics(jobId));
        run.assertOutputExactlyOnce(jobId);
    }

    @Test
    @Order(2)
    void exposesPrometheusMetricsOfEveryProcess() throws Exception {
        Waiting.until("Prometheus metrics of the JobManager and both TaskManagers on " + cluster.prometheusPorts(),
                Duration.ofSeconds(30), Duration.ofMillis(500), () -> {
                    Collection<String> scrapes = cluster.scrapePrometheus().values();
                    return scrapes.stream().anyMatch(s -> s.contains("flink_jobmanager_numRegisteredTaskManagers"))
                            && scrapes.stream().filter(s -> s.contains("flink_taskmanager_Status_JVM")).count() == 2;
                }, () -> cluster.logTails());
    }

    @Test
    @Order(3)
    void killedTaskManagerIsReplacedAndOutputStaysExactlyOnce() throws Exception {
        Run run = new Run("tm-kill", 3_000);
        String jobId = run.submit(4); // 1500 records x 4 ms per subtask: 6 s of work
        awaitMidStream(jobId);

        int victim = cluster.taskManagerRunning(jobId);
        assertTrue(victim >= 0, "no TaskManager runs a subtask of the job any more\n" + run.diagnostics(jobId));
        long t0 = System.nanoTime();
        cluster.killTaskManager(victim);
        cluster.startTaskManager();
        log("killed taskmanager-%d and started a new one in %d ms", victim, (System.nanoTime() - t0) / 1_000_000);

        assertEquals("FINISHED", cluster.waitForJob(jobId, JOB_TIMEOUT), run.diagnostics(jobId));
        List<String> failures = cluster.jobFailures(jobId);
        assertFalse(failures.isEmpty(), "the job did not notice the killed TaskManager\n" + run.diagnostics(jobId));
        run.assertOutputExactlyOnce(jobId);
    }

    @Test
    @Order(4)
    void brokerRestartMidStreamKeepsOutputExactlyOnce() throws Exception {
        Run run = new Run("broker-restart", 3_000);
        String jobId = run.submit(4);
        awaitMidStream(jobId);

        long t0 = System.nanoTime();
        broker.stop();
        long t1 = System.nanoTime();
        broker.start();
        log("broker stopped in %d ms, started again in %d ms", (t1 - t0) / 1_000_000,
                (System.nanoTime() - t1) / 1_000_000);

        assertEquals("FINISHED", cluster.waitForJob(jobId, JOB_TIMEOUT), run.diagnostics(jobId));
        // either outcome is fine: the clients ride through a short outage, or the job fails over
        log("job failures across the broker restart: %s", cluster.jobFailures(jobId));
        run.assertOutputExactlyOnce(jobId);
    }

    /** Job running, at least 2 checkpoints completed (so some output is committed), not finished. */
    private void awaitMidStream(String jobId) throws Exception {
        cluster.waitForJobRunning(jobId, JOB_TIMEOUT);
        Waiting.until("2 completed checkpoints of job " + jobId, JOB_TIMEOUT, Duration.ofMillis(200),
                () -> cluster.completedCheckpoints(jobId) >= 2, cluster::logTails);
        assertEquals("RUNNING", cluster.jobStatus(jobId),
                "the job must still be running when the fault is injected (raise the per-record delay)");
    }

    private static void log(String format, Object... args) {
        System.out.printf("[StandaloneClusterIT] " + format + "%n", args);
    }

    /** One job run: its topics, input, and the job's arguments. */
    private final class Run {
        final String input;
        final String output;
        final String name;
        final List<String> records;

        Run(String name, int count) throws Exception {
            this.name = name + "-" + Long.toString(System.nanoTime(), 36);
            this.input = this.name + "-in";
            this.output = this.name + "-out";
            this.records = KafkaRecords.numbered("record-" + name, count);
            broker.createTopic(input, PARALLELISM);
            broker.createTopic(output, PARALLELISM);
            KafkaRecords.produce(broker.bootstrapServers(), input, records);
        }

        String submit(long delayMsPerRecord) throws Exception {
            return cluster.submit(Path.of(System.getProperty("cluster.jobJar")), JOB_CLASS,
                    "--bootstrap-servers", broker.bootstrapServers(),
                    "--input", input,
                    "--output", output,
                    "--transactional-id-prefix", name,
                    "--checkpoint-interval-ms", "1000",
                    "--parallelism", String.valueOf(PARALLELISM),
                    "--delay-ms-per-record", String.valueOf(delayMsPerRecord));
        }

        void assertOutputExactlyOnce(String jobId) throws Exception {
            List<String> expected = records.stream().map(r -> r.toUpperCase(Locale.ROOT))
                    .collect(Collectors.toList());
            List<String> actual = KafkaRecords.readCommitted(broker.bootstrapServers(), output, READ_TIMEOUT);
            KafkaRecords.assertExactlyOnce(expected, actual, diagnostics(jobId));
        }

        String diagnostics(String jobId) {
            String failures;
            try {
                failures = String.join("\n  ", cluster.jobFailures(jobId));
            } catch (Exception e) {
                failures = "(unavailable: " + e + ")";
            }
            return "job " + jobId + " (" + name + ") failures:\n  " + failures + "\n" + cluster.logTails()
                    + broker.logTail();
        }
    }
}
