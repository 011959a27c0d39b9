package dev.mmureplay.bench;

import org.apache.flink.api.dag.Pipeline;
import org.apache.flink.client.deployment.executors.PipelineExecutorUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.PipelineExecutor;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.minicluster.MiniClusterJobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;

import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * One embedded Flink MiniCluster for the whole bench, started once: every job is submitted to it, so a job's wall time
 * does not include starting a cluster (a plain {@code getExecutionEnvironment()} starts a new MiniCluster per
 * {@code execute}). Does what flink-test-utils' {@code MiniClusterPipelineExecutorServiceLoader} does, without
 * pulling in flink-test-utils (JUnit, Hadoop MiniKDC, RocksDB, ...).
 */
final class SharedMiniCluster implements PipelineExecutorServiceLoader, AutoCloseable {

    private static final String TARGET = "mmu-replay-bench-minicluster";

    private final MiniCluster cluster;

    SharedMiniCluster(int slots) throws Exception {
        Configuration c = new Configuration();
        c.set(RestOptions.BIND_PORT, "0");
        c.set(org.apache.flink.configuration.WebOptions.CHECKPOINTS_HISTORY_SIZE, 1000);   // the latency dump   // other processes on this machine may hold 8081
        cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(c)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(slots)
                .build());
        cluster.start();
    }

    MiniCluster cluster() {
        return cluster;
    }

    /** A fresh environment submitting to this cluster (the job's settings; no restarts: a failure fails the bench). */
    StreamExecutionEnvironment env(int parallelism) {
        Configuration conf = dev.mmureplay.jobs.ReplayJob.configure(new Configuration());
        conf.set(DeploymentOptions.TARGET, TARGET);
        conf.set(DeploymentOptions.ATTACHED, true);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(this, conf,
                SharedMiniCluster.class.getClassLoader());
        env.setParallelism(parallelism);
        return env;
    }

    @Override
    public PipelineExecutorFactory getExecutorFactory(Configuration configuration) {
        return new PipelineExecutorFactory() {
            @Override
            public String getName() {
                return TARGET;
            }

            @Override
            public boolean isCompatibleWith(Configuration conf) {
                return true;
            }

            @Override
            public PipelineExecutor getExecutor(Configuration conf) {
                return SharedMiniCluster.this::submit;
            }
        };
    }

    @Override
    public Stream<String> getExecutorNames() {
        return Stream.of(TARGET);
    }

    private CompletableFuture<JobClient> submit(Pipeline pipeline, Configuration conf, ClassLoader cl)
            throws Exception {
        StreamGraph graph = PipelineExecutorUtils.getStreamGraph(pipeline, conf);
        return cluster.submitJob(graph).thenApply(r -> new MiniClusterJobClient(r.getJobID(), cluster, cl,
                MiniClusterJobClient.JobFinalizationBehavior.NOTHING));
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
