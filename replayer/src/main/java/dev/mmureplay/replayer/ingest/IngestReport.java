package dev.mmureplay.replayer.ingest;

import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What an ingest run did. Every line read is exactly one of: an event, a dead letter, or skipped (headers,
 * comments, blank lines, lost-event notices) — {@link #reconciles()} checks {@code linesRead == events +
 * deadLetters + skipped}, and {@link Ingest} verifies it before returning.
 *
 * @param linesRead        lines read over all inputs
 * @param events           events sent to the EventSink
 * @param deadLetters      bad lines sent to the DeadLetterSink
 * @param skipped          lines that carry no event
 * @param generic          events kept only as a GenericEvent (name + raw text)
 * @param byType           event name → events, sorted by name ("tracing_mark_write" for markers)
 * @param byVm             VM id → events, sorted by id
 * @param firstTimestampNs smallest event timestamp, null when there were no events
 * @param lastTimestampNs  largest event timestamp, null when there were no events
 * @param lostEvents       events the tracer reported lost ("CPU:n [LOST k EVENTS]" lines), summed
 * @param bytesRead        raw input bytes read (compressed bytes for .gz)
 * @param warnings         input-level problems that did not stop the run (e.g. a gzip file cut short)
 */
public record IngestReport(long linesRead, long events, long deadLetters, long skipped, long generic,
                           SortedMap<String, Long> byType, SortedMap<String, Long> byVm,
                           Long firstTimestampNs, Long lastTimestampNs, long lostEvents, long bytesRead,
                           List<String> warnings) {

    public IngestReport {
        byType = Collections.unmodifiableSortedMap(new TreeMap<>(byType));
        byVm = Collections.unmodifiableSortedMap(new TreeMap<>(byVm));
        warnings = List.copyOf(warnings);
    }

    /** linesRead == events + deadLetters + skipped, and the per-type and per-VM counts add up to events. */
    public boolean reconciles() {
        return linesRead == events + deadLetters + skipped
                && byType.values().stream().mapToLong(Long::longValue).sum() == events
                && byVm.values().stream().mapToLong(Long::longValue).sum() == events;
    }

    /** Throws IllegalStateException when {@link #reconciles()} is false (a bug, never bad input). */
    public IngestReport checkReconciled() {
        if (!reconciles()) {
            throw new IllegalStateException("ingest counts do not reconcile: " + this);
        }
        return this;
    }

    /** Span of event timestamps in ns (0 without events). */
    public long timeSpanNs() {
        return firstTimestampNs == null ? 0 : lastTimestampNs - firstTimestampNs;
    }
}
