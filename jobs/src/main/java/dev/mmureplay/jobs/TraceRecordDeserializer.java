package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.Place;
import dev.mmureplay.schemas.AvroCodec;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.ByteBuffer;

/**
 * Kafka record → {@code Either.Left(EventBatch)} of one event (Avro single-object encoding, any released schema; see
 * {@link EventIntake}: current-schema records are checked, not decoded), or
 * {@code Either.Right(DeadLetter)} naming topic/partition/offset and why: corrupt bytes, an unknown schema
 * fingerprint (e.g. a newer writer), a null value. Never throws: a bad record must not stop the job.
 */
public final class TraceRecordDeserializer
        implements KafkaRecordDeserializationSchema<Either<EventBatch, DeadLetter>> {

    private static final long serialVersionUID = 1L;

    /** The stage name of dead letters written here. */
    public static final String STAGE = "decode";

    private transient EventIntake intake;

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        intake = new EventIntake();
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Either<EventBatch, DeadLetter>> out) {
        if (intake == null) {
            intake = new EventIntake();
        }
        Either<EncodedEvent, DeadLetter> r = decode(intake, record.topic(), record.partition(), record.offset(),
                record.value());
        out.collect(r.isLeft() ? Either.Left(EventBatch.of(r.left())) : Either.Right(r.right()));
    }

    /** One record value; the dead letter on failure. */
    static Either<EncodedEvent, DeadLetter> decode(EventIntake intake, String topic, int partition, long offset,
                                                   byte[] value) {
        try {
            return Either.Left(intake.singleObject(value));
        } catch (AvroCodec.UnknownSchemaException | AvroCodec.CorruptRecordException e) {
            Place place = Place.newBuilder()
                    .setOrigin(topic + "/" + partition + "@" + offset)
                    .setTopic(topic)
                    .setPartition(partition)
                    .setOffset(offset)
                    .build();
            return Either.Right(DeadLetter.newBuilder()
                    .setPlace(place)
                    .setRaw(ByteBuffer.wrap(value == null ? new byte[0] : value))
                    .setReason(e.getMessage())
                    .setStage(STAGE)
                    .build());
        }
    }

    @Override
    public TypeInformation<Either<EventBatch, DeadLetter>> getProducedType() {
        return ReplayJob.INPUT_TYPE;
    }
}
