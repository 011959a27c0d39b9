package dev.mmureplay.replayer.testutil;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.DeadLetterSink;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.IngestReport;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.ingest.TooManyErrorsException;
import dev.mmureplay.replayer.parse.TraceInput;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** In-memory sinks for tests: everything accepted is kept in order. */
public final class MemorySinks implements EventSink, DeadLetterSink {

    public final List<TraceEvent> events = new ArrayList<>();
    public final List<DeadLetter> deadLetters = new ArrayList<>();
    public int flushes;

    @Override
    public void accept(TraceEvent event) {
        events.add(event);
    }

    @Override
    public void accept(DeadLetter deadLetter) {
        deadLetters.add(deadLetter);
    }

    @Override
    public void flush() {
        flushes++;
    }

    @Override
    public void close() {
    }

    /** The result of ingesting something into fresh sinks. */
    public record Run(IngestReport report, MemorySinks sinks) {
        public List<TraceEvent> events() {
            return sinks.events;
        }

        public List<DeadLetter> deadLetters() {
            return sinks.deadLetters;
        }

        public String reason(int i) {
            return sinks.deadLetters.get(i).getReason();
        }
    }

    /** Ingests paths with the given options. */
    public static Run ingest(IngestOptions options, List<String> inputs) throws IOException, TooManyErrorsException {
        MemorySinks s = new MemorySinks();
        IngestReport r = new Ingest(options, s, s, ProgressListener.NONE).run(inputs);
        return new Run(r, s);
    }

    /** Ingests bytes as one input named {@code name}. */
    public static Run ingestBytes(IngestOptions options, String name, byte[] content)
            throws IOException, TooManyErrorsException {
        MemorySinks s = new MemorySinks();
        Ingest ingest = new Ingest(options, s, s, ProgressListener.NONE);
        try (TraceInput in = TraceInput.of(name, new ByteArrayInputStream(content), content.length)) {
            ingest.ingest(in);
        }
        return new Run(ingest.report(), s);
    }

    /** Ingests text (UTF-8) as one input named {@code name}, with default options but unlimited errors. */
    public static Run ingestText(String name, String text) throws IOException, TooManyErrorsException {
        return ingestBytes(IngestOptions.defaults().withUnlimitedErrors(), name, text.getBytes(StandardCharsets.UTF_8));
    }
}
