package dev.mmureplay.replayer.sink;

import org.apache.avro.Schema;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.io.DatumWriter;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.util.Map;

/**
 * Writes an Avro object container file: the header (written by Avro's own {@link DataFileWriter}, so it is exactly
 * Avro's), then blocks, each "record count, byte size, compressed data, sync marker", as the Avro specification
 * and DataFileWriter lay them out. The records of a block arrive already encoded (by {@link AvroContainerFileSink},
 * straight into a byte array); this class compresses and writes them.
 *
 * <p>Why not DataFileWriter for the blocks: it copies every record through its buffered encoder and a byte stream,
 * and its zstandard codec opens a new native compressor for every block; here a block is compressed in one call
 * with a kept {@link BlockCodec} context and written with one flush. Not thread-safe (one thread: the caller's or
 * the sink's background writer).
 */
final class AvroBlockWriter implements Closeable, Flushable {

    private static final int SYNC_SIZE = 16;

    private final OutputStream out;
    private final BlockCodec codec;
    private final byte[] sync = new byte[SYNC_SIZE];
    private final ByteArrayEncoder frame = new ByteArrayEncoder(64);
    private boolean open;

    <T> AvroBlockWriter(OutputStream out, Schema schema, DatumWriter<T> datumWriter, AvroFileOptions options)
            throws IOException {
        this.out = out;
        new SecureRandom().nextBytes(sync);
        out.write(header(schema, datumWriter, options, sync));
        out.flush();
        this.codec = BlockCodec.of(options.compression());
        this.open = true;
    }

    /** Avro's header for this schema, codec and metadata, with our sync marker. */
    private static <T> byte[] header(Schema schema, DatumWriter<T> datumWriter, AvroFileOptions options,
                                     byte[] sync) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataFileWriter<T> w = new DataFileWriter<>(datumWriter)) {
            w.setCodec(options.compression().codecFactory());
            for (Map.Entry<String, String> e : options.metadata().entrySet()) {
                w.setMeta(e.getKey(), e.getValue());
            }
            w.create(schema, bytes, sync);   // writes and flushes the header; closing adds nothing (no records)
        }
        return bytes.toByteArray();
    }

    /** Compresses data[0, length) holding {@code records} encoded records and writes it as one block; flushes. */
    void writeBlock(byte[] data, int length, long records) throws IOException {
        if (!open) {
            throw new IOException("Avro file writer is closed");
        }
        if (records == 0) {
            return;
        }
        int n = codec.compress(data, length);
        frame.reset();
        frame.writeLong(records);
        frame.writeLong(n);
        out.write(frame.array(), 0, frame.position());
        out.write(codec.output(), 0, n);
        out.write(sync);
        out.flush();
    }

    @Override
    public void flush() throws IOException {
        if (open) {
            out.flush();
        }
    }

    /** Closes the stream (idempotent); blocks must have been written before. */
    @Override
    public void close() throws IOException {
        if (!open) {
            return;
        }
        open = false;
        try {
            codec.close();
        } finally {
            out.close();
        }
    }
}
