package dev.mmureplay.replayer.ingest;

/** Told how far a long ingest has come; the CLI draws a progress bar from it. */
public interface ProgressListener {

    ProgressListener NONE = (input, bytesRead, totalBytes, lines) -> { };

    /**
     * @param input      the input being read (file name or "-")
     * @param bytesRead  bytes of that input consumed so far (compressed bytes for .gz)
     * @param totalBytes size of that input, or -1 when unknown (stdin)
     * @param lines      lines read so far over all inputs
     */
    void progress(String input, long bytesRead, long totalBytes, long lines);
}
