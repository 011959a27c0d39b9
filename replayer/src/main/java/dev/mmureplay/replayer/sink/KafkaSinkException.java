package dev.mmureplay.replayer.sink;

import java.io.IOException;

/**
 * A Kafka sink could not deliver a record: the first failed send, with its topic, partition, key and position in the
 * input. Once thrown, the sink stays failed: every later {@code accept}, {@code flush} and {@code close} throws again.
 */
public final class KafkaSinkException extends IOException {

    public KafkaSinkException(String message, Throwable cause) {
        super(message, cause);
    }
}
