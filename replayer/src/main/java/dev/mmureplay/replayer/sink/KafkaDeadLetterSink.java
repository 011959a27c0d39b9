package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.replayer.ingest.DeadLetterSink;
import dev.mmureplay.schemas.AvroCodec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Dead letters to a Kafka topic: key = the origin (input file name, UTF-8), so one input's dead letters stay in order;
 * value = the {@link DeadLetter} in Avro single-object encoding ({@link AvroCodec#deadLetters()}).
 *
 * <p>A Kafka record cannot be arbitrarily large (the broker's {@code message.max.bytes} is about 1 MiB by default),
 * while a dead letter may be a 1 MiB line. The raw input is therefore cut to {@code maxRawBytes} (default
 * {@link #DEFAULT_MAX_RAW_BYTES}); when it is, the reason says so ("[raw truncated to N of M bytes]"). A file
 * dead-letter sink keeps the whole input. Same error model as {@link KafkaEventSink}.
 */
public final class KafkaDeadLetterSink extends KafkaRecordSink implements DeadLetterSink {

    public static final int DEFAULT_MAX_RAW_BYTES = 256 * 1024;

    private final AvroCodec<DeadLetter> codec = AvroCodec.deadLetters();
    private final int maxRawBytes;

    public KafkaDeadLetterSink(KafkaSinkConfig config) throws IOException {
        this(config, DEFAULT_MAX_RAW_BYTES);
    }

    public KafkaDeadLetterSink(KafkaSinkConfig config, int maxRawBytes) throws IOException {
        super(config, "line");
        if (maxRawBytes < 0) {
            throw new IllegalArgumentException("maxRawBytes must be >= 0");
        }
        this.maxRawBytes = maxRawBytes;
    }

    @Override
    public void accept(DeadLetter deadLetter) throws IOException {
        DeadLetter dl = deadLetter;
        int rawSize = dl.getRaw().remaining();
        if (rawSize > maxRawBytes) {
            ByteBuffer cut = dl.getRaw().duplicate();
            cut.limit(cut.position() + maxRawBytes);
            dl = DeadLetter.newBuilder(deadLetter)
                    .setRaw(cut.slice())
                    .setReason(deadLetter.getReason() + " [raw truncated to " + maxRawBytes + " of " + rawSize
                            + " bytes]")
                    .build();
        }
        String origin = dl.getPlace().getOrigin();
        Long line = dl.getPlace().getLine();
        send(origin.getBytes(StandardCharsets.UTF_8), origin, line == null ? -1 : line, codec.encode(dl));
    }
}
