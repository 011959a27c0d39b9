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
 * {@link KafkaRun}s, one per partition. Its records are decoded ({@link TraceRecordDeserializer#decode}: a bad record
 * is a dead letter naming topic/partition@offset, never an exception) and batched VM by VM, the VMs taking turns of
 * one batch each ({@link EventBatcher#turns}; each VM's records in offset order, at most {@code maxEvents} per
 * batch), then its dead letters. A batch never spans two fetches. The partitions that the inner reader reports
 * finished (reached their stopping offset, or empty from the start) are reported finished as they are.
 *
 * <p>Runs on the source's fetcher thread (one instance per fetcher; not thread-safe), so the decoding check happens
 * there, off the task thread.
 */
final class KafkaRunSplitReader implements SplitReader<KafkaRun, KafkaPartitionSplit> {

    private final KafkaPartitionSplitReader kafka;
    private final EventIntake intake = new EventIntake();
    private final EventBatcher batcher;
    /** The batches of the partition being grouped. */
    private List<Either<EventBatch, DeadLetter>> out;

    KafkaRunSplitReader(KafkaPartitionSplitReader kafka, int maxEvents) {
        this.kafka = kafka;
        this.batcher = new EventBatcher(maxEvents, e -> out.add(e));
    }

    @Override
    public RecordsWithSplitIds<KafkaRun> fetch() throws IOException {
        RecordsWithSplitIds<ConsumerRecord<byte[], byte[]>> fetched = kafka.fetch();
        try {
            Map<String, Collection<KafkaRun>> runs = new LinkedHashMap<>();
            for (String split = fetched.nextSplit(); split != null; split = fetched.nextSplit()) {
                KafkaRun r = run(fetched);
                if (r != null) {
                    runs.put(split, List.of(r));
                }
            }
            return new RecordsBySplits<>(runs, new HashSet<>(fetched.finishedSplits()));
        } finally {
            fetched.recycle();
        }
    }

    /**
     * The current split's records of this fetch (those before its stopping offset: the inner reader drops the rest)
     * as one {@link KafkaRun}: the events batched VM by VM in turns ({@link EventBatcher#turns}: a topic whose VMs'
     * records alternate one by one still gives full batches), then the dead letters; null when there were none.
     */
    private KafkaRun run(RecordsWithSplitIds<ConsumerRecord<byte[], byte[]>> fetched) {
        List<EncodedEvent> events = new ArrayList<>();
        List<DeadLetter> dead = new ArrayList<>(0);
        long lastOffset = -1;
        long timestamp = 0;
        for (ConsumerRecord<byte[], byte[]> r = fetched.nextRecordFromSplit(); r != null;
             r = fetched.nextRecordFromSplit()) {
            lastOffset = r.offset();
            timestamp = r.timestamp();
            Either<EncodedEvent, DeadLetter> d = TraceRecordDeserializer.decode(intake, r.topic(), r.partition(),
                    r.offset(), r.value());
            if (d.isLeft()) {
                events.add(d.left());
            } else {
                dead.add(d.right());
            }
        }
        if (lastOffset < 0) {
            return null;
        }
        int n = events.size();
        String[] vms = new String[n];
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            vms[i] = events.get(i).vm();
            lengths[i] = events.get(i).length();
        }
        out = new ArrayList<>();
        for (int i : EventBatcher.turns(vms, lengths, n)) {
            batcher.add(events.get(i));
        }
        batcher.flush();
        for (DeadLetter d : dead) {
            out.add(Either.Right(d));
        }
        KafkaRun run = new KafkaRun(out, n, lastOffset, timestamp);
        out = null;
        return run;
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
