package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.Marker;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.testing.SampleEvents;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.testutil.MemorySinks;
import dev.mmureplay.replayer.testutil.Traces;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AvroFileSinkTest {

    private static List<TraceEvent> events;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        events = SampleEvents.allRealTraces();
        assertTrue(events.size() > 4000, "sample events: " + events.size());
    }

    @ParameterizedTest(name = "{0}, background writer {1}")
    @CsvSource({"none,false", "snappy,false", "deflate:1,false", "zstd:1,false", "zstd:3,false", "zstd:-1,false",
            "none,true", "snappy,true", "deflate:1,true", "zstd:1,true"})
    void roundTripEqualsInputRecordForRecord(String codec, boolean background) throws IOException {
        Path file = dir.resolve("out.avro");
        AvroFileOptions options = AvroFileOptions.defaults().withCompression(AvroCompression.parse(codec))
                .withBackgroundWriter(background).withMetadata("mmu-replay.inputs", "a.trace b.trace");
        try (AvroFileEventSink sink = new AvroFileEventSink(file, options)) {
            for (TraceEvent e : events) {
                sink.accept(e);
            }
            assertEquals(events.size(), sink.count());
        }
        assertEquals(events, AvroFiles.readAll(file));
        Map<String, String> meta = AvroFiles.metadata(file);
        assertEquals(AvroCompression.parse(codec).avroName(), meta.get("avro.codec"));
        assertEquals("a.trace b.trace", meta.get("mmu-replay.inputs"));
        // and any Avro reader, without our classes, reads the same number of records
        try (DataFileReader<GenericRecord> generic = new DataFileReader<>(file.toFile(), new GenericDatumReader<>())) {
            long n = 0;
            for (GenericRecord r : generic) {
                assertEquals(events.get((int) n).getSeq(), r.get("seq"));
                n++;
            }
            assertEquals(events.size(), n);
        }
    }

    /** Ingest hands the file sink views (no TraceEvent objects): the file holds exactly the events ingest makes. */
    @ParameterizedTest(name = "background writer {0}")
    @ValueSource(booleans = {false, true})
    void ingestToAFileWritesTheSameEventsAsIngestMakes(boolean background) throws Exception {
        List<String> inputs = new ArrayList<>();
        for (String name : Traces.NAMES) {
            inputs.add(Traces.path(name).toString());
        }
        IngestOptions options = IngestOptions.defaults();
        List<TraceEvent> expected = MemorySinks.ingest(options, inputs).events();
        Path file = dir.resolve("ingest.avro");
        try (AvroFileEventSink sink = new AvroFileEventSink(file, AvroFileOptions.defaults().withSyncInterval(4096)
                .withBackgroundWriter(background)); MemorySinks dead = new MemorySinks()) {
            new Ingest(options, sink, dead, ProgressListener.NONE).run(inputs);
            assertEquals(List.of(), dead.deadLetters);
        }
        assertEquals(expected, AvroFiles.readAll(file));
    }

    @Test
    void aRecordThatFailsToEncodeLeavesNothingBehind() throws IOException {
        Path file = dir.resolve("partial.avro");
        TraceEvent noPayload = TraceEvent.newBuilder(events.get(0)).build();
        noPayload.setPayload(null);
        try (AvroFileEventSink sink = new AvroFileEventSink(file, AvroFileOptions.defaults().withSyncInterval(1024))) {
            for (int i = 0; i < 100; i++) {
                sink.accept(events.get(i));
                if (i % 10 == 0) {
                    assertThrows(NullPointerException.class, () -> sink.accept(noPayload));
                }
            }
            assertEquals(100, sink.count());
        }
        assertEquals(events.subList(0, 100), AvroFiles.readAll(file));
    }

    @Test
    void smallBlocksAndManyBatchesStillRoundTrip() throws IOException {
        Path file = dir.resolve("small-blocks.avro");
        List<TraceEvent> many = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            many.addAll(events);   // > 4 background batches of 4096
        }
        AvroFileOptions options = AvroFileOptions.defaults().withSyncInterval(1024).withBackgroundWriter(true);
        try (AvroFileEventSink sink = new AvroFileEventSink(file, options)) {
            for (TraceEvent e : many) {
                sink.accept(e);
            }
        }
        assertEquals(many, AvroFiles.readAll(file));
        long[] n = {0};
        assertEquals(many.size(), AvroFiles.scan(file, e -> n[0] += e.getSeq() >= 0 ? 1 : 0));
        assertEquals(many.size(), n[0]);
    }

    @Test
    void flushMakesEverythingAcceptedReadableWhileTheFileStaysOpen() throws IOException {
        Path file = dir.resolve("live.avro");
        for (boolean background : new boolean[] {false, true}) {
            try (AvroFileEventSink sink = new AvroFileEventSink(file,
                    AvroFileOptions.defaults().withBackgroundWriter(background))) {
                for (TraceEvent e : events.subList(0, 1000)) {
                    sink.accept(e);
                }
                sink.flush();
                assertEquals(events.subList(0, 1000), AvroFiles.readAll(file));
                for (TraceEvent e : events.subList(1000, 1500)) {
                    sink.accept(e);
                }
                sink.flush();
                assertEquals(events.subList(0, 1500), AvroFiles.readAll(file));
            }
            assertEquals(events.subList(0, 1500), AvroFiles.readAll(file));
        }
    }

    @Test
    void emptyFileIsValid() throws IOException {
        Path file = dir.resolve("empty.avro");
        new AvroFileEventSink(file).close();
        assertEquals(List.of(), AvroFiles.readAll(file));
    }

    @Test
    void writesToAndReadsFromStreams() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (AvroFileEventSink sink = new AvroFileEventSink(bytes, AvroCompression.SNAPPY, Map.of())) {
            for (TraceEvent e : events.subList(0, 500)) {
                sink.accept(e);
            }
        }
        try (Stream<TraceEvent> s = AvroFiles.read(new ByteArrayInputStream(bytes.toByteArray()), TraceEvent.class)) {
            assertEquals(events.subList(0, 500), s.toList());
        }
    }

    @Test
    void aFailingDiskSurfacesFromAcceptFlushOrClose() {
        for (boolean background : new boolean[] {false, true}) {
            OutputStream failing = new OutputStream() {
                long written;

                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    written += len;
                    if (written > 20_000) {
                        throw new IOException("No space left on device");
                    }
                }
            };
            IOException e = assertThrows(IOException.class, () -> {
                try (AvroFileEventSink sink = new AvroFileEventSink(failing,
                        AvroFileOptions.defaults().withSyncInterval(4096).withBackgroundWriter(background))) {
                    for (TraceEvent ev : events) {
                        sink.accept(ev);
                    }
                    sink.flush();
                }
            }, "background " + background);
            assertTrue(causeChain(e).contains("No space left on device"), causeChain(e));
        }
    }

    @Test
    void hugeEventsAreWrittenWhole() throws IOException {
        Path file = dir.resolve("huge.avro");
        TraceEvent big = TraceEvent.newBuilder(events.get(0)).setPayload(new Marker("m".repeat(3_000_000))).build();
        try (AvroFileEventSink sink = new AvroFileEventSink(file)) {
            sink.accept(events.get(1));
            sink.accept(big);
            sink.accept(events.get(2));
        }
        assertEquals(List.of(events.get(1), big, events.get(2)), AvroFiles.readAll(file));
    }

    @Test
    void codecSpecs() {
        assertEquals("zstd:1", AvroCompression.parse("zstd").toString());
        assertEquals("zstd:1", AvroCompression.DEFAULT.toString());
        assertEquals("zstd:9", AvroCompression.parse("ZSTANDARD:9").toString());
        assertEquals("zstd:-3", AvroCompression.parse("zstd:-3").toString());
        assertEquals("deflate:1", AvroCompression.parse("deflate").toString());
        assertEquals("deflate:6", AvroCompression.parse("deflate:6").toString());
        assertEquals("snappy", AvroCompression.parse("snappy").toString());
        assertEquals("none", AvroCompression.parse("null").toString());
        assertEquals(AvroCompression.NONE, AvroCompression.parse("none"));
        for (String bad : List.of("lz4", "zstd:x", "zstd:23", "deflate:0", "snappy:1", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> AvroCompression.parse(bad), bad);
            assertTrue(e.getMessage().contains("zstd") || e.getMessage().contains("level"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class,
                () -> AvroFileOptions.defaults().withMetadata("avro.codec", "x"));
    }

    @Test
    void readingAFileCutInTheMiddleFailsLoudly() throws IOException {
        Path file = dir.resolve("cut.avro");
        try (AvroFileEventSink sink = new AvroFileEventSink(file,
                AvroFileOptions.defaults().withSyncInterval(8192))) {
            for (TraceEvent e : events) {
                sink.accept(e);
            }
        }
        byte[] all = Files.readAllBytes(file);
        byte[] half = java.util.Arrays.copyOf(all, all.length / 2);
        Files.write(file, half);
        // Avro's own reader would silently stop at the cut and report fewer events
        IOException e = assertThrows(IOException.class, () -> AvroFiles.readAll(file));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertThrows(IOException.class, () -> AvroFiles.scan(file, ev -> { }));
        try (Stream<TraceEvent> s = AvroFiles.read(new ByteArrayInputStream(half), TraceEvent.class)) {
            java.io.UncheckedIOException u = assertThrows(java.io.UncheckedIOException.class, () -> s.count());
            assertTrue(u.getCause().getMessage().contains("truncated"), u.getCause().getMessage());
        }
    }

    private static String causeChain(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c).append(" <- ");
        }
        return sb.toString();
    }
}
