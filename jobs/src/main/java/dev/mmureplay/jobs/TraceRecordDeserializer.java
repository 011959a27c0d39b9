package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.Place;
import dev.mmureplay.schemas.AvroCodec;
import org.apache.flink.types.Either;

import java.nio.ByteBuffer;

/**
 * Kafka record value → {@link EncodedEvent} (Avro single-object encoding, any released schema; see
 * {@link EventIntake}: current-schema records are checked, not decoded), or the {@link DeadLetter} naming
 * topic/partition/offset and why: corrupt bytes, an unknown schema fingerprint (e.g. a newer writer), a null value.
 * Never throws for a bad record: it must not stop the job. {@link KafkaRunSplitReader} batches what comes out.
 */
public final class TraceRecordDeserializer {

    /** The stage name of dead letters written here (and of the file source's). */
    public static final String STAGE = "decode";

    private TraceRecordDeserializer() {
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
}
