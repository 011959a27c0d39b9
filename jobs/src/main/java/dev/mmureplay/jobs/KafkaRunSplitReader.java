package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import org.apache.flink.connector.base.source.reader.RecordsBySplits;
import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsChange;
import org.apache.flink.connector.kafka.source.reader.KafkaPartitionSplitReader;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetCommitCallback;
import org.apache.kafka.common.TopicPartition;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Kafka source's split reader: Flink's {@link KafkaPartitionSplitReader} (the consumer, its assignment, starting
 * and stopping offsets, finished and empty partitions, offset commits) with each fetch turned into
 * {@link KafkaRun}s. Per partition, its records in offset order are decoded ({@link TraceRecordDeserializer#decode}:
 * a bad record is a dead letter naming topic/partition@offset, never an exception) and grouped by an
 * {@link EventBatcher} into runs of one VM's consecutive records, at most {@code maxEvents} each; a dead letter ends
 * the run before it. A batch never spans two fetches. The partitions that the inner reader reports finished (reached
 * their stopping offset, or empty from the start) are reported finished as they are.
 *
 * <p>Runs on the source's fetcher thread (one instance per fetcher; not thread-safe), so the decoding check happens
 * there, off the task thread.
 */
final class KafkaRunSplitReader implements SplitReader<KafkaRun, KafkaPartitionSplit> {

    private final KafkaPartitionSplitReader kafka;
    private final EventIntake intake = new EventIntake();
    private final EventBatcher batcher;
    /** The runs of the partition being grouped. */
    private List<KafkaRun> out;
    /** Offset and timestamp of the record read last, and of the last record in the batcher's pending run. */
    private long offset;
    private long timestamp;
    private long pendingOffset;
    private long pendingTimestamp;

    KafkaRunSplitReader(KafkaPartitionSplitReader kafka, int maxEvents) {
        this.kafka = kafka;
        this.batcher = new EventBatcher(maxEvents, this::emitted);
    }

    @Override
    public RecordsWithSplitIds<KafkaRun> fetch() throws IOException {
        RecordsWithSplitIds<ConsumerRecord<byte[], byte[]>> fetched = kafka.fetch();
        try {
            Map<String, Collection<KafkaRun>> runs = new LinkedHashMap<>();
            for (String split = fetched.nextSplit(); split != null; split = fetched.nextSplit()) {
                List<KafkaRun> r = runs(fetched);
                if (!r.isEmpty()) {
                    runs.put(split, r);
                }
            }
            return new RecordsBySplits<>(runs, new HashSet<>(fetched.finishedSplits()));
        } finally {
            fetched.recycle();
        }
    }

    /** The runs of the current split's records (those before its stopping offset: the inner reader drops the rest). */
    private List<KafkaRun> runs(RecordsWithSplitIds<ConsumerRecord<byte[], byte[]>> fetched) {
        out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r = fetched.nextRecordFromSplit(); r != null;
             r = fetched.nextRecordFromSplit()) {
            offset = r.offset();
            timestamp = r.timestamp();
            Either<EncodedEvent, DeadLetter> d = TraceRecordDeserializer.decode(intake, r.topic(), r.partition(),
                    r.offset(), r.value());
            if (d.isLeft()) {
                batcher.add(d.left());   // may first emit the pending run (up to the previous record)
                pendingOffset = offset;
                pendingTimestamp = timestamp;
            } else {
                batcher.dead(d.right());   // emits the pending run, then the dead letter (this record)
            }
        }
        batcher.flush();
        List<KafkaRun> done = out;
        out = null;
        return done;
    }

    /** The batcher's output: a batch ends at the last record it took, a dead letter is the record read last. */
    private void emitted(Either<EventBatch, DeadLetter> e) {
        out.add(e.isLeft()
                ? new KafkaRun(e, pendingOffset, pendingTimestamp)
                : new KafkaRun(e, offset, timestamp));
    }

    /** Commits {@code offsets} for the consumer group (asynchronously; the callback runs on this fetcher thread). */
    void commit(Map<TopicPartition, OffsetAndMetadata> offsets, OffsetCommitCallback callback) {
        kafka.notifyCheckpointComplete(offsets, callback);
    }

    @Override
    public void handleSplitsChanges(SplitsChange<KafkaPartitionSplit> splitsChanges) {
        kafka.handleSplitsChanges(splitsChanges);
    }

    @Override
    public void pauseOrResumeSplits(Collection<KafkaPartitionSplit> splitsToPause,
                                    Collection<KafkaPartitionSplit> splitsToResume) {
        kafka.pauseOrResumeSplits(splitsToPause, splitsToResume);
    }

    @Override
    public void wakeUp() {
        kafka.wakeUp();
    }

    @Override
    public void close() throws Exception {
        kafka.close();
    }
}
