package dev.mmureplay.replayer.parse;

import dev.mmureplay.avro.FastPageFault;
import dev.mmureplay.avro.GenericEvent;
import dev.mmureplay.avro.KvmExit;
import dev.mmureplay.avro.KvmPageFault;
import dev.mmureplay.avro.Marker;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Parses one trace line (bytes, ASCII, no newline) into an event, a skip or an error with a precise reason. The
 * layout is detected per line, so a file may even mix them:
 *
 * <p><b>tracefs</b> (kernel/trace/trace_output.c trace_print_context, then the event's TP_printk):
 * <pre>
 *   "%16s-%-7d "  comm, pid          (pid width 5 before ~5.12; comm may contain spaces: "CPU 0/KVM")
 *   "(%7d) "      tgid, only with options/record-tgid; "(-------) " when unknown ("(%5d) "/"(-----) " before ~5.12)
 *   "[%03d] "     cpu
 *   "%c%c%c%c%c " irq-info flags, only with options/irq-info: irqs-off [dDbX.], need-resched [NnpLlBb.],
 *                 hard/softirq [ZzHhs.], preempt depth [0-9a-f.], migrate-disable [0-9a-f.] (absent before 5.13)
 *   " %5lu.%06lu: " timestamp (" %12llu: " for counter clocks), then "%s: " event name, then the payload
 * </pre>
 *
 * <p><b>trace-cmd report</b> (tracecmd/trace-read.c print_event + libtraceevent):
 * <pre>
 *   "%16s-%-5d [%03d]"  comm, pid, cpu
 *   " %5llu.%06llu:"    timestamp in µs (rounded), or " %5llu.%09llu:" with --ts-ns / nsec output
 *   " %s: "             event name, then 20 - strlen(name) spaces of padding, then the payload
 * </pre>
 * Header lines of both ({@code #...}, {@code cpus=N}, {@code version = N}, {@code CPU n is empty}) and blank lines
 * are skipped; so are lost-event notices ({@code CPU:1 [LOST 42 EVENTS]}), whose counts are reported.
 *
 * <p>The two layouts differ in the spaces between {@code ]} and the timestamp: tracefs prints {@code "] "} then
 * {@code " %5lu"}, trace-cmd {@code "]"} then {@code " %5llu"}; flag columns, a tgid column or 9 fraction digits
 * also mean one of them. Only trace-cmd pads the payload (which matters for markers and generic text).
 *
 * <p>Payloads: {@link KvmMmuPayloads}, {@link KvmPayloads}; a tracepoint without a typed record becomes a
 * {@link GenericEvent} (name + raw text); a typed one that does not parse is an error, never generic.
 * Not thread-safe; one parser per thread. The returned {@link ParsedLine} is reused by the next call.
 */
public final class TraceLineParser {

    private static final long[] POW10 = {
        1L, 10L, 100L, 1_000L, 10_000L, 100_000L, 1_000_000L, 10_000_000L, 100_000_000L, 1_000_000_000L,
    };
    private static final byte[] MARK_PREFIX = Cursor.ascii("tracing_mark_write: ");
    private static final byte[] FAILED_TO_PARSE = Cursor.ascii("[FAILED TO PARSE]");
    private static final int TRACE_CMD_NAME_COLUMNS = 20;

    /** Event-name cache entry: the kind and the interned name. */
    private record Name(EventKind kind, String text) {
    }

    private final ParsedLine out = new ParsedLine();
    private final Cursor cursor = new Cursor();
    private final InternTable<TaskInfo> tasks = new InternTable<>(4096);
    private final InternTable<Name> names = new InternTable<>(1024);
    private final InternTable<String> flagColumns = new InternTable<>(512);
    private final InternTable.Factory<TaskInfo> taskFactory = TaskInfo::of;
    private final InternTable.Factory<Name> nameFactory =
            (b, f, t) -> new Name(EventKind.GENERIC, new String(b, f, t - f, StandardCharsets.UTF_8));
    private final InternTable.Factory<String> flagFactory =
            (b, f, t) -> new String(b, f, t - f, StandardCharsets.US_ASCII);

    // scratch of the header scan
    private int taskEnd;
    private boolean tgidColumn;
    private int spacesAfterCpu;

    // event names by their first 16 bytes (see parseLine): the name's bytes and ':', and the name
    private static final int NAME_CACHE_SLOTS = 256;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private final byte[][] nameCacheKeys = new byte[NAME_CACHE_SLOTS][];
    private final Name[] nameCacheValues = new Name[NAME_CACHE_SLOTS];

    // the last two distinct line prefixes (everything before the timestamp) and what they parsed to; see parseLine
    private Prefix recent = new Prefix();
    private Prefix previous = new Prefix();

    public TraceLineParser() {
        for (EventKind k : EventKind.values()) {
            if (k.eventName != null) {
                names.put(Cursor.ascii(k.eventName), new Name(k, k.eventName));
            }
        }
    }

    /** Parses b[off, off+len). Never throws: malformed input yields {@link ParsedLine.Kind#ERROR}. */
    public ParsedLine parse(byte[] b, int off, int len) {
        ParsedLine o = out;
        o.clear();
        try {
            parseLine(b, off, off + len, o);
        } catch (TraceParseException e) {
            o.kind = ParsedLine.Kind.ERROR;
            o.errorReason = e.getMessage();
        }
        return o;
    }

    /** Convenience for tests and tools: parses a String line (UTF-8). */
    public ParsedLine parse(String line) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        return parse(b, 0, b.length);
    }

    private void parseLine(byte[] b, int off, int end, ParsedLine o) throws TraceParseException {
        // ---- everything before the timestamp: "<task>-<pid> [(<tgid>)] [<cpu>] [<irq flags>] "
        int q;
        int spaces;
        Prefix hit = recent.matches(b, off, end) ? recent : previous.matches(b, off, end) ? previous : null;
        if (hit != null) {
            // Why: consecutive lines of a trace mostly come from the same task on the same cpu (and its irq flags
            // mostly toggle between two states), so their bytes up to the timestamp are those of one of the last
            // two prefixes; one vectorized compare replaces the blank/comment/header-line checks, the header scan,
            // the task and flag lookups and the flag validation. Correct because what the code below finds depends
            // only on these bytes and on the timestamp starting right after them (a digit), and a line starting
            // with an event line's prefix (it holds "-<pid> [<cpu>]") is no header line.
            if (hit == previous) {
                previous = recent;
                recent = hit;
            }
            o.task = hit.task;
            o.pid = hit.pid;
            o.hasTgid = hit.hasTgid;
            o.tgid = hit.tgid;
            o.cpu = hit.cpu;
            o.irqFlags = hit.irqFlags;
            tgidColumn = hit.tgidColumn;
            spaces = hit.spaces;
            q = off + hit.length;
        } else {
            int p = off;
            while (p < end && (b[p] == ' ' || b[p] == '\t')) {
                p++;
            }
            if (p == end) {
                skip(o, "blank");
                return;
            }
            byte c0 = b[p];
            if (c0 == '#') {
                skip(o, "comment");
                return;
            }
            if ((c0 == 'c' || c0 == 'v' || c0 == 'C') && headerLine(b, p, end, o)) {
                return;
            }
            q = prefix(b, off, p, end, o);
            spaces = spacesAfterCpu;
            if (q < end && isDigit(b[q]) && q - off <= Prefix.MAX) {
                Prefix keep = previous;   // the least recently used one
                keep.set(b, off, q, o, tgidColumn, spaces);
                previous = recent;
                recent = keep;
            }
        }
        int t0 = q;
        long secs = 0;
        // (digit counts are checked after each loop: the same errors as a check per digit, fewer compares)
        while (q < end && isDigit(b[q])) {
            secs = secs * 10 + (b[q] - '0');
            q++;
        }
        if (q - t0 > 12) {
            throw new TraceParseException("bad timestamp: too many digits at '" + Cursor.render(b, t0, Math.min(end, t0 + 24)) + "'");
        }
        int secDigits = q - t0;
        if (secDigits == 0) {
            throw new TraceParseException("bad timestamp at '" + Cursor.render(b, t0, Math.min(end, t0 + 24)) + "'");
        }
        int fracDigits = 0;
        long ns;
        if (q < end && b[q] == '.') {
            q++;
            int f0 = q;
            long frac = 0;
            while (q < end && isDigit(b[q])) {
                frac = frac * 10 + (b[q] - '0');
                q++;
            }
            if (q - f0 > 9) {
                throw new TraceParseException("bad timestamp: more than 9 fraction digits at '"
                        + Cursor.render(b, t0, Math.min(end, t0 + 24)) + "'");
            }
            fracDigits = q - f0;
            if (fracDigits == 0) {
                throw new TraceParseException("bad timestamp: no digits after '.' at '" + Cursor.render(b, t0, Math.min(end, t0 + 24)) + "'");
            }
            ns = secs * 1_000_000_000L + frac * POW10[9 - fracDigits];
        } else {
            ns = secs;   // " %12llu" of a counter clock: kept as printed
        }
        if (q >= end) {
            throw new TraceParseException("truncated: no ':' after the timestamp");
        }
        if (b[q] != ':') {
            throw new TraceParseException("bad timestamp at '" + Cursor.render(b, t0, Math.min(end, q + 10)) + "'");
        }
        q++;
        o.timestampNs = ns;
        LineFormat format;
        if (o.irqFlags != null || tgidColumn) {
            format = LineFormat.TRACEFS;
        } else if (fracDigits == 9 || fracDigits > 0 && spaces == 1 + Math.max(0, 5 - secDigits)) {
            format = LineFormat.TRACE_CMD;
        } else {
            format = LineFormat.TRACEFS;
        }
        o.format = format;

        // ---- "<event>: "
        if (q >= end) {
            throw new TraceParseException("truncated: no event name after the timestamp");
        }
        if (b[q] != ' ') {
            throw new TraceParseException("expected ' ' after the timestamp at '" + Cursor.render(b, q, Math.min(end, q + 20)) + "'");
        }
        q++;
        int n0 = q;
        Name name = null;
        // Why a cache in front of the lookup below: finding the ':' byte by byte, hashing and comparing the name
        // cost more than one compare with the name (and its ':') that had the same first 16 bytes last time.
        // A hit gives exactly what the scan gives: the cached bytes hold a valid name without ':' and then ':'.
        int slot = -1;
        if (end - n0 >= 16) {
            slot = nameSlot(b, n0);
            byte[] k = nameCacheKeys[slot];
            if (k != null && end - n0 >= k.length && Arrays.equals(b, n0, n0 + k.length, k, 0, k.length)) {
                name = nameCacheValues[slot];
                q = n0 + k.length - 1;
            }
        }
        if (name == null) {
            // Find the ':' first and look the name up; only a name that is not known yet has its bytes checked
            // (every known name was checked once). The errors are those of a byte-by-byte scan: the first bad byte
            // before ':' wins.
            while (q < end && b[q] != ':') {
                q++;
            }
            name = q > n0 && q < end ? names.find(b, n0, q) : null;
            if (name == null) {
                for (int i = n0; i < q; i++) {
                    byte c = b[i];
                    if (c <= ' ' || c >= 0x7f) {
                        throw new TraceParseException("bad event name '"
                                + Cursor.render(b, n0, Math.min(end, Math.max(i + 1, n0 + 1))) + "' (no ': ' after it)");
                    }
                }
                if (q == n0) {
                    throw new TraceParseException("missing event name after the timestamp");
                }
                if (q >= end) {
                    throw new TraceParseException("truncated: no ': ' after event name '"
                            + Cursor.render(b, n0, Math.min(q, n0 + 40)) + "'");
                }
                name = names.get(b, n0, q, nameFactory);
            }
            if (slot >= 0) {
                nameCacheKeys[slot] = Arrays.copyOfRange(b, n0, q + 1);   // the name and its ':'
                nameCacheValues[slot] = name;
            }
        }
        q++;   // ':'
        if (q >= end) {
            throw new TraceParseException("truncated: no payload after event name '" + name.text() + "'");
        }
        if (b[q] != ' ') {
            throw new TraceParseException("expected ': ' after event name '" + name.text() + "'");
        }
        q++;
        if (format == LineFormat.TRACE_CMD) {
            int pad = TRACE_CMD_NAME_COLUMNS - (q - 2 - n0);
            while (pad > 0 && q < end && b[q] == ' ') {
                q++;
                pad--;
            }
        }
        payload(name, b, q, end, o);
        o.kind = ParsedLine.Kind.EVENT;
    }

    /**
     * Parses the line's prefix (p = first non-blank byte): task, pid, optional tgid, cpu, the spaces after the cpu
     * column and optional irq-info flags; returns the index where the timestamp should start (may be end).
     */
    private int prefix(byte[] b, int off, int p, int end, ParsedLine o) throws TraceParseException {
        // anchor on "-<pid> [" / "-<pid> (" since task names may hold spaces
        int q = header(b, p, end, o);
        if (q < 0) {
            if (cutInPrefix(b, p, end)) {
                throw new TraceParseException("truncated: the line ends in its '<task>-<pid> [<cpu>]' prefix");
            }
            throw new TraceParseException("not a trace line: no '<task>-<pid> [<cpu>]' prefix in '"
                    + Cursor.render(b, off, Math.min(end, off + 60)) + (end - off > 60 ? "..." : "") + "'");
        }
        int ts = p;
        if (ts >= taskEnd) {
            throw new TraceParseException("missing task name before '-" + o.pid + "'");
        }
        o.task = tasks.get(b, ts, taskEnd, taskFactory);

        // spaces, optional irq-info flags
        int spaces = 0;
        while (q < end && b[q] == ' ') {
            q++;
            spaces++;
        }
        if (spaces == 0) {
            throw new TraceParseException("expected ' ' after the cpu column at '" + Cursor.render(b, q, Math.min(end, q + 20)) + "'");
        }
        if (q >= end) {
            throw new TraceParseException("truncated: no timestamp after the cpu column");
        }
        if (!isDigit(b[q])) {
            int fs = q;
            while (q < end && b[q] != ' ') {
                q++;
            }
            if (!validFlags(b, fs, q)) {
                throw new TraceParseException("bad irq-info flags '" + Cursor.render(b, fs, Math.min(q, fs + 20))
                        + "' (expected 4 or 5 of [dDbX.][NnpLlBb.][ZzHhs.][0-9a-f.][0-9a-f.])");
            }
            o.irqFlags = flagColumns.get(b, fs, q, flagFactory);
            if (q >= end) {
                throw new TraceParseException("truncated: no timestamp after the irq-info flags");
            }
            while (q < end && b[q] == ' ') {
                q++;
            }
        }
        spacesAfterCpu = spaces;
        return q;
    }

    /** The name-cache slot of the 16 bytes at b[at] (at + 16 &lt;= b.length). */
    private static int nameSlot(byte[] b, int at) {
        long h = ((long) LONGS.get(b, at) * 0x9E3779B97F4A7C15L) ^ (long) LONGS.get(b, at + 8);
        h *= 0x9E3779B97F4A7C15L;
        return (int) (h >>> 56) & (NAME_CACHE_SLOTS - 1);
    }

    private void payload(Name name, byte[] b, int from, int end, ParsedLine o) throws TraceParseException {
        EventKind kind = name.kind();
        o.eventName = name.text();
        if (kind != EventKind.GENERIC && kind != EventKind.TRACING_MARK_WRITE) {
            // no typed payload starts with a space: whatever padding is left (a trace-cmd line whose layout was not
            // recognised, e.g. with a counter clock) is not part of it
            while (from < end && b[from] == ' ') {
                from++;
            }
        }
        Cursor c = cursor.reset(b, from, end, name.text());
        if (kind.typed() && from == end && kind != EventKind.TRACING_MARK_WRITE) {
            throw c.fail("truncated: empty payload");
        }
        if (kind.typed() && c.tryLit(FAILED_TO_PARSE)) {
            // libtraceevent could not evaluate the event's print fmt and dumped raw fields instead
            throw c.fail("trace-cmd printed '[FAILED TO PARSE]' instead of the event text (raw fields are not read)");
        }
        switch (kind) {
            case KVM_MMU_PAGETABLE_WALK: o.payload = KvmMmuPayloads.pagetableWalk(c); break;
            case KVM_MMU_PAGING_ELEMENT: o.payload = KvmMmuPayloads.pagingElement(c); break;
            case KVM_MMU_SET_ACCESSED_BIT: o.payload = KvmMmuPayloads.setAccessedBit(c); break;
            case KVM_MMU_SET_DIRTY_BIT: o.payload = KvmMmuPayloads.setDirtyBit(c); break;
            case KVM_MMU_WALKER_ERROR: o.payload = KvmMmuPayloads.walkerError(c); break;
            case KVM_MMU_GET_PAGE: o.payload = KvmMmuPayloads.getPage(c); break;
            case KVM_MMU_SYNC_PAGE: o.payload = KvmMmuPayloads.syncPage(c); break;
            case KVM_MMU_UNSYNC_PAGE: o.payload = KvmMmuPayloads.unsyncPage(c); break;
            case KVM_MMU_PREPARE_ZAP_PAGE: o.payload = KvmMmuPayloads.prepareZapPage(c); break;
            case MARK_MMIO_SPTE: o.payload = KvmMmuPayloads.markMmioSpte(c); break;
            case HANDLE_MMIO_PAGE_FAULT: o.payload = KvmMmuPayloads.handleMmioPageFault(c); break;
            case FAST_PAGE_FAULT: {
                FastPageFault f = KvmMmuPayloads.fastPageFault(c);
                o.payloadVcpu = f.getVcpu();
                o.payload = f;
                break;
            }
            case KVM_MMU_ZAP_ALL_FAST: o.payload = KvmMmuPayloads.zapAllFast(c); break;
            case CHECK_MMIO_SPTE: o.payload = KvmMmuPayloads.checkMmioSpte(c); break;
            case KVM_MMU_SET_SPTE: o.payload = KvmMmuPayloads.setSpte(c); break;
            case KVM_MMU_SPTE_REQUESTED: o.payload = KvmMmuPayloads.spteRequested(c); break;
            case KVM_TDP_MMU_SPTE_CHANGED: o.payload = KvmMmuPayloads.tdpMmuSpteChanged(c); break;
            case KVM_MMU_SPLIT_HUGE_PAGE: o.payload = KvmMmuPayloads.splitHugePage(c); break;
            case KVM_PAGE_FAULT: {
                KvmPageFault f = KvmPayloads.pageFault(c);
                if (f.getVcpu() != null) {
                    o.payloadVcpu = f.getVcpu();
                }
                o.payload = f;
                break;
            }
            case KVM_CR: o.payload = KvmPayloads.cr(c); break;
            case KVM_EXIT: {
                KvmExit x = KvmPayloads.exit(c);
                if (x.getVcpu() != null) {
                    o.payloadVcpu = x.getVcpu();
                }
                o.payload = x;
                break;
            }
            case KVM_MMIO: o.payload = KvmPayloads.mmio(c); break;
            case KVM_EMULATE_INSN: o.payload = KvmPayloads.emulateInsn(c); break;
            case KVM_UNMAP_HVA_RANGE: o.payload = KvmPayloads.unmapHvaRange(c); break;
            case KVM_INJ_EXCEPTION: o.payload = KvmPayloads.injException(c); break;
            case KVM_PIO: o.payload = KvmPayloads.pio(c); break;
            case KVM_USERSPACE_EXIT: o.payload = KvmPayloads.userspaceExit(c); break;
            case TRACING_MARK_WRITE:
                // print event, tracefs: "%ps: %s" = "tracing_mark_write: <text>" (the text as written)
                o.payload = new Marker(text(c, from, end));
                break;
            case PRINT:
                // print event, trace-cmd report: "print: <pad>tracing_mark_write: <text>"
                if (c.tryLit(MARK_PREFIX)) {
                    o.payload = new Marker(text(c, c.pos, end));
                    o.eventName = EventKind.TRACING_MARK_WRITE.eventName;
                } else {
                    o.payload = new GenericEvent(name.text(), text(c, from, end));
                }
                break;
            case GENERIC:
            default:
                o.payload = new GenericEvent(name.text(), text(c, from, end));
                break;
        }
    }

    /** Free text (markers, generic payloads): any bytes but NUL, decoded as UTF-8. */
    private static String text(Cursor c, int from, int end) throws TraceParseException {
        for (int i = from; i < end; i++) {
            if (c.b[i] == 0) {
                throw c.fail("NUL byte in payload at offset " + (i - from));
            }
        }
        return new String(c.b, from, end - from, StandardCharsets.UTF_8);
    }

    private static void skip(ParsedLine o, String reason) {
        o.kind = ParsedLine.Kind.SKIP;
        o.skipReason = reason;
    }

    // ------------------------------------------------------------------ header scan

    /**
     * Finds the leftmost "-&lt;pid&gt; " followed by an optional "(&lt;tgid&gt;) " and "[&lt;cpu&gt;]"; fills pid, tgid, cpu
     * and taskEnd; returns the index after ']' or -1.
     */
    private int header(byte[] b, int off, int end, ParsedLine o) {
        for (int i = off; i < end - 4; i++) {
            if (b[i] != '-' || !isDigit(b[i + 1])) {
                continue;
            }
            int j = i + 1;
            long pid = 0;
            while (j < end && isDigit(b[j]) && j - i <= 10) {
                pid = pid * 10 + (b[j] - '0');
                j++;
            }
            if (j >= end || b[j] != ' ' || pid > Integer.MAX_VALUE) {
                continue;
            }
            int k = j;
            while (k < end && b[k] == ' ') {
                k++;
            }
            if (k >= end) {
                continue;
            }
            boolean column = false;
            boolean known = false;
            long tgid = 0;
            if (b[k] == '(') {
                int m = k + 1;
                while (m < end && b[m] == ' ') {
                    m++;
                }
                if (m < end && b[m] == '-') {
                    while (m < end && b[m] == '-') {
                        m++;
                    }
                } else {
                    int d0 = m;
                    while (m < end && isDigit(b[m]) && m - d0 < 10) {
                        tgid = tgid * 10 + (b[m] - '0');
                        m++;
                    }
                    if (m == d0 || tgid > Integer.MAX_VALUE) {
                        continue;
                    }
                    known = true;
                }
                if (m >= end || b[m] != ')' || m + 1 >= end || b[m + 1] != ' ') {
                    continue;
                }
                k = m + 1;
                while (k < end && b[k] == ' ') {
                    k++;
                }
                if (k >= end) {
                    continue;
                }
                column = true;
            }
            if (b[k] != '[') {
                continue;
            }
            int m = k + 1;
            int d0 = m;
            long cpu = 0;
            while (m < end && isDigit(b[m]) && m - d0 < 10) {
                cpu = cpu * 10 + (b[m] - '0');
                m++;
            }
            if (m == d0 || m >= end || b[m] != ']' || cpu > Integer.MAX_VALUE) {
                continue;
            }
            taskEnd = i;
            tgidColumn = column;
            o.pid = (int) pid;
            o.hasTgid = known;
            o.tgid = known ? (int) tgid : 0;
            o.cpu = (int) cpu;
            return m + 1;
        }
        return -1;
    }

    /** The line ends after "-&lt;digit&gt;" with nothing but pid/tgid/cpu characters: a line cut in its prefix. */
    private static boolean cutInPrefix(byte[] b, int from, int end) {
        for (int i = from; i < end - 1; i++) {
            if (b[i] == '-' && isDigit(b[i + 1])) {
                int j = i + 1;
                while (j < end && (isDigit(b[j]) || b[j] == ' ' || b[j] == '(' || b[j] == ')' || b[j] == '-'
                        || b[j] == '[')) {
                    j++;
                }
                if (j == end) {
                    return true;
                }
            }
        }
        return false;
    }

    /** 4 (before 5.13) or 5 flag characters of trace_print_lat_fmt. */
    private static boolean validFlags(byte[] b, int from, int to) {
        int n = to - from;
        if (n != 4 && n != 5) {
            return false;
        }
        return in(b[from], ".dDbX") && in(b[from + 1], ".NnpLlBb") && in(b[from + 2], ".ZzHhs")
                && hexOrDot(b[from + 3]) && (n == 4 || hexOrDot(b[from + 4]));
    }

    private static boolean in(byte c, String set) {
        return set.indexOf(c) >= 0;
    }

    private static boolean hexOrDot(byte c) {
        return c == '.' || Cursor.hexDigit(c) >= 0 && !(c >= 'A' && c <= 'F');
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    // ------------------------------------------------------------------ header lines

    private static final byte[] CPUS_EQ = Cursor.ascii("cpus=");
    private static final byte[] VERSION_EQ = Cursor.ascii("version = ");
    private static final byte[] CPU_SP = Cursor.ascii("CPU ");
    private static final byte[] IS_EMPTY = Cursor.ascii(" is empty");
    private static final byte[] CPU_COLON = Cursor.ascii("CPU:");
    private static final byte[] LOST_SP = Cursor.ascii(" [LOST ");
    private static final byte[] EVENTS_CLOSE = Cursor.ascii(" EVENTS]");
    private static final byte[] LOST_EVENTS = Cursor.ascii(" [LOST EVENTS]");
    private static final byte[] SP_OPEN = Cursor.ascii(" [");
    private static final byte[] EVENTS_DROPPED = Cursor.ascii(" EVENTS DROPPED]");
    private static final byte[] EVENTS_DROPPED_ONLY = Cursor.ascii(" [EVENTS DROPPED]");

    /**
     * trace-cmd's "cpus=N" first line, "version = N", "CPU n is empty"; the kernel's lost-events notice
     * "CPU:%d [LOST %lu EVENTS]" (kernel/trace/trace.c print_trace_line) and trace-cmd's
     * "CPU:%d [%llu EVENTS DROPPED]" / "CPU:%d [EVENTS DROPPED]".
     */
    private boolean headerLine(byte[] b, int p, int end, ParsedLine o) {
        int e = end;
        while (e > p && (b[e - 1] == ' ' || b[e - 1] == '\t')) {
            e--;
        }
        Cursor c = cursor.reset(b, p, e, "");
        if (c.tryLit(CPUS_EQ)) {
            if (digits(c) && c.atEnd()) {
                skip(o, "trace-cmd header");
                return true;
            }
            return false;
        }
        if (c.tryLit(VERSION_EQ)) {
            if (digits(c) && c.atEnd()) {
                skip(o, "trace-cmd header");
                return true;
            }
            return false;
        }
        if (c.tryLit(CPU_SP)) {
            if (digits(c) && c.tryLit(IS_EMPTY) && c.atEnd()) {
                skip(o, "trace-cmd header");
                return true;
            }
            return false;
        }
        if (c.tryLit(CPU_COLON) && digits(c)) {
            int save = c.pos;
            if (c.tryLit(LOST_EVENTS) && c.atEnd()) {
                skip(o, "lost events");
                return true;
            }
            c.pos = save;
            if (c.tryLit(EVENTS_DROPPED_ONLY) && c.atEnd()) {
                skip(o, "lost events");
                return true;
            }
            c.pos = save;
            if (c.tryLit(LOST_SP)) {
                long n = number(c);
                if (n >= 0 && c.tryLit(EVENTS_CLOSE) && c.atEnd()) {
                    skip(o, "lost events");
                    o.lostEvents = n;
                    return true;
                }
                return false;
            }
            c.pos = save;
            if (c.tryLit(SP_OPEN)) {
                long n = number(c);
                if (n >= 0 && c.tryLit(EVENTS_DROPPED) && c.atEnd()) {
                    skip(o, "lost events");
                    o.lostEvents = n;
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean digits(Cursor c) {
        int s = c.pos;
        while (c.pos < c.end && isDigit(c.b[c.pos]) && c.pos - s < 18) {
            c.pos++;
        }
        return c.pos > s;
    }

    private static long number(Cursor c) {
        int s = c.pos;
        if (!digits(c)) {
            return -1;
        }
        long v = 0;
        for (int i = s; i < c.pos; i++) {
            v = v * 10 + (c.b[i] - '0');
        }
        return v;
    }

    /** A line prefix (its bytes up to the timestamp) and what it parsed to. */
    private static final class Prefix {
        static final int MAX = 256;

        final byte[] bytes = new byte[MAX];
        int length;   // 0: empty
        TaskInfo task;
        int pid;
        boolean hasTgid;
        int tgid;
        int cpu;
        String irqFlags;
        boolean tgidColumn;
        int spaces;

        /** b[off, end) starts with these bytes and then a digit (the timestamp). */
        boolean matches(byte[] b, int off, int end) {
            int n = length;
            return n > 0 && end - off > n && isDigit(b[off + n]) && Arrays.equals(b, off, off + n, bytes, 0, n);
        }

        void set(byte[] b, int off, int q, ParsedLine o, boolean column, int spacesAfterCpu) {
            System.arraycopy(b, off, bytes, 0, q - off);
            length = q - off;
            task = o.task;
            pid = o.pid;
            hasTgid = o.hasTgid;
            tgid = o.tgid;
            cpu = o.cpu;
            irqFlags = o.irqFlags;
            tgidColumn = column;
            spaces = spacesAfterCpu;
        }
    }
}
