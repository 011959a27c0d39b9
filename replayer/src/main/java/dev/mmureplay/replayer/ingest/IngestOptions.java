package dev.mmureplay.replayer.ingest;

import dev.mmureplay.replayer.parse.LineReader;

/**
 * Options of one ingest run.
 *
 * @param vm           VM id override (--vm), or null for the input's file name
 * @param splitBy      VM identity mode (--split-by), default {@link SplitMode#NONE}
 * @param maxErrors    dead letters tolerated (--max-errors); the run stops with {@link TooManyErrorsException} when
 *                     there are more. Negative = unlimited. Default {@value #DEFAULT_MAX_ERRORS}.
 * @param maxLineBytes bytes held for one line; a longer line is a dead letter keeping its first maxLineBytes
 *                     bytes. Default {@link LineReader#DEFAULT_MAX_LINE_BYTES} (4 MiB).
 */
public record IngestOptions(String vm, SplitMode splitBy, long maxErrors, int maxLineBytes) {

    /**
     * Default --max-errors: enough to survive a damaged region of a long capture (a torn write, a cut file, a few
     * garbled lines) while still stopping early on input that is not a trace at all.
     */
    public static final long DEFAULT_MAX_ERRORS = 1000;

    public IngestOptions {
        if (splitBy == null) {
            throw new IllegalArgumentException("splitBy must not be null");
        }
        if (maxLineBytes < 1 || maxLineBytes > LineReader.MAX_LINE_BYTES_LIMIT) {
            throw new IllegalArgumentException("maxLineBytes must be in 1.." + LineReader.MAX_LINE_BYTES_LIMIT + ": "
                    + maxLineBytes);
        }
        if (vm != null && vm.isBlank()) {
            throw new IllegalArgumentException("vm id must not be blank");
        }
    }

    public static IngestOptions defaults() {
        return new IngestOptions(null, SplitMode.NONE, DEFAULT_MAX_ERRORS, LineReader.DEFAULT_MAX_LINE_BYTES);
    }

    public IngestOptions withVm(String id) {
        return new IngestOptions(id, splitBy, maxErrors, maxLineBytes);
    }

    public IngestOptions withSplitBy(SplitMode mode) {
        return new IngestOptions(vm, mode, maxErrors, maxLineBytes);
    }

    public IngestOptions withMaxErrors(long n) {
        return new IngestOptions(vm, splitBy, n, maxLineBytes);
    }

    /** No limit on dead letters. */
    public IngestOptions withUnlimitedErrors() {
        return withMaxErrors(-1);
    }

    public IngestOptions withMaxLineBytes(int n) {
        return new IngestOptions(vm, splitBy, maxErrors, n);
    }
}
