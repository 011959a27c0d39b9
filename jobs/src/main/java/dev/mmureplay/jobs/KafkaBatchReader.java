package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.source.reader.RecordEmitter;
import org.apache.flink.connector.base.source.reader.SingleThreadMultiplexSourceReaderBase;
import org.apache.flink.connector.base.source.reader.fetcher.SingleThreadFetcherManager;
import org.apache.flink.connector.base.source.reader.fetcher.SplitFetcher;
import org.apache.flink.connector.base.source.reader.fetcher.SplitFetcherTask;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.apache.flink.connector.kafka.source.KafkaSourceOptions;
import org.apache.flink.connector.kafka.source.metrics.KafkaSourceReaderMetrics;
import org.apache.flink.connector.kafka.source.reader.KafkaPartitionSplitReader;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplitState;
import org.apache.flink.metrics.Counter;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetCommitCallback;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The source reader of {@link KafkaBatchSource}: Flink's split-reader machinery around {@link KafkaRunSplitReader},
 * with the checkpoint and offset-commit behaviour of Flink's own {@code KafkaSourceReader}.
 *
 * <ul>
 *   <li>Each {@link KafkaRun} (a fetch of one partition) is emitted together with its partition's position
 *       ({@code lastOffset + 1}), so the splits a checkpoint stores start exactly after the last fetch emitted
 *       before it.</li>
 *   <li>{@link #snapshotState} keeps the offsets of the checkpoint (assigned partitions' positions and the final
 *       positions of finished partitions); {@link #notifyCheckpointComplete} commits them for the consumer group, on
 *       the fetcher thread that owns the consumer. A failed commit is logged and counted, never fails the job (the
 *       checkpoints, not the committed offsets, are what a restore uses). Disabled by
 *       {@code commit.offsets.on.checkpoint=false}.</li>
 *   <li>Metrics: the connector's {@link KafkaSourceReaderMetrics} (consumer metrics, current and committed offsets,
 *       commit counters); {@code numRecordsIn} counts Kafka records (a batch of n events adds n), dead letters also
 *       count in {@code numRecordsInErrors}.</li>
 * </ul>
 */
