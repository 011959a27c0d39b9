package dev.mmureplay.replayer.ingest;

/**
 * More dead letters than --max-errors allows. Everything up to and including the line that crossed the limit was
 * sent to the sinks (and flushed); {@link #report()} accounts for exactly those lines.
 */
public final class TooManyErrorsException extends Exception {

    private final transient IngestReport report;
    private final long maxErrors;

    public TooManyErrorsException(long maxErrors, IngestReport report) {
        super("more than " + maxErrors + " bad lines (" + report.deadLetters() + " dead letters after "
                + report.linesRead() + " lines); stopped");
        this.maxErrors = maxErrors;
        this.report = report;
    }

    /** The report of the lines read before stopping (reconciled). */
    public IngestReport report() {
        return report;
    }

    public long maxErrors() {
        return maxErrors;
    }
}
