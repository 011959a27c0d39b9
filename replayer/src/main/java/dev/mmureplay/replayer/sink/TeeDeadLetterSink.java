package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.replayer.ingest.DeadLetterSink;

import java.io.IOException;
import java.util.List;

/** Writes every dead letter to several sinks (e.g. a JSON-lines file and a Kafka topic); as {@link TeeEventSink}. */
public final class TeeDeadLetterSink implements DeadLetterSink {

    private final List<DeadLetterSink> sinks;

    public TeeDeadLetterSink(DeadLetterSink... sinks) {
        this(List.of(sinks));
    }

    public TeeDeadLetterSink(List<? extends DeadLetterSink> sinks) {
        this.sinks = List.copyOf(sinks);
    }

    public List<DeadLetterSink> sinks() {
        return sinks;
    }

    @Override
    public void accept(DeadLetter deadLetter) throws IOException {
        for (DeadLetterSink s : sinks) {
            s.accept(deadLetter);
        }
    }

    @Override
    public void flush() throws IOException {
        Sinks.forAll(sinks, DeadLetterSink::flush);
    }

    @Override
    public void close() throws IOException {
        Sinks.forAll(sinks, DeadLetterSink::close);
    }
}
