package dev.mmureplay.jobs;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.model.TraceEventDecoder;
import dev.mmureplay.schemas.AvroCodec;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Where input records become {@link EncodedEvent}s — the one place the job's sources share. Events already in the
 * current schema are only checked ({@link TraceEventDecoder#scan}: a record that passes decodes later) and sliced, never
 * decoded; events of an older released schema are decoded with Avro's schema resolution and re-encoded in the
 * current one. Failures are {@link AvroCodec.UnknownSchemaException} or {@link AvroCodec.CorruptRecordException} with a
 * message for the dead letter; the caller names the place. One instance per source reader (not thread-safe).
 */
public final class EventIntake {

    private final TraceEventDecoder decoder = new TraceEventDecoder();
    private final TraceEventDecoder.Envelope head = new TraceEventDecoder.Envelope();
    private AvroCodec<TraceEvent> codec;
    private SpecificDatumWriter<TraceEvent> writer;
    private BinaryEncoder encoder;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);

    /**
     * The next event of a sequence of current-schema records (an Avro block) that starts at {@code off}; its end is
     * {@link #end()} afterwards.
     */
    public EncodedEvent binary(byte[] buf, int off, int limit) {
        scan(buf, off, limit);
        return new EncodedEvent(head.vm, head.seq, buf, off, head.end - off);
    }

    /**
     * Checks the current-schema record that starts at {@code off}: its vm, seq and end (exclusive) are in the
     * returned envelope, which is this intake's own and changes with the next call (a source slicing records
     * without an object per record).
     */
    public TraceEventDecoder.Envelope scan(byte[] buf, int off, int limit) {
        decoder.scan(buf, off, limit, head);
        return head;
    }

    /** The exclusive end of the record {@link #binary} read last. */
    public int end() {
        return head.end;
    }

    /** One Avro single-object encoded record (a Kafka record value) of the current or a released schema. */
    public EncodedEvent singleObject(byte[] value) {
        if (value == null) {
            throw new AvroCodec.CorruptRecordException("null record value");
        }
        if (TraceEventDecoder.hasCurrentHeader(value)) {
            EncodedEvent e = binary(value, TraceEventDecoder.HEADER, value.length);
            if (head.end != value.length) {
                throw new AvroCodec.CorruptRecordException((value.length - head.end)
                        + " bytes after the end of the record");
            }
            return e;
        }
        if (codec == null) {
            codec = AvroCodec.traceEvents();
        }
        return of(codec.decode(value));   // an older schema (resolved), or the exception naming the fingerprint
    }

    /** A decoded event, encoded in the current schema. */
    public EncodedEvent of(TraceEvent e) {
        if (writer == null) {
            writer = new SpecificDatumWriter<>(TraceEvent.getClassSchema(), AvroCodec.fastModel());
        }
        try {
            bytes.reset();
            encoder = EncoderFactory.get().binaryEncoder(bytes, encoder);
            writer.write(e, encoder);
            encoder.flush();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        byte[] b = bytes.toByteArray();
        return binary(b, 0, b.length);
    }
}
