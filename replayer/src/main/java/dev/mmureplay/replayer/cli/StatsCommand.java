package dev.mmureplay.replayer.cli;

import dev.mmureplay.avro.GenericEvent;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.json.Json;
import dev.mmureplay.schemas.EventNames;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** {@code mmu-replay stats FILE.avro...}: what an ingested file holds, by event type and VM, and its time span. */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = "Summarise Avro event files written by ingest: events by type and VM, seq ranges, time span.")
final class StatsCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "FILE.avro", description = "Avro container files written by ingest.")
    List<File> files;

    @Option(names = "--json", description = "Print one JSON object on stdout instead of tables.")
    boolean json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Stats stats = new Stats();
        for (File f : files) {
            if (!f.isFile()) {
                throw new MmuReplayCli.CliFailure(MmuReplayCli.EXIT_FAILURE, "no such file: " + f);
            }
            try (DataFileReader<TraceEvent> reader =
                         new DataFileReader<>(f, new SpecificDatumReader<>(TraceEvent.class))) {
                TraceEvent e = null;
                while (reader.hasNext()) {
                    e = reader.next(e);
                    stats.add(e);
                }
            } catch (IOException | RuntimeException e) {
                throw new MmuReplayCli.CliFailure(MmuReplayCli.EXIT_FAILURE,
                        f + ": not a readable TraceEvent Avro file (" + e.getMessage() + ")");
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(json ? Json.write(stats.toJson()) : stats.toTable());
        out.flush();
        return MmuReplayCli.EXIT_OK;
    }

    /** Running totals over a stream of events; memory grows with the number of VMs and types, not events. */
    static final class Stats {
        long events;
        long generic;
        long firstTs = Long.MAX_VALUE;
        long lastTs = Long.MIN_VALUE;
        final Map<String, Long> byType = new TreeMap<>();
        final Map<String, VmStats> byVm = new TreeMap<>();

        void add(TraceEvent e) {
            events++;
            if (e.getPayload() instanceof GenericEvent) {
                generic++;
            }
            byType.merge(EventNames.of(e), 1L, Long::sum);
            byVm.computeIfAbsent(e.getVm(), k -> new VmStats()).add(e);
            firstTs = Math.min(firstTs, e.getTimestampNs());
            lastTs = Math.max(lastTs, e.getTimestampNs());
        }

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("events", events);
            m.put("generic", generic);
            m.put("vms", byVm.size());
            m.put("firstTimestampNs", events == 0 ? null : firstTs);
            m.put("lastTimestampNs", events == 0 ? null : lastTs);
            m.put("spanNs", events == 0 ? 0 : lastTs - firstTs);
            m.put("byType", byType);
            Map<String, Object> vms = new LinkedHashMap<>();
            byVm.forEach((vm, s) -> vms.put(vm, s.toJson()));
            m.put("byVm", vms);
            return m;
        }

        String toTable() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "%,d events, %d VMs, %,d generic, span %s%n", events, byVm.size(),
                    generic, events == 0 ? "-" : formatSpan(lastTs - firstTs)));
            sb.append(String.format(Locale.ROOT, "%n%-28s %12s%n", "event", "count"));
            byType.forEach((t, n) -> sb.append(String.format(Locale.ROOT, "%-28s %,12d%n", t, n)));
            sb.append(String.format(Locale.ROOT, "%n%-24s %12s %12s %12s %6s %s%n",
                    "vm", "events", "first seq", "last seq", "gaps", "span"));
            byVm.forEach((vm, s) -> sb.append(String.format(Locale.ROOT, "%-24s %,12d %12d %12d %6d %s%n",
                    vm, s.events, s.firstSeq, s.lastSeq, s.seqGaps, formatSpan(s.lastTs - s.firstTs))));
            return sb.toString().stripTrailing();
        }
    }

    static final class VmStats {
        long events;
        long firstSeq = -1;
        long lastSeq = -1;
        long seqGaps;
        long firstTs = Long.MAX_VALUE;
        long lastTs = Long.MIN_VALUE;

        void add(TraceEvent e) {
            if (events > 0 && e.getSeq() != lastSeq + 1) {
                seqGaps++;
            }
            if (events == 0) {
                firstSeq = e.getSeq();
            }
            events++;
            lastSeq = e.getSeq();
            firstTs = Math.min(firstTs, e.getTimestampNs());
            lastTs = Math.max(lastTs, e.getTimestampNs());
        }

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("events", events);
            m.put("firstSeq", firstSeq);
            m.put("lastSeq", lastSeq);
            m.put("seqGaps", seqGaps);
            m.put("firstTimestampNs", firstTs);
            m.put("lastTimestampNs", lastTs);
            return m;
        }
    }

    static String formatSpan(long ns) {
        if (ns < 1_000_000L) {
            return String.format(Locale.ROOT, "%.1f us", ns / 1e3);
        }
        if (ns < 10_000_000_000L) {
            return String.format(Locale.ROOT, "%.3f ms", ns / 1e6);
        }
        return String.format(Locale.ROOT, "%.3f s", ns / 1e9);
    }
}
