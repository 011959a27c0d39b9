package dev.mmureplay.replayer.synth;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.Conformance;
import dev.mmureplay.model.ConformanceReport;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.IngestReport;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.model.ModelEvents;
import dev.mmureplay.replayer.parse.TraceInput;
import dev.mmureplay.replayer.testutil.MemorySinks;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Generating scenarios into memory and replaying them the way {@code conformance} does. */
final class SynthTestSupport {

    private SynthTestSupport() {
    }

    static byte[] bytes(String scenario, long events, long seed) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Synth.generate(scenario, events, seed, out);
        return out.toByteArray();
    }

    static List<String> lines(byte[] trace) {
        List<String> l = new ArrayList<>(List.of(new String(trace, StandardCharsets.US_ASCII).split("\n", -1)));
        if (!l.isEmpty() && l.get(l.size() - 1).isEmpty()) {
            l.remove(l.size() - 1);
        }
        return l;
    }

    static MemorySinks.Run ingest(String name, byte[] trace) throws Exception {
        return MemorySinks.ingestBytes(IngestOptions.defaults().withUnlimitedErrors(), name, trace);
    }

    /** Ingest → ModelEvents → Conformance (upstream profile, default config), as ConformanceCommand does. */
    static ConformanceReport conformance(String name, byte[] trace) throws Exception {
        Conformance c = new Conformance(name);
        EventSink sink = new EventSink() {
            @Override
            public void accept(TraceEvent e) {
                c.accept(ModelEvents.of(e));
            }

            @Override
            public void close() {
            }
        };
        MemorySinks dead = new MemorySinks();
        Ingest ingest = new Ingest(IngestOptions.defaults().withUnlimitedErrors(), sink, dead, ProgressListener.NONE);
        try (TraceInput in = TraceInput.of(name, new ByteArrayInputStream(trace), trace.length)) {
            ingest.ingest(in);
        }
        IngestReport r = ingest.report();
        if (r.deadLetters() != 0) {
            throw new AssertionError("dead letters: " + dead.deadLetters);
        }
        return c.report();
    }
}
