package dev.mmureplay.replayer.ingest;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.GenericEvent;
import dev.mmureplay.avro.Place;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.parse.LineReader;
import dev.mmureplay.replayer.parse.ParsedLine;
import dev.mmureplay.replayer.parse.TraceInput;
import dev.mmureplay.replayer.parse.TraceLineParser;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The ingest core: streams every line of every input through the parser; events become {@link TraceEvent}s
 * (vm, vcpu, seq, timestampNs, source, payload) for the {@link EventSink}, bad lines {@link DeadLetter}s
 * (origin:line, raw bytes, reason, stage "parse") for the {@link DeadLetterSink}; returns a reconciled
 * {@link IngestReport}.
 *
 * <ul>
 *   <li>VM identity: see {@link VmAssigner} (one VM per input, or per VMM tgid with kernel-thread lines attached to
 *       the VM they work for).</li>
 *   <li>seq: dense per VM from 0, in input order. vcpu: n of a task "CPU n/KVM", else the payload's vcpu field
 *       (kvm_page_fault, kvm_exit, fast_page_fault), else -1. Timestamps: exact nanoseconds of the printed
 *       decimal (µs or ns), no floating point.</li>
 *   <li>More than {@link IngestOptions#maxErrors()} dead letters: flushes the sinks and throws
 *       {@link TooManyErrorsException} with the partial report.</li>
 *   <li>The sinks are flushed at the end, never closed (their owner closes them).</li>
 *   <li>{@link ProgressListener} is told every {@value #PROGRESS_EVERY_LINES} lines and at the end of each input.</li>
 * </ul>
 * Single-threaded; memory stays flat whatever the input size. An instance accumulates over its inputs: call
 * {@link #run} once, or {@link #ingest} per input then {@link #report()}.
 */
public final class Ingest {

    /** Lines between two progress calls. */
    public static final int PROGRESS_EVERY_LINES = 1 << 16;

    /** DeadLetter.stage of lines rejected here. */
    public static final String STAGE = "parse";

    private final IngestOptions options;
    private final EventSink eventSink;
    private final DeadLetterSink deadLetterSink;
    private final ProgressListener progress;
    private final TraceLineParser parser = new TraceLineParser();
    private final EventView view = new EventView();
    private final VmAssigner vms;

    private long linesRead;
    private long events;
    private long deadLetters;
    private long skipped;
    private long generic;
    private long lostEvents;
    private long bytesRead;
    private long minTs = Long.MAX_VALUE;
    private long maxTs = Long.MIN_VALUE;
    private final Map<String, long[]> byType = new HashMap<>();
    private final Map<String, long[]> byVm = new HashMap<>();
    private final List<String> warnings = new ArrayList<>();
    private String lastType;
    private long[] lastTypeCount;
    // byType's counters by identity: the parser hands out one String instance per event name, so a few identity
    // compares find the counter; a HashMap lookup on every change of type (types alternate line by line) cost more
    private final String[] typeKeys = new String[32];
    private final long[][] typeCounters = new long[32][];
    private int typeKeyCount;
    private VmAssigner.Vm lastVm;
    private TraceInput current;
    private long[] lastVmCount;

    public Ingest(IngestOptions options, EventSink events, DeadLetterSink deadLetters, ProgressListener progress) {
        this.options = options;
        this.eventSink = events;
        this.deadLetterSink = deadLetters;
        this.progress = progress == null ? ProgressListener.NONE : progress;
        this.vms = new VmAssigner(options);
    }

    /**
     * Ingests the inputs in order (paths, "-" for standard input, gzip detected by content). Checks first that
     * every path exists, so a typo fails before anything is written.
     *
     * @throws NoSuchFileException     an input does not exist (nothing was ingested)
     * @throws IllegalArgumentException no inputs, or "-" given twice
     * @throws TooManyErrorsException  more dead letters than options.maxErrors()
     */
    public IngestReport run(List<String> inputs) throws IOException, TooManyErrorsException {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("no inputs");
        }
        if (inputs.stream().filter(TraceInput.STDIN::equals).count() > 1) {
            throw new IllegalArgumentException("standard input ('-') given more than once");
        }
        for (String in : inputs) {
            if (!TraceInput.STDIN.equals(in) && !Files.exists(Path.of(in))) {
                throw new NoSuchFileException(in);
            }
        }
        for (String in : inputs) {
            try (TraceInput input = TraceInput.open(in)) {
                ingest(input);
            }
        }
        flush();
        return report();
    }

    /** Streams one opened input (the caller closes it); counts accumulate into {@link #report()}. */
    public void ingest(TraceInput input) throws IOException, TooManyErrorsException {
        String origin = input.name();
        vms.startInput(origin);
        LineReader reader = new LineReader(input.stream(), options.maxLineBytes());
        current = input;
        while (reader.next()) {
            long n = ++linesRead;
            if (reader.truncated()) {
                deadLetter(origin, reader, "line too long: " + reader.fullLength() + " bytes, over the limit of "
                        + reader.maxLineBytes() + " (--max-line-bytes); raw keeps the first " + reader.maxLineBytes()
                        + " bytes");
            } else {
                ParsedLine line;
                String internalError = null;
                try {
                    line = parser.parse(reader.array(), reader.start(), reader.length());
                } catch (RuntimeException e) {   // a parser bug must not lose the line or stop the run
                    line = null;
                    internalError = "internal parser error: " + e;
                }
                if (line == null) {
                    deadLetter(origin, reader, internalError);
                } else {
                    switch (line.kind()) {
                        case EVENT:
                            event(origin, reader.lineNumber(), line);
                            break;
                        case SKIP:
                            skipped++;
                            lostEvents += line.lostEvents();
                            break;
                        default:
                            deadLetter(origin, reader, line.errorReason());
                            break;
                    }
                }
            }
            if ((n & (PROGRESS_EVERY_LINES - 1)) == 0) {
                progress.progress(origin, input.bytesRead(), input.totalBytes(), n);
            }
        }
        bytesRead += input.bytesRead();
        current = null;
        progress.progress(origin, input.bytesRead(), input.totalBytes(), linesRead);
        if (input.damage() != null) {
            warnings.add(origin + ": " + input.damage());
        }
        if (options.splitBy() == SplitMode.TGID && vms.unknownTgidLines() > 0) {
            warnings.add(origin + ": " + vms.unknownTgidLines() + " event lines have no known tgid (no record-tgid"
                    + " column, or \"(-------)\"); they were attached to a VM by their pid");
        }
    }

    private void event(String origin, long lineNumber, ParsedLine line) throws IOException {
        VmAssigner.Vm vm = vms.vmFor(line);
        long ts = line.timestampNs();
        Object payload = line.payload();
        // the sink gets the fields in one reused view, not a new TraceEvent + Source per line (see EventView)
        EventView v = view;
        v.vm = vm.id;
        v.vcpu = line.vcpu();
        v.seq = vm.nextSeq++;
        v.timestampNs = ts;
        v.task = line.taskName();
        v.pid = line.pid();
        v.hasTgid = line.hasTgid();
        v.tgid = line.tgid();
        v.cpu = line.cpu();
        v.irqFlags = line.irqFlags();
        v.origin = origin;
        v.line = lineNumber;
        v.payload = payload;
        eventSink.accept(v);
        v.payload = null;   // do not keep the last payload alive
        events++;
        if (payload instanceof GenericEvent) {
            generic++;
        }
        if (ts < minTs) {
            minTs = ts;
        }
        if (ts > maxTs) {
            maxTs = ts;
        }
        String type = line.eventName();
        if (type != lastType) {
            lastTypeCount = typeCounter(type);
            lastType = type;
        }
        lastTypeCount[0]++;
        if (vm != lastVm) {
            lastVmCount = byVm.computeIfAbsent(vm.id, k -> new long[1]);
            lastVm = vm;
        }
        lastVmCount[0]++;
    }

    private long[] typeCounter(String type) {
        String[] keys = typeKeys;
        for (int i = 0; i < typeKeyCount; i++) {
            if (keys[i] == type) {
                return typeCounters[i];
            }
        }
        long[] counter = byType.computeIfAbsent(type, k -> new long[1]);
        if (typeKeyCount < keys.length) {
            keys[typeKeyCount] = type;
            typeCounters[typeKeyCount++] = counter;
        }
        return counter;
    }

    private void deadLetter(String origin, LineReader reader, String reason) throws IOException, TooManyErrorsException {
        String why = reader.endedWithNewline() ? reason
                : reason + " (last line without a newline: the input ends mid-line)";
        byte[] raw = Arrays.copyOfRange(reader.array(), reader.start(), reader.start() + reader.length());
        deadLetterSink.accept(new DeadLetter(new Place(origin, reader.lineNumber(), null, null, null),
                ByteBuffer.wrap(raw), why, STAGE));
        deadLetters++;
        long max = options.maxErrors();
        if (max >= 0 && deadLetters > max) {
            flush();
            throw new TooManyErrorsException(max, report());
        }
    }

    private void flush() throws IOException {
        eventSink.flush();
        deadLetterSink.flush();
    }

    /** The counts so far, checked to reconcile. */
    public IngestReport report() {
        TreeMap<String, Long> types = new TreeMap<>();
        byType.forEach((k, v) -> types.merge(k, v[0], Long::sum));
        TreeMap<String, Long> perVm = new TreeMap<>();
        byVm.forEach((k, v) -> perVm.put(k, v[0]));
        return new IngestReport(linesRead, events, deadLetters, skipped, generic, types, perVm,
                events == 0 ? null : minTs, events == 0 ? null : maxTs, lostEvents,
                bytesRead + (current == null ? 0 : current.bytesRead()), warnings)
                .checkReconciled();
    }
}
