package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.EventView;

import java.io.IOException;
import java.util.List;

/**
 * Writes every event to several sinks in turn (e.g. an Avro file and a Kafka topic). {@code accept} stops at the
 * first sink that fails; {@code flush} and {@code close} reach every sink and then throw the first failure, with the
 * others attached as suppressed exceptions.
 */
public final class TeeEventSink implements EventSink {

    private final List<EventSink> sinks;

    public TeeEventSink(EventSink... sinks) {
        this(List.of(sinks));
    }

    public TeeEventSink(List<? extends EventSink> sinks) {
        this.sinks = List.copyOf(sinks);
    }

    public List<EventSink> sinks() {
        return sinks;
    }

    @Override
    public void accept(TraceEvent event) throws IOException {
        for (EventSink s : sinks) {
            s.accept(event);
        }
    }

    /** Passes ingest's view on, so each sink can take its own fast path (the view is the same for every sink). */
    @Override
    public void accept(EventView event) throws IOException {
        for (EventSink s : sinks) {
            s.accept(event);
        }
    }

    @Override
    public void flush() throws IOException {
        Sinks.forAll(sinks, EventSink::flush);
    }

    @Override
    public void close() throws IOException {
        Sinks.forAll(sinks, EventSink::close);
    }
}
