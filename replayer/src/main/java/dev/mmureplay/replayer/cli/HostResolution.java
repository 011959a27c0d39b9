package dev.mmureplay.replayer.cli;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.HostConfig;
import dev.mmureplay.model.HostHeader;
import dev.mmureplay.model.HostInference;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.replayer.ingest.DeadLetterSink;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.EventView;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.ingest.TooManyErrorsException;
import dev.mmureplay.replayer.model.ModelEvents;
import dev.mmureplay.replayer.parse.TraceInput;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How the commands that build a {@link ModelConfig} (diff, conformance, replay) find the host configuration of
 * their inputs: the {@link HostHeader} lines of trace text, {@link HostInference} over the first events, both
 * resolved with {@code --host} by {@link HostConfig#resolve} (given &gt; header &gt; inferred &gt; default), and how
 * the result is printed (text lines, JSON). Standard input cannot be read twice: its header and events are not
 * looked at here (the commands say so).
 */
public final class HostResolution {

    /** trace-cmd report's own header lines, which may come before a host header line. */
    private static final Pattern TRACE_CMD_HEADER = Pattern.compile("(cpus|version) ?= ?\\d+");

    private HostResolution() {
    }

    /**
     * The host header settings of a run: merged over the text inputs; {@code fileOf} names the input each key came
     * from; {@code skipped} the inputs whose header could not be read (standard input).
     */
    public record Headers(Map<String, String> settings, Map<String, String> fileOf, List<String> skipped) {
    }

    /**
     * Reads the header lines (the {@code #} lines, blank lines and trace-cmd's {@code cpus=N} / {@code version = N}
     * before the first other line) of each text input and merges their host header lines.
     *
     * @throws IllegalArgumentException a bad host header line ({@code file:line: ...}), or two inputs giving one
     *                                  setting different values (the message names both files)
     */
    public static Headers readHeaders(List<String> textInputs) throws IOException {
        Map<String, String> settings = new LinkedHashMap<>();
        Map<String, String> fileOf = new LinkedHashMap<>();
        List<String> skipped = new ArrayList<>();
        for (String in : textInputs) {
            if (in.equals(TraceInput.STDIN)) {
                skipped.add(in);
                continue;
            }
            Map<String, String> own = new LinkedHashMap<>();
            try (TraceInput input = TraceInput.open(in);
                 BufferedReader r = new BufferedReader(new InputStreamReader(input.stream(),
                         StandardCharsets.ISO_8859_1))) {
                String line;
                int n = 0;
                while ((line = r.readLine()) != null) {
                    n++;
                    String s = line.strip();
                    if (HostHeader.isHostLine(s)) {
                        try {
                            for (Map.Entry<String, String> e : HostHeader.parse(s).entrySet()) {
                                String before = own.putIfAbsent(e.getKey(), e.getValue());
                                if (before != null && !same(before, e.getValue())) {
                                    throw new IllegalArgumentException("host header: " + e.getKey()
                                            + " given twice (" + before + ", " + e.getValue() + ")");
                                }
                            }
                        } catch (IllegalArgumentException e) {
                            throw new IllegalArgumentException(in + ":" + n + ": " + e.getMessage());
                        }
                    } else if (!(s.isEmpty() || s.startsWith("#") || TRACE_CMD_HEADER.matcher(s).matches())) {
                        break;   // the first event (or bad) line ends the header
                    }
                }
            }
            for (Map.Entry<String, String> e : own.entrySet()) {
                String before = settings.putIfAbsent(e.getKey(), e.getValue());
                if (before != null && !same(before, e.getValue())) {
                    throw new IllegalArgumentException("conflicting host headers: " + e.getKey() + "=" + before
                            + " in " + fileOf.get(e.getKey()) + ", " + e.getKey() + "=" + e.getValue() + " in " + in);
                }
                fileOf.putIfAbsent(e.getKey(), in);
            }
        }
        return new Headers(settings, fileOf, skipped);
    }

    private static boolean same(String a, String b) {
        return a.trim().toLowerCase(Locale.ROOT).equals(b.trim().toLowerCase(Locale.ROOT));
    }

    /**
     * Infers host settings from the first {@code limit} events of the inputs, in order: trace text through the
     * ingest parser (bad lines ignored here), Avro files of TraceEvents as stored. Standard input is not read.
     */
    public static HostInference.Result infer(List<String> inputs, IngestOptions options, int limit)
            throws IOException {
        Probe probe = new Probe(limit);
        for (String in : inputs) {
            if (probe.full() || in.equals(TraceInput.STDIN)) {
                continue;
            }
            if (ConformanceCommand.isAvro(in)) {
                probe.avro(Path.of(in));
            } else {
                probe.where = in;
                Ingest ingest = new Ingest(options.withUnlimitedErrors(), probe, NO_DEAD_LETTERS,
                        ProgressListener.NONE);
                try (TraceInput input = TraceInput.open(in)) {
                    ingest.ingest(input);
                } catch (Probe.Full full) {
                    // the prefix is complete
                } catch (TooManyErrorsException e) {
                    throw new IllegalStateException(e);   // unlimited errors: cannot happen
                }
            }
        }
        return probe.inference.result();
    }

    /** Infers host settings from the first {@code limit} events of Avro files of TraceEvents. */
    public static HostInference.Result inferAvro(List<Path> files, int limit) throws IOException {
        Probe probe = new Probe(limit);
        for (Path f : files) {
            if (!probe.full()) {
                probe.avro(f);
            }
        }
        return probe.inference.result();
    }

    private static final DeadLetterSink NO_DEAD_LETTERS = new DeadLetterSink() {
        @Override
        public void accept(DeadLetter d) {
        }

        @Override
        public void close() {
        }
    };

    /** Feeds events to a HostInference until the limit; text ingest is stopped by {@link Full}. */
    private static final class Probe implements EventSink {
        private final HostInference inference = new HostInference();
        private final int limit;
        private long seen;
        String where;

        Probe(int limit) {
            this.limit = limit;
        }

        boolean full() {
            return seen >= limit;
        }

        @Override
        public void accept(EventView e) {
            accept(e.toTraceEvent());
        }

        @Override
        public void accept(TraceEvent e) {
            if (full()) {
                throw new Full();
            }
            seen++;
            inference.accept(where, ModelEvents.of(e));
        }

        void avro(Path f) throws IOException {
            where = f.toString();
            try (DataFileReader<TraceEvent> reader =
                         new DataFileReader<>(f.toFile(), new SpecificDatumReader<>(TraceEvent.class))) {
                TraceEvent e = null;
                while (!full() && reader.hasNext()) {
                    e = reader.next(e);
                    accept(e);
                }
            } catch (org.apache.avro.AvroRuntimeException e) {
                throw new IOException(f + ": not a readable TraceEvent Avro file (" + e.getMessage() + ")", e);
            }
        }

        @Override
        public void close() {
        }

        /** Stops an ingest once the prefix is complete. */
        static final class Full extends RuntimeException {
            Full() {
                super(null, null, false, false);
            }
        }
    }

    /**
     * What diff and conformance do: headers of the text inputs, inference over the first
     * {@link HostInference#DEFAULT_PREFIX} events, resolved with the (already checked) {@code --host} settings;
     * warnings go to {@code err}. A bad or conflicting header is a usage error.
     */
    static HostConfig resolve(String command, List<String> inputs, Map<String, String> given, IngestOptions options,
                              picocli.CommandLine cmd, java.io.PrintWriter err) throws IOException {
        List<String> text = new ArrayList<>();
        for (String in : inputs) {
            if (!ConformanceCommand.isAvro(in)) {
                text.add(in);
            }
        }
        Headers headers;
        try {
            headers = readHeaders(text);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(cmd, e.getMessage());
        }
        HostInference.Result inferred = infer(inputs, options, HostInference.DEFAULT_PREFIX);
        HostConfig host;
        try {
            host = HostConfig.resolve(ModelConfig.DEFAULT, given, headers.settings(), inferred);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(cmd, "--host: " + e.getMessage());
        }
        for (String w : warnings(host, headers)) {
            err.println("mmu-replay " + command + ": " + w);
        }
        if (inputs.contains(TraceInput.STDIN)) {
            err.println("mmu-replay " + command + ": standard input: its events are not used for host inference");
        }
        return host;
    }

    // ------------------------------------------------------------------------------------------------- output

    /** The settings as JSON values: name, value, source, modelled, note, and evidence for inferred ones. */
    public static List<Object> json(HostConfig host) {
        List<Object> out = new ArrayList<>();
        for (ModelConfig.Setting s : host.settings()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.name());
            m.put("value", s.value());
            m.put("source", s.source());
            m.put("modelled", s.modelled());
            m.put("note", s.note());
            HostInference.Evidence ev = host.evidence().get(s.name());
            if (ev != null) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("input", ev.where());
                e.put("seq", ev.seq());
                e.put("reason", ev.reason());
                m.put("evidence", e);
            }
            out.add(m);
        }
        return out;
    }

    /**
     * Text lines: {@code host: k=v (source), ...} for the settings that are not defaults (nothing when all are),
     * then one {@code   inferred k=v from seq N of INPUT: reason} line per inferred setting.
     */
    public static String text(HostConfig host) {
        List<String> parts = new ArrayList<>();
        StringBuilder inferred = new StringBuilder();
        for (ModelConfig.Setting s : host.settings()) {
            if (!s.source().equals(HostConfig.DEFAULT)) {
                parts.add(s.name() + "=" + s.value() + " (" + s.source() + ")");
            }
            HostInference.Evidence ev = host.evidence().get(s.name());
            if (ev != null) {
                inferred.append("  inferred ").append(s.name()).append('=').append(s.value()).append(" from ")
                        .append(ev).append('\n');
            }
        }
        if (parts.isEmpty()) {
            return "";
        }
        return "host: " + String.join(", ", parts) + "; other settings default\n" + inferred;
    }

    /** Warnings for stderr: inferences a given/header value overrode, ambiguous evidence, unread inputs. */
    public static List<String> warnings(HostConfig host, Headers headers) {
        List<String> out = new ArrayList<>();
        host.overridden().forEach((k, v) -> out.add("host " + k + " is " + host.source(k) + " but " + v));
        for (String a : host.ambiguous()) {
            out.add("host setting not inferred, the trace shows both: " + a);
        }
        if (headers != null) {
            for (String s : headers.skipped()) {
                out.add((s.equals(TraceInput.STDIN) ? "standard input" : s)
                        + ": its host header is not read (it cannot be read twice); use --host");
            }
        }
        return out;
    }
}
