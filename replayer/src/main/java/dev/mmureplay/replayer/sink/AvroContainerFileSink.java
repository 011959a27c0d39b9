package dev.mmureplay.replayer.sink;

import org.apache.avro.Schema;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

import java.io.Closeable;
import java.io.FileOutputStream;
import java.io.Flushable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Writes records of one Avro specific class to an Avro object container file (header with the writer schema, then
 * compressed blocks separated by sync markers), readable with {@link AvroFiles} or any Avro tool.
 *
 * <p>Cost: the calling thread encodes each record straight into an in-memory block (a byte array); a block is
 * compressed and written ({@link AvroBlockWriter}) when it reaches the sync interval ({@link AvroFileOptions},
 * default 1 MiB: large blocks compress better and amortize per-block costs). With
 * {@link AvroFileOptions#backgroundWriter()} full blocks are handed to a daemon thread ("avro-writer") that
 * compresses and writes them in order, so compression and I/O overlap with the caller's work; at most
 * {@value #QUEUED_BLOCKS} blocks wait, so memory stays flat (a few blocks) and a slow disk slows the caller down. A
 * failure of that thread is thrown by a later {@link #append}, {@link #flush()} or {@link #close()}. Records are
 * encoded when appended, so they may be changed or reused afterwards.
 *
 * <p>Each full block is flushed to the stream, so a file read while it is written shows whole blocks.
 * {@link #flush()} ends the current block early (call it rarely); {@link #close()} writes the last block, flushes
 * and (for files) fsyncs. A record whose encoding fails (e.g. a required field is null) leaves nothing behind.
 *
 * <p>Not thread-safe: one calling thread.
 *
 * @param <T> the record class
 */
public class AvroContainerFileSink<T extends SpecificRecord> implements Closeable, Flushable {

    /** Kept for callers of the first API; same as {@link AvroFileOptions#DEFAULT_SYNC_INTERVAL}. */
    public static final int DEFAULT_SYNC_INTERVAL = AvroFileOptions.DEFAULT_SYNC_INTERVAL;

    static final int QUEUED_BLOCKS = 2;

    /** Encodes one record of some source type into the block. */
    @FunctionalInterface
    protected interface RecordEncoder<S> {
        void encode(S source, ByteArrayEncoder out) throws IOException;
    }

    private final AvroBlockWriter writer;
    private final RecordEncoder<T> datumEncoder;
    private final FileOutputStream fileStream;   // non-null when we opened a file: for fsync on close
    private final AvroFileOptions options;
    private final int syncInterval;
    private final int blockCapacity;
    private final Background background;         // null: synchronous
    private final ByteArrayEncoder block;
    private int blockRecords;
    private long count;
    private boolean closed;

    /** A new (or truncated) file with default options. */
    public AvroContainerFileSink(Path file, Schema schema) throws IOException {
        this(file, schema, specificWriter(schema), AvroFileOptions.defaults());
    }

    /**
     * A new (or truncated) file, written synchronously.
     *
     * @param metadata extra header metadata (e.g. "mmu-replay.inputs"); keys must not start with "avro."
     */
    public AvroContainerFileSink(Path file, Schema schema, AvroCompression compression, int syncIntervalBytes,
                                 Map<String, String> metadata) throws IOException {
        this(file, schema, specificWriter(schema), AvroFileOptions.defaults().withCompression(compression)
                .withSyncInterval(syncIntervalBytes).withMetadata(metadata).withBackgroundWriter(false));
    }

    /** A new (or truncated) file. */
    public AvroContainerFileSink(Path file, Schema schema, AvroFileOptions options) throws IOException {
        this(file, schema, specificWriter(schema), options);
    }

    /** To a stream (e.g. stdout), closed by {@link #close()}; it need not be buffered. */
    public AvroContainerFileSink(OutputStream out, Schema schema, AvroFileOptions options) throws IOException {
        this(out, schema, specificWriter(schema), options);
    }

    /** A new (or truncated) file written with the given datum writer (e.g. {@link TraceEventDatumWriter}). */
    protected AvroContainerFileSink(Path file, Schema schema, DatumWriter<T> datumWriter, AvroFileOptions options)
            throws IOException {
        this(new FileOutputStream(file.toFile()), true, file.getFileName().toString(), schema, datumWriter, options);
    }

    /** Writes to a stream with the given datum writer; the stream is closed by {@link #close()}. */
    protected AvroContainerFileSink(OutputStream out, Schema schema, DatumWriter<T> datumWriter,
                                    AvroFileOptions options) throws IOException {
        this(out, false, "stream", schema, datumWriter, options);
    }

    private AvroContainerFileSink(OutputStream out, boolean ownFile, String name, Schema schema,
                                  DatumWriter<T> datumWriter, AvroFileOptions options) throws IOException {
        datumWriter.setSchema(schema);
        try {
            this.writer = new AvroBlockWriter(out, schema, datumWriter, options);
        } catch (IOException | RuntimeException e) {
            if (ownFile) {
                out.close();
            }
            throw e;
        }
        this.datumEncoder = datumWriter::write;
        this.fileStream = ownFile ? (FileOutputStream) out : null;
        this.options = options;
        this.syncInterval = options.syncIntervalBytes();
        // one block plus room for the record that ends it, so the array rarely grows
        this.blockCapacity = syncInterval + Math.min(syncInterval, 64 * 1024);
        this.block = new ByteArrayEncoder(blockCapacity);
        this.background = options.backgroundWriter() ? new Background(writer, name, blockCapacity) : null;
    }

    /** Avro's writer for a specific record schema, with the generated classes' own coders enabled (faster). */
    private static <T> DatumWriter<T> specificWriter(Schema schema) {
        SpecificData model = new SpecificData();
        model.setCustomCoders(true);
        return new SpecificDatumWriter<>(schema, model);
    }

    /** Appends a record (encoded now: it may be changed afterwards). */
    public void append(T record) throws IOException {
        append(record, datumEncoder);
    }

    /**
     * Appends one record that {@code encoder} encodes from {@code source} (for subclasses that encode from something
     * other than a record object; the bytes must be those of a record of the file's schema).
     */
    protected final <S> void append(S source, RecordEncoder<? super S> encoder) throws IOException {
        if (closed) {
            throw new IOException("Avro sink is closed");
        }
        ByteArrayEncoder out = block;
        int mark = out.position();
        try {
            encoder.encode(source, out);
        } catch (IOException | RuntimeException e) {
            out.truncate(mark);   // keep the block decodable: drop the partial record
            throw e;
        }
        blockRecords++;
        count++;
        if (out.position() >= syncInterval) {
            endBlock();
        }
    }

    /** Writes the current block, or hands it to the background writer (taking a free buffer for the next one). */
    private void endBlock() throws IOException {
        if (blockRecords == 0) {
            return;
        }
        if (background != null) {
            background.handOver(block.array(), block.position(), blockRecords);
            block.reset(background.takeFree());
        } else {
            writer.writeBlock(block.array(), block.position(), blockRecords);
            block.reset();
            if (block.array().length > 2 * blockCapacity + (4 << 20)) {
                block.reset(new byte[blockCapacity]);   // do not keep an array grown by one huge record
            }
        }
        blockRecords = 0;
    }

    /** Records appended so far. */
    public long count() {
        return count;
    }

    public AvroCompression compression() {
        return options.compression();
    }

    public AvroFileOptions options() {
        return options;
    }

    /** Writes everything appended so far: ends the current block and flushes it to the stream (not fsync). */
    @Override
    public void flush() throws IOException {
        if (closed) {
            return;
        }
        endBlock();
        if (background != null) {
            background.flush();
        } else {
            writer.flush();
        }
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        IOException first = null;
        try {
            endBlock();
            if (background != null) {
                background.flush();
            }
            writer.flush();
            if (fileStream != null) {
                fileStream.getFD().sync();
            }
        } catch (IOException | RuntimeException e) {
            first = e instanceof IOException ? (IOException) e : new IOException(e);
        }
        closed = true;
        try {
            if (background != null) {
                background.stop();
            }
            writer.close();
        } catch (IOException | RuntimeException e) {
            if (first == null) {
                first = e instanceof IOException ? (IOException) e : new IOException(e);
            } else {
                first.addSuppressed(e);
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** The background writer thread: compresses and writes the blocks handed to it, in order. */
    private static final class Background {
        private static final byte[] FLUSH = new byte[0];
        private static final byte[] STOP = new byte[0];

        private final AvroBlockWriter writer;
        private final int capacity;
        private final BlockingQueue<Item> queue = new ArrayBlockingQueue<>(QUEUED_BLOCKS);
        private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(QUEUED_BLOCKS + 2);
        private final Thread thread;
        private volatile Throwable failure;
        private int buffers = 1;   // the caller's block buffer, and those made by takeFree

        private record Item(byte[] data, int length, int records, CompletableFuture<Void> done) {
        }

        Background(AvroBlockWriter writer, String name, int capacity) {
            this.writer = writer;
            this.capacity = capacity;
            this.thread = new Thread(this::run, "avro-writer-" + name);
            thread.setDaemon(true);
            thread.start();
        }

        void handOver(byte[] data, int length, int records) throws IOException {
            throwIfFailed();
            put(new Item(data, length, records, null));
        }

        /** A buffer for the next block: a returned one, a new one while fewer than QUEUED_BLOCKS + 2 exist. */
        byte[] takeFree() throws IOException {
            byte[] b = free.poll();
            if (b != null) {
                return b;
            }
            if (buffers < QUEUED_BLOCKS + 2) {
                buffers++;
                return new byte[capacity];
            }
            try {
                while ((b = free.poll(1, TimeUnit.SECONDS)) == null) {
                    throwIfFailed();
                    if (!thread.isAlive()) {
                        throw new IOException("Avro writer thread ended unexpectedly");
                    }
                }
                return b;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the Avro writer");
            }
        }

        /** Waits until the writer has written and flushed every block handed over. */
        void flush() throws IOException {
            throwIfFailed();
            CompletableFuture<Void> done = new CompletableFuture<>();
            put(new Item(FLUSH, 0, 0, done));
            try {
                done.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while flushing the Avro writer");
            } catch (ExecutionException e) {
                throw failureAsIo(e.getCause());
            }
            throwIfFailed();
        }

        /** Ends the thread (idempotent); waits for it so the caller can close the writer safely. */
        void stop() throws IOException {
            if (!thread.isAlive()) {
                return;
            }
            try {
                queue.put(new Item(STOP, 0, 0, null));
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                thread.interrupt();
                throw new InterruptedIOException("interrupted while stopping the Avro writer");
            }
        }

        private void put(Item item) throws IOException {
            try {
                while (!queue.offer(item, 1, TimeUnit.SECONDS)) {
                    throwIfFailed();
                    if (!thread.isAlive()) {
                        throw new IOException("Avro writer thread ended unexpectedly");
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while handing a block to the Avro writer");
            }
        }

        private void run() {
            while (true) {
                Item item;
                try {
                    item = queue.take();
                } catch (InterruptedException e) {
                    return;
                }
                if (item.data == STOP) {
                    return;
                }
                try {
                    if (item.data == FLUSH) {
                        if (failure == null) {
                            writer.flush();
                        }
                        item.done.complete(null);
                    } else if (failure == null) {
                        writer.writeBlock(item.data, item.length, item.records);
                    }
                } catch (Throwable t) {   // keep draining so the caller never blocks; it sees the failure
                    if (failure == null) {
                        failure = t;
                    }
                    if (item.done != null) {
                        item.done.completeExceptionally(t);
                    }
                }
                if (item.done == null) {
                    // recycle the block buffer, unless one huge record grew it
                    free.offer(item.data.length > 2 * capacity + (4 << 20) ? new byte[capacity] : item.data);
                }
            }
        }

        private void throwIfFailed() throws IOException {
            Throwable t = failure;
            if (t != null) {
                throw failureAsIo(t);
            }
        }

        private static IOException failureAsIo(Throwable t) {
            return new IOException("Avro file writer failed: " + t, t);
        }
    }
}
