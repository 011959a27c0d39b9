package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import org.apache.avro.file.DataFileConstants;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Reads Avro object container files written by {@link AvroContainerFileSink} (or any writer of a compatible schema:
 * data written with an older released schema resolves to the current classes). Memory stays flat: records are read
 * block by block.
 */
public final class AvroFiles {

    private AvroFiles() {
    }

    /** The events of a file, lazily. Close the stream (try-with-resources) to close the file. */
    public static Stream<TraceEvent> read(Path file) throws IOException {
        return read(file, TraceEvent.class);
    }

    /** All events of a file, in memory (tests and small files). */
    public static List<TraceEvent> readAll(Path file) throws IOException {
        return readAll(file, TraceEvent.class);
    }

    /** The dead letters of an Avro dead-letter file, lazily. Close the stream to close the file. */
    public static Stream<DeadLetter> readDeadLetters(Path file) throws IOException {
        return read(file, DeadLetter.class);
    }

    /** Records of any specific class, lazily. Close the stream to close the file. */
    public static <T extends SpecificRecord> Stream<T> read(Path file, Class<T> type) throws IOException {
        DataFileReader<T> reader = open(file, type);
        return stream(reader, reader);
    }

    /**
     * Opens a container file after checking that it is complete. Avro's reader silently stops at a block cut short
     * (it takes EOF for the end), so a truncated file would read as a shorter one; every complete container file
     * ends with its 16-byte sync marker, so we check that first.
     */
    private static <T> DataFileReader<T> open(Path file, Class<T> type) throws IOException {
        DataFileReader<T> reader = new DataFileReader<>(file.toFile(),
                type == null ? new SpecificDatumReader<>() : new SpecificDatumReader<>(type));
        try {
            byte[] sync;
            try (InputStream head = Files.newInputStream(file)) {
                sync = syncMarker(head);
            }
            long length = Files.size(file);
            byte[] tail = new byte[sync.length];
            try (SeekableByteChannel ch = Files.newByteChannel(file)) {
                ch.position(length - tail.length);
                ByteBuffer buf = ByteBuffer.wrap(tail);
                while (buf.hasRemaining() && ch.read(buf) >= 0) {
                    // read fully
                }
            }
            if (!Arrays.equals(sync, tail)) {
                throw new IOException(file + " is truncated: the last block is incomplete (" + length
                        + " bytes; the file was cut or is still being written)");
            }
            return reader;
        } catch (IOException | RuntimeException e) {
            reader.close();
            throw e;
        }
    }

    /** Records from a stream (e.g. stdin). Closing the returned stream closes {@code in}. */
    public static <T extends SpecificRecord> Stream<T> read(InputStream in, Class<T> type) throws IOException {
        TailInputStream tail = new TailInputStream(in);
        DataFileStream<T> reader = new DataFileStream<>(tail, new SpecificDatumReader<>(type));
        byte[] sync = syncMarker(new ByteArrayInputStream(tail.stopCapture()));
        Iterator<T> checked = new Iterator<>() {
            @Override
            public boolean hasNext() {
                if (reader.hasNext()) {
                    return true;
                }
                if (!tail.endsWith(sync)) {
                    throw new UncheckedIOException(new IOException("Avro stream is truncated: the last block is "
                            + "incomplete (" + tail.count + " bytes read)"));
                }
                return false;
            }

            @Override
            public T next() {
                return reader.next();
            }
        };
        return stream(checked, reader);
    }

