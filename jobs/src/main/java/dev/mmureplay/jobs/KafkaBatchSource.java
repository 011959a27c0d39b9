package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.KafkaSourceOptions;
import org.apache.flink.connector.kafka.source.enumerator.KafkaSourceEnumState;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.util.Locale;
import java.util.Objects;
import java.util.Properties;

/**
 * A Kafka topic of single-object Avro {@code TraceEvent}s as {@link EventBatch}es: each fetch of a partition is
 * batched VM by VM, the VMs taking turns of one batch each ({@link EventBatcher#turns}; each VM's records in offset
 * order, at most {@link EventBatch#MAX_EVENTS} per batch), so Flink's per-record costs are paid once per batch even
 * when the VMs' records alternate one by one, as for the file source; a record that does not decode becomes a
 * {@link DeadLetter} naming topic/partition@offset. A fetch is emitted in one step with its offset
 * ({@link KafkaRun}), so checkpoints fall between fetches.
 *
 * <p>Partition discovery and assignment, starting and stopping offsets, the splits and the enumerator state are Flink's
 * {@link KafkaSource} (an inner one, built as before; its own reader is never used), so checkpoints and savepoints
 * are those of the {@code KafkaSource} this replaces. The reader is {@link KafkaBatchReader}: the connector's
 * {@code KafkaPartitionSplitReader} underneath, each batch emitted atomically with the offset after its last record
 * (a checkpoint never falls inside a batch), offsets committed for the consumer group when a checkpoint completes.
 */
public final class KafkaBatchSource implements Source<Either<EventBatch, DeadLetter>, KafkaPartitionSplit,
        KafkaSourceEnumState>, ResultTypeQueryable<Either<EventBatch, DeadLetter>> {

    private static final long serialVersionUID = 1L;

    /** Where a partition starts: the group's committed offset, else the earliest. */
    private static final OffsetsInitializer STARTING =
            OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);

    private final KafkaSource<byte[]> kafka;
    private final Properties props;

    private KafkaBatchSource(KafkaSource<byte[]> kafka, Properties props) {
        this.kafka = kafka;
        this.props = props;
    }

    /**
     * {@code topic} read as consumer group {@code groupId} from its committed offsets (else the earliest);
     * {@code bounded} stops at the offsets that are latest when the job starts, else the source follows the topic.
     * {@code consumer} holds extra consumer properties (they win over bootstrap servers and group id, as with the
     * builder's {@code setProperties}).
     */
    public static KafkaBatchSource of(String bootstrap, String topic, String groupId, boolean bounded,
                                      Properties consumer) {
        Properties props = consumerProperties(bootstrap, groupId, bounded, consumer);
        KafkaSourceBuilder<byte[]> b = KafkaSource.<byte[]>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(STARTING)
                .setDeserializer(KafkaRecordDeserializationSchema.valueOnly(ByteArrayDeserializer.class))  // unused
                .setProperties(props);
        if (bounded) {
            b.setBounded(OffsetsInitializer.latest());
        }
        return new KafkaBatchSource(b.build(), props);
    }

    /**
     * The consumer properties of the enumerator and of the readers: what {@code KafkaSourceBuilder} makes of
     * {@code setBootstrapServers}, {@code setGroupId}, {@code setProperties(consumer)}, the starting offsets and the
     * boundedness ({@code parseAndSetRequiredProperties}, connector 5.0). The builder gets them whole, so it changes
     * nothing and both sides agree.
     */
    static Properties consumerProperties(String bootstrap, String groupId, boolean bounded, Properties consumer) {
        Properties p = new Properties();
        p.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, Objects.requireNonNull(bootstrap, "bootstrap"));
        p.setProperty(ConsumerConfig.GROUP_ID_CONFIG, Objects.requireNonNull(groupId, "groupId"));
        p.putAll(consumer);
        setIfAbsent(p, ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        setIfAbsent(p, ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        if (!p.containsKey(ConsumerConfig.GROUP_ID_CONFIG)) {
            setIfAbsent(p, KafkaSourceOptions.COMMIT_OFFSETS_ON_CHECKPOINT.key(), "false");
        }
        setIfAbsent(p, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.setProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                STARTING.getAutoOffsetResetStrategy().name().toLowerCase(Locale.ROOT));
        if (bounded) {
            p.setProperty(KafkaSourceOptions.PARTITION_DISCOVERY_INTERVAL_MS.key(), "-1");
        }
        setIfAbsent(p, KafkaSourceOptions.CLIENT_ID_PREFIX.key(), p.getProperty(ConsumerConfig.GROUP_ID_CONFIG));
        return p;
    }

    private static void setIfAbsent(Properties p, String key, String value) {
        if (p.getProperty(key) == null) {
            p.setProperty(key, value);
        }
    }

    @Override
    public Boundedness getBoundedness() {
        return kafka.getBoundedness();
    }

    @Override
    public SourceReader<Either<EventBatch, DeadLetter>, KafkaPartitionSplit> createReader(
            SourceReaderContext readerContext) {
        return KafkaBatchReader.create(props, readerContext);
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> createEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> enumContext) {
        return kafka.createEnumerator(enumContext);
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> restoreEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> enumContext, KafkaSourceEnumState checkpoint)
            throws Exception {
        return kafka.restoreEnumerator(enumContext, checkpoint);
    }

    @Override
    public SimpleVersionedSerializer<KafkaPartitionSplit> getSplitSerializer() {
        return kafka.getSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<KafkaSourceEnumState> getEnumeratorCheckpointSerializer() {
        return kafka.getEnumeratorCheckpointSerializer();
    }

    @Override
    public TypeInformation<Either<EventBatch, DeadLetter>> getProducedType() {
        return ReplayJob.INPUT_TYPE;
    }
}
