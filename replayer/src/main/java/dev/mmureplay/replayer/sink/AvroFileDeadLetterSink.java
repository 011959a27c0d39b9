package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.replayer.ingest.DeadLetterSink;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * Dead letters to an Avro object container file of {@link DeadLetter}s, for machines (the Flink job's dead-letter
 * output reads the same way). People read {@link JsonLinesDeadLetterSink} files instead.
 */
public final class AvroFileDeadLetterSink extends AvroContainerFileSink<DeadLetter> implements DeadLetterSink {

    /** Dead letters are few: small blocks, so a crash loses little. */
    private static final int SYNC_INTERVAL = 64 * 1024;

    public AvroFileDeadLetterSink(Path file) throws IOException {
        this(file, AvroCompression.DEFAULT);
    }

    public AvroFileDeadLetterSink(Path file, AvroCompression compression) throws IOException {
        super(file, DeadLetter.getClassSchema(), options(compression));
    }

    /** To a stream; the stream is closed by {@link #close()}. */
    public AvroFileDeadLetterSink(OutputStream out, AvroCompression compression) throws IOException {
        super(out, DeadLetter.getClassSchema(), options(compression));
    }

    /** Synchronous (dead letters are few), small blocks. */
    private static AvroFileOptions options(AvroCompression compression) {
        return AvroFileOptions.defaults().withCompression(compression).withSyncInterval(SYNC_INTERVAL)
                .withBackgroundWriter(false);
    }

    @Override
    public void accept(DeadLetter deadLetter) throws IOException {
        append(deadLetter);
    }
}