    public static <T extends SpecificRecord> List<T> readAll(Path file, Class<T> type) throws IOException {
        try (Stream<T> s = read(file, type)) {
            List<T> out = new ArrayList<>();
            s.forEachOrdered(out::add);
            return out;
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Visits every event of a file reusing one record object (fast path for {@code stats} over large files): the
     * consumer must copy what it keeps. Returns the number of events.
     */
    public static long scan(Path file, Consumer<? super TraceEvent> consumer) throws IOException {
        try (DataFileReader<TraceEvent> reader = open(file, TraceEvent.class)) {
            long n = 0;
            TraceEvent reuse = null;
            while (reader.hasNext()) {
                reuse = reader.next(reuse);
                consumer.accept(reuse);
                n++;
            }
            return n;
        }
    }

    /**
     * The header metadata of a file: the codec under "avro.codec", the writer schema under "avro.schema", and any
     * user metadata, as UTF-8 strings.
     */
    public static Map<String, String> metadata(Path file) throws IOException {
        try (DataFileReader<Object> reader = open(file, null)) {
            Map<String, String> out = new LinkedHashMap<>();
            for (String key : reader.getMetaKeys()) {
                out.put(key, new String(reader.getMeta(key), StandardCharsets.UTF_8));
            }
            out.putIfAbsent(DataFileConstants.CODEC, DataFileConstants.NULL_CODEC);
            return out;
        }
    }

    private static <T> Stream<T> stream(Iterator<T> it, AutoCloseable closer) {
        Iterator<T> wrapped = new Iterator<>() {
            @Override
            public boolean hasNext() {
                try {
                    return it.hasNext();
                } catch (RuntimeException e) {
                    throw unwrap(e);
                }
            }

            @Override
            public T next() {
                try {
                    return it.next();
                } catch (RuntimeException e) {
                    throw unwrap(e);
                }
            }
        };
        return StreamSupport.stream(
                        Spliterators.spliteratorUnknownSize(wrapped, Spliterator.ORDERED | Spliterator.NONNULL), false)
                .onClose(() -> {
                    try {
                        closer.close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    /** The 16-byte sync marker from a container file's header (magic, metadata map, sync). */
    private static byte[] syncMarker(InputStream header) throws IOException {
        BinaryDecoder d = DecoderFactory.get().directBinaryDecoder(header, null);
        byte[] magic = new byte[4];
        d.readFixed(magic);
        if (!Arrays.equals(magic, DataFileConstants.MAGIC)) {
            throw new IOException("not an Avro object container file");
        }
        for (long n = d.readMapStart(); n != 0; n = d.mapNext()) {
            for (long i = 0; i < n; i++) {
                d.skipString();
                d.skipBytes();
            }
        }
        byte[] sync = new byte[DataFileConstants.SYNC_SIZE];
        d.readFixed(sync);
        return sync;
    }

    /** Passes bytes through, remembering the count, the last 16, and (until told to stop) all of them. */
    private static final class TailInputStream extends FilterInputStream {
        private final byte[] last = new byte[16];
        private long count;
        private ByteArrayOutputStream captured = new ByteArrayOutputStream();

        /** The bytes read so far (the header and maybe a little more); stops capturing. */
        byte[] stopCapture() {
            byte[] b = captured.toByteArray();
            captured = null;
            return b;
        }

        TailInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                remember(new byte[] {(byte) b}, 0, 1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                remember(b, off, n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = 0;
            byte[] buf = new byte[8192];
            while (skipped < n) {
                int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
                if (r < 0) {
                    break;
                }
                skipped += r;
            }
            return skipped;
        }

        private void remember(byte[] b, int off, int n) {
            count += n;
            if (captured != null) {
                captured.write(b, off, n);
            }
            if (n >= last.length) {
                System.arraycopy(b, off + n - last.length, last, 0, last.length);
            } else {
                System.arraycopy(last, n, last, 0, last.length - n);
                System.arraycopy(b, off, last, last.length - n, n);
            }
        }

        boolean endsWith(byte[] sync) {
            return count >= sync.length && Arrays.equals(last, sync);
        }
    }

    /** Avro wraps read errors in AvroRuntimeException(IOException); surface them as UncheckedIOException. */
    private static RuntimeException unwrap(RuntimeException e) {
        if (e.getCause() instanceof IOException && !(e instanceof UncheckedIOException)) {
            return new UncheckedIOException(e.getMessage(), (IOException) e.getCause());
        }
        return e;
    }
}
