package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.EventSink;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * Ingest output to an Avro object container file of {@link TraceEvent}s (see {@link AvroContainerFileSink}), encoded
 * with the fast {@link TraceEventDatumWriter}. With default options (more than one core) a background thread encodes,
 * compresses and writes: events must not be mutated after {@link #accept}.
 */
public final class AvroFileEventSink extends AvroContainerFileSink<TraceEvent> implements EventSink {

    /** Default options ({@link AvroFileOptions#defaults()}). */
    public AvroFileEventSink(Path file) throws IOException {
        this(file, AvroFileOptions.defaults());
    }

    public AvroFileEventSink(Path file, AvroCompression compression) throws IOException {
        this(file, AvroFileOptions.defaults().withCompression(compression));
    }

    /** @param metadata extra header metadata, e.g. the inputs and the tool version */
    public AvroFileEventSink(Path file, AvroCompression compression, Map<String, String> metadata)
            throws IOException {
        this(file, AvroFileOptions.defaults().withCompression(compression).withMetadata(metadata));
    }

    public AvroFileEventSink(Path file, AvroFileOptions options) throws IOException {
        super(file, TraceEvent.getClassSchema(), TraceEventDatumWriter.create(), options);
    }

    /** To a stream (e.g. stdout with {@code -o -}); the stream is closed by {@link #close()}. */
    public AvroFileEventSink(OutputStream out, AvroCompression compression, Map<String, String> metadata)
            throws IOException {
        this(out, AvroFileOptions.defaults().withCompression(compression).withMetadata(metadata));
    }

    public AvroFileEventSink(OutputStream out, AvroFileOptions options) throws IOException {
        super(out, TraceEvent.getClassSchema(), TraceEventDatumWriter.create(), options);
    }

    @Override
    public void accept(TraceEvent event) throws IOException {
        append(event);
    }
}