final class KafkaBatchReader extends SingleThreadMultiplexSourceReaderBase<KafkaRun, Either<EventBatch, DeadLetter>,
        KafkaPartitionSplit, KafkaPartitionSplitState> {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaBatchReader.class);

    /** Offsets to commit per checkpoint id (the fetcher thread's commit callback removes them). */
    private final SortedMap<Long, Map<TopicPartition, OffsetAndMetadata>> offsetsToCommit =
            Collections.synchronizedSortedMap(new TreeMap<>());
    /** Final positions of the partitions finished since the last successful commit. */
    private final Map<TopicPartition, OffsetAndMetadata> offsetsOfFinishedSplits = new ConcurrentHashMap<>();
    private final KafkaSourceReaderMetrics kafkaMetrics;
    private final boolean commitOffsetsOnCheckpoint;

    private KafkaBatchReader(FetcherManager fetchers, Configuration config, SourceReaderContext context,
                             KafkaSourceReaderMetrics kafkaMetrics) {
        super(fetchers, new Emitter(context), config, context);
        this.kafkaMetrics = kafkaMetrics;
        this.commitOffsetsOnCheckpoint = config.get(KafkaSourceOptions.COMMIT_OFFSETS_ON_CHECKPOINT);
        if (!commitOffsetsOnCheckpoint) {
            LOG.warn("Offset commit on checkpoint is disabled: the consumer group's offsets stay where they are.");
        }
    }

    /** A reader with the consumer {@code props} (as {@link KafkaBatchSource#consumerProperties} makes them). */
    static KafkaBatchReader create(Properties props, SourceReaderContext context) {
        Configuration config = new Configuration();
        props.stringPropertyNames().forEach(k -> config.setString(k, props.getProperty(k)));
        KafkaSourceReaderMetrics metrics = new KafkaSourceReaderMetrics(context.metricGroup());
        Supplier<SplitReader<KafkaRun, KafkaPartitionSplit>> splitReaders = () -> new KafkaRunSplitReader(
                new KafkaPartitionSplitReader(props, context, metrics, null), EventBatch.MAX_EVENTS);
        return new KafkaBatchReader(new FetcherManager(splitReaders, config), config, context, metrics);
    }

    @Override
    protected void onSplitFinished(Map<String, KafkaPartitionSplitState> finished) {
        finished.forEach((id, state) -> {
            if (state.getCurrentOffset() >= 0) {
                offsetsOfFinishedSplits.put(state.getTopicPartition(), new OffsetAndMetadata(state.getCurrentOffset()));
            }
        });
    }

    @Override
    public List<KafkaPartitionSplit> snapshotState(long checkpointId) {
        List<KafkaPartitionSplit> splits = super.snapshotState(checkpointId);
        if (!commitOffsetsOnCheckpoint || checkpointId < 0) {
            return splits;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(offsetsOfFinishedSplits);
        for (KafkaPartitionSplit split : splits) {
            if (split.getStartingOffset() >= 0) {   // not yet a real offset (earliest/committed marker): nothing
                offsets.put(split.getTopicPartition(), new OffsetAndMetadata(split.getStartingOffset()));
            }
        }
        offsetsToCommit.put(checkpointId, offsets);
        return splits;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        if (!commitOffsetsOnCheckpoint) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = offsetsToCommit.get(checkpointId);
        if (offsets == null) {
            LOG.debug("Offsets of checkpoint {} already committed", checkpointId);
            return;
        }
        if (offsets.isEmpty()) {
            removeOffsetsUpTo(checkpointId);
            return;
        }
        ((FetcherManager) splitFetcherManager).commit(offsets, (committed, e) -> {
            if (e != null) {
                kafkaMetrics.recordFailedCommit();
                LOG.warn("Failed to commit the consumer offsets of checkpoint {} (the job goes on)", checkpointId, e);
                return;
            }
            LOG.debug("Committed the consumer offsets of checkpoint {}: {}", checkpointId, offsets);
            kafkaMetrics.recordSucceededCommit();
            offsets.forEach((tp, o) -> kafkaMetrics.recordCommittedOffset(tp, o.offset()));
            offsetsOfFinishedSplits.keySet().removeIf(offsets::containsKey);
            removeOffsetsUpTo(checkpointId);
        });
    }

    /**
     * Lets the queued offset commits reach the consumer before the fetchers shut down. In bounded mode the task closes
     * the reader right after the final checkpoint's {@link #notifyCheckpointComplete}, whose commit is only a task
     * queued on a fetcher: closed first, the fetcher dropped it, and the group's final offsets were lost now and then
     * ({@code KafkaBatchSourceTest}). Once the commit is issued, the consumer's close completes it.
     */
    @Override
    public void close() throws Exception {
        if (!((FetcherManager) splitFetcherManager).awaitQueuedCommits(COMMIT_ISSUE_WAIT_MS)) {
            LOG.warn("An offset commit was still queued after {} ms; closing anyway (the checkpoints, not the "
                    + "committed offsets, are what a restore uses)", COMMIT_ISSUE_WAIT_MS);
        }
        super.close();
    }

    private static final long COMMIT_ISSUE_WAIT_MS = 10_000;

    private void removeOffsetsUpTo(long checkpointId) {
        synchronized (offsetsToCommit) {
            offsetsToCommit.headMap(checkpointId + 1).clear();
        }
    }

    @Override
    protected KafkaPartitionSplitState initializedState(KafkaPartitionSplit split) {
        return new KafkaPartitionSplitState(split);
    }

    @Override
    protected KafkaPartitionSplit toSplitType(String splitId, KafkaPartitionSplitState state) {
        return state.toKafkaPartitionSplit();
    }

    /** Emits a fetch's batches and dead letters and moves its partition's position past them, in one step. */
    private static final class Emitter
            implements RecordEmitter<KafkaRun, Either<EventBatch, DeadLetter>, KafkaPartitionSplitState> {
        private final Counter recordsIn;
        private final Counter recordsInErrors;

        Emitter(SourceReaderContext context) {
            this.recordsIn = context.metricGroup().getIOMetricGroup().getNumRecordsInCounter();
            this.recordsInErrors = context.metricGroup().getNumRecordsInErrorsCounter();
        }

        @Override
        public void emitRecord(KafkaRun run, SourceOutput<Either<EventBatch, DeadLetter>> output,
                               KafkaPartitionSplitState split) {
            int dead = 0;
            for (Either<EventBatch, DeadLetter> value : run.values()) {
                output.collect(value, run.timestamp());
                dead += value.isRight() ? 1 : 0;
            }
            split.setCurrentOffset(run.lastOffset() + 1);
            recordsIn.inc(run.events() + dead - 1);   // the reader base counted the run as one
            recordsInErrors.inc(dead);
        }
    }

    /**
     * The single fetcher thread, plus offset commits: a commit is a task queued on the fetcher (whose consumer is not
     * thread-safe), as in the connector's {@code KafkaSourceFetcherManager}; when no fetcher runs (all partitions
     * finished and the fetcher was shut down), one is started for it.
     */
    private static final class FetcherManager extends SingleThreadFetcherManager<KafkaRun, KafkaPartitionSplit> {
        FetcherManager(Supplier<SplitReader<KafkaRun, KafkaPartitionSplit>> splitReaders, Configuration config) {
            super(splitReaders, config);
        }

        /** Commit tasks queued and not yet run (they run on the fetcher thread). */
        private final AtomicInteger queuedCommits = new AtomicInteger();

        void commit(Map<TopicPartition, OffsetAndMetadata> offsets, OffsetCommitCallback callback) {
            SplitFetcher<KafkaRun, KafkaPartitionSplit> fetcher = getRunningFetcher();
            boolean start = fetcher == null;
            if (start) {
                fetcher = createSplitFetcher();
            }
            KafkaRunSplitReader reader = (KafkaRunSplitReader) fetcher.getSplitReader();
            queuedCommits.incrementAndGet();
            fetcher.enqueueTask(new SplitFetcherTask() {
                @Override
                public boolean run() {
                    try {
                        reader.commit(offsets, callback);
                    } finally {
                        queuedCommits.decrementAndGet();
                    }
                    return true;
                }

                @Override
                public void wakeUp() {
                }
            });
            if (start) {
                startFetcher(fetcher);
            }
        }

        /** Waits until every queued commit task has run, at most {@code ms}; whether they all did. */
        boolean awaitQueuedCommits(long ms) throws InterruptedException {
            long deadline = System.nanoTime() + ms * 1_000_000;
            while (queuedCommits.get() > 0) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.sleep(5);
            }
            return true;
        }
    }
}
