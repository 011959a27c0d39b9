package dev.mmureplay.jobs;

import dev.mmureplay.schemas.AvroCodec;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.flink.util.function.SerializableSupplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;

/** An Avro record → a Kafka record on one topic: key = the record's vm (UTF-8), value = single-object encoding. */
final class AvroKafkaSerializer<T extends SpecificRecord> implements KafkaRecordSerializationSchema<T> {

    private static final long serialVersionUID = 1L;

    private final String topic;
    private final SerializableSupplier<AvroCodec<T>> codecs;
    private final SerializableFunction<T, String> key;
    private transient AvroCodec<T> codec;

    AvroKafkaSerializer(String topic, SerializableSupplier<AvroCodec<T>> codecs, SerializableFunction<T, String> key) {
        this.topic = topic;
        this.codecs = codecs;
        this.key = key;
    }

    @Override
    public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
        codec = codecs.get();
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
        if (codec == null) {
            codec = codecs.get();
        }
        return new ProducerRecord<>(topic, key.apply(element).getBytes(StandardCharsets.UTF_8),
                codec.encode(element));
    }
}
