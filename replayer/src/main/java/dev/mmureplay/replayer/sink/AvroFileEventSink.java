package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.EventView;
import org.apache.avro.io.DatumWriter;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * Ingest output to an Avro object container file of {@link TraceEvent}s (see {@link AvroContainerFileSink}), encoded
 * with the fast {@link TraceEventDatumWriter}: ingest's events straight from its {@link EventView}, without making
 * TraceEvent objects. With default options (more than one core) a background thread compresses and writes the
 * blocks.
 */
public final class AvroFileEventSink extends AvroContainerFileSink<TraceEvent> implements EventSink {

    /** Encodes ingest's views; null when the schema no longer has the fast writer's layout (then via TraceEvent). */
    private final RecordEncoder<EventView> viewEncoder;

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
        this(file, options, TraceEventDatumWriter.create());
    }

    private AvroFileEventSink(Path file, AvroFileOptions options, DatumWriter<TraceEvent> writer) throws IOException {
        super(file, TraceEvent.getClassSchema(), writer, options);
        this.viewEncoder = viewEncoder(writer);
    }

    /** To a stream (e.g. stdout with {@code -o -}); the stream is closed by {@link #close()}. */
    public AvroFileEventSink(OutputStream out, AvroCompression compression, Map<String, String> metadata)
            throws IOException {
        this(out, AvroFileOptions.defaults().withCompression(compression).withMetadata(metadata));
    }

    public AvroFileEventSink(OutputStream out, AvroFileOptions options) throws IOException {
        this(out, options, TraceEventDatumWriter.create());
    }

    private AvroFileEventSink(OutputStream out, AvroFileOptions options, DatumWriter<TraceEvent> writer)
            throws IOException {
        super(out, TraceEvent.getClassSchema(), writer, options);
        this.viewEncoder = viewEncoder(writer);
    }

    private static RecordEncoder<EventView> viewEncoder(DatumWriter<TraceEvent> writer) {
        if (writer instanceof TraceEventDatumWriter) {
            TraceEventDatumWriter fast = (TraceEventDatumWriter) writer;
            return fast::write;
        }
        return null;
    }

    @Override
    public void accept(TraceEvent event) throws IOException {
        append(event);
    }

    /** Ingest's hot path: the same bytes as {@code accept(event.toTraceEvent())}, without making the records. */
    @Override
    public void accept(EventView event) throws IOException {
        if (viewEncoder != null) {
            append(event, viewEncoder);
        } else {
            append(event.toTraceEvent());
        }
    }
}
