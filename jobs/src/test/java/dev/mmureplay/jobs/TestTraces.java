package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.DeadLetterSink;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.ProgressListener;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Test inputs: the shared traces and scenarios, ingested with the real {@link Ingest} into a list. */
final class TestTraces {

    static final Path SCENARIOS = Path.of("../replayer/src/test/resources/scenarios");
    static final Path TRACES = Path.of("../mmu-model/src/test/resources/traces");

    private TestTraces() {
    }

    static List<TraceEvent> ingest(Path file) throws Exception {
        assertTrue(Files.isRegularFile(file), file + " missing");
        List<TraceEvent> events = new ArrayList<>();
        List<DeadLetter> dead = new ArrayList<>();
        class Sinks implements EventSink, DeadLetterSink {
            @Override
            public void accept(TraceEvent event) {
                events.add(event);
            }

            @Override
            public void accept(DeadLetter d) {
                dead.add(d);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        }
        Sinks sinks = new Sinks();
        new Ingest(IngestOptions.defaults(), sinks, sinks, ProgressListener.NONE).run(List.of(file.toString()));
        assertTrue(dead.isEmpty(), file + ": dead letters " + dead);
        assertTrue(!events.isEmpty(), file + ": no events");
        return events;
    }
}
