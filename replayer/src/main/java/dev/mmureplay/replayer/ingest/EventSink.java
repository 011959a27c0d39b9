package dev.mmureplay.replayer.ingest;

import dev.mmureplay.avro.TraceEvent;

import java.io.Closeable;
import java.io.IOException;

/** Where ingested events go (an Avro container file, a Kafka topic, several at once). Called from one thread. */
public interface EventSink extends Closeable {

    void accept(TraceEvent event) throws IOException;

    /**
     * What {@link Ingest} calls for each event: its fields in a reused view, valid only during this call. The default
     * makes the TraceEvent and calls {@link #accept(TraceEvent)}; sinks that can write the fields directly (the Avro
     * file and Kafka sinks) override it and so skip building objects for every line.
     */
    default void accept(EventView event) throws IOException {
        accept(event.toTraceEvent());
    }

    /** Makes everything accepted so far durable (flushed file block, acknowledged Kafka sends). */
    default void flush() throws IOException {
    }
}
