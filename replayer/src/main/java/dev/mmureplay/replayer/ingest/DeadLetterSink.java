package dev.mmureplay.replayer.ingest;

import dev.mmureplay.avro.DeadLetter;

import java.io.Closeable;
import java.io.IOException;

/** Where input that could not be processed goes, with its place and reason. Called from one thread. */
public interface DeadLetterSink extends Closeable {

    void accept(DeadLetter deadLetter) throws IOException;

    default void flush() throws IOException {
    }
}
