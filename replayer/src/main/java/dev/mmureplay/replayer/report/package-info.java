/**
 * Replay reports, independent of where the replay ran (the local {@code diff}, the Flink {@code replay} job):
 * collect a {@link dev.mmureplay.replayer.report.ReplaySummary} (its {@code Builder} takes events, alerts and
 * digests incrementally in bounded memory; {@link dev.mmureplay.replayer.report.Timeline.Builder} places events and
 * divergences by seq), then render it as {@code summary.json} ({@link dev.mmureplay.replayer.report.SummaryJson}),
 * a terminal table ({@link dev.mmureplay.replayer.report.SummaryTable}) and one self-contained HTML page
 * ({@link dev.mmureplay.replayer.report.HtmlReport}); {@link dev.mmureplay.replayer.report.Alerts} holds the alert
 * order, the profile-vs-profile alert and {@code alerts.jsonl}. Every rendering is deterministic: the same summary
 * gives the same bytes.
 */
package dev.mmureplay.replayer.report;
