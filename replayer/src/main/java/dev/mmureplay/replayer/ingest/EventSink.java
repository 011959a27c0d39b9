package dev.mmureplay.replayer.ingest;

import dev.mmureplay.avro.TraceEvent;

import java.io.Closeable;
import java.io.IOException;

/** Where ingested events go (an Avro container file, a Kafka topic, several at once). Called from one thread. */
public interface EventSink extends Closeable {

    void accept(TraceEvent event) throws IOException;

    /** Makes everything accepted so far durable (flushed file block, acknowledged Kafka sends). */
    default void flush() throws IOException {
    }
}
