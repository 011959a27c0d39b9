package dev.mmureplay.cluster;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * A Kafka broker process and a standalone Flink cluster, started together (each start is mostly JVM warm-up, and the
 * two overlap well even on 2 cores) under {@code cluster.workDir}; what a cluster-tier test class shares.
 */
final class BrokerAndCluster implements AutoCloseable {

    final KafkaBrokerProcess broker;
    final FlinkStandaloneCluster cluster;
    final long startMillis;

    private BrokerAndCluster(KafkaBrokerProcess broker, FlinkStandaloneCluster cluster, long startMillis) {
        this.broker = broker;
        this.cluster = cluster;
        this.startMillis = startMillis;
    }

    /** Both started, the cluster with {@code taskManagers} TaskManagers of one slot each. */
    static BrokerAndCluster start(int taskManagers) throws Exception {
        Path workDir = Path.of(System.getProperty("cluster.workDir", "target/cluster-it"));
        CompletableFuture<KafkaBrokerProcess> brokerStart = CompletableFuture.supplyAsync(() -> {
            try {
                return KafkaBrokerProcess.start(workDir);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        long t0 = System.nanoTime();
        FlinkStandaloneCluster cluster = null;
        try {
            cluster = FlinkStandaloneCluster.start(workDir, taskManagers, 1);
        } finally {
            KafkaBrokerProcess broker = brokerStart.join();
            if (cluster == null) {
                broker.close();
            }
            if (cluster != null) {
                return new BrokerAndCluster(broker, cluster, (System.nanoTime() - t0) / 1_000_000);
            }
        }
        throw new IllegalStateException("unreachable");
    }

    /** Prints the processes' log tails when a test fails ({@code current} may still be null). */
    static TestWatcher logTailsOnFailure(Supplier<BrokerAndCluster> current) {
        return new TestWatcher() {
            @Override
            public void testFailed(ExtensionContext context, Throwable cause) {
                BrokerAndCluster b = current.get();
                System.out.println("FAILED " + context.getDisplayName() + "; log tails:"
                        + (b == null ? "" : b.cluster.logTails() + b.broker.logTail()));
            }
        };
    }

    @Override
    public void close() {
        cluster.close();
        broker.close();
    }
}
