package dev.mmureplay.replayer.ingest;

import dev.mmureplay.replayer.testutil.MemorySinks;
import dev.mmureplay.replayer.testutil.Traces;
import dev.mmureplay.schemas.EventNames;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every typed event of the schema is exercised by a real line or a fixture line, and all of them parse. */
class EventCoverageTest {

    @Test
    void everyFixtureLineParsesWithoutDeadLetters() throws Exception {
        List<String> files = Traces.fixtureFiles().stream().map(Object::toString).toList();

        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults(), files);

        assertEquals(List.of(), run.deadLetters().stream().map(d -> d.getPlace().getOrigin() + ":" + d.getPlace().getLine()
                + " " + d.getReason()).toList());
        assertEquals(1, run.report().generic(), "only the kvm_entry line has no typed record");
    }

    @Test
    void everyTypedEventNameIsCoveredByARealOrAFixtureLine() throws Exception {
        List<String> files = new ArrayList<>(Traces.NAMES.stream().map(n -> Traces.path(n).toString()).toList());
        Traces.fixtureFiles().forEach(p -> files.add(p.toString()));

        IngestReport r = MemorySinks.ingest(IngestOptions.defaults(), files).report();

        TreeSet<String> missing = new TreeSet<>(EventNames.typedNames());
        missing.removeAll(r.byType().keySet());
        assertTrue(missing.isEmpty(), "typed events without a test line: " + missing);
    }
}
