package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.EventView;
import dev.mmureplay.schemas.AvroCodec;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.DatumWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Avro single-object encoding of {@link TraceEvent}s (marker C3 01, CRC-64-AVRO fingerprint of the schema,
 * little-endian, then the binary datum): byte for byte what {@link AvroCodec#traceEvents()} writes and decodes, at a
 * fraction of its cost, through {@link TraceEventDatumWriter}. Not thread-safe: one per thread.
 */
public final class SingleObjectEventEncoder {

    private static final byte[] HEADER = header();

    private final DatumWriter<TraceEvent> writer = TraceEventDatumWriter.create();
    private final TraceEventDatumWriter fast = writer instanceof TraceEventDatumWriter ? (TraceEventDatumWriter) writer : null;
    private final ByteArrayEncoder out = new ByteArrayEncoder(1024);

    /** The single-object encoding of one event (a new array). */
    public byte[] encode(TraceEvent event) {
        out.reset();
        out.writeFixed(HEADER, 0, HEADER.length);
        try {
            writer.write(event, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);   // the array encoder does no I/O
        }
        return take();
    }

    /** The same bytes as {@code encode(view.toTraceEvent())}, without making the records. */
    public byte[] encode(EventView view) {
        if (fast == null) {
            return encode(view.toTraceEvent());
        }
        out.reset();
        out.writeFixed(HEADER, 0, HEADER.length);
        try {
            fast.write(view, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);   // the array encoder does no I/O
        }
        return take();
    }

    private byte[] take() {
        byte[] bytes = Arrays.copyOf(out.array(), out.position());
        if (out.array().length > 64 * 1024) {
            out.reset(new byte[1024]);   // do not keep a buffer grown by one huge event
        }
        return bytes;
    }

    private static byte[] header() {
        long fp = SchemaNormalization.parsingFingerprint64(TraceEvent.getClassSchema());
        byte[] h = new byte[10];
        h[0] = (byte) 0xC3;
        h[1] = (byte) 0x01;
        for (int i = 0; i < 8; i++) {
            h[2 + i] = (byte) (fp >>> (8 * i));
        }
        return h;
    }
}
