package dev.mmureplay.replayer.synth;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;

/**
 * Writes trace lines in the raw tracefs {@code trace} layout of the nop tracer (kernel/trace/trace_output.c):
 * {@code %16s-%-7d [%03d] %5s %5lu.%06lu: event: payload}, after the 12 {@code #} header lines of a real file and
 * the scenario's host header line ({@code # mmu-replay host: ...}, {@link dev.mmureplay.model.HostHeader}).
 *
 * <p>Exactly {@code limit} event lines are written: lines asked for after the limit are dropped, and the header's
 * {@code entries-in-buffer/entries-written} count is the limit (written first, so output streams). Timestamps
 * advance by 1 to 4 microseconds per line (strictly increasing at the printed precision), drawn from a
 * {@link SplittableRandom} split off the scenario seed — no clock is read. Output is ASCII, buffered; memory is
 * constant (one line buffer).
 */
public final class TraceWriter implements AutoCloseable {

    /** The vCPU thread name QEMU gives vCPU 0. */
    public static final String VCPU0 = "CPU 0/KVM";
    /** The NX huge page recovery / VM teardown kernel thread (comm cut to 15 characters). */
    public static final String NX_THREAD = "kvm-nx-lpage-re";

    public static final String FLAGS_NONE = ".....";
    public static final String FLAGS_PREEMPT1 = "...1.";

    private final OutputStream out;
    private final long limit;
    private final SplittableRandom time;
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private long written;
    private long usec;
    private final StringBuilder line = new StringBuilder(256);
    /** The payload under construction: callers append to it, then call {@link #emit}. */
    public final StringBuilder p = new StringBuilder(200);

    public TraceWriter(OutputStream out, long limit, long seed) {
        this.out = out;
        this.limit = limit;
        this.time = new SplittableRandom(seed ^ 0x5DEECE66DL);
        this.usec = 100_000_000L + time.nextInt(1_000_000);
    }

    /** Writes the 12 header lines of a raw tracefs file (2 CPUs), with the event count this writer will write. */
    public void header() {
        raw("# tracer: nop\n#\n# entries-in-buffer/entries-written: " + limit + "/" + limit + "   #P:2\n#\n"
                + "#                                _-----=> irqs-off/BH-disabled\n"
                + "#                               / _----=> need-resched\n"
                + "#                              | / _---=> hardirq/softirq\n"
                + "#                              || / _--=> preempt-depth\n"
                + "#                              ||| / _-=> migrate-disable\n"
                + "#                              |||| /     delay\n"
                + "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
                + "#              | |         |   |||||     |         |\n");
    }

    /** Writes one more header line after {@link #header()} (e.g. the host header line); no newline in it. */
    public void headerLine(String line) {
        raw(line);
        raw("\n");
    }

    /** Whether the event limit has been reached (scenarios loop until it is). */
    public boolean full() {
        return written >= limit;
    }

    public long written() {
        return written;
    }

    public long limit() {
        return limit;
    }

    /** Lets {@code micros} pass before the next line (e.g. a 60 s NX recovery period). */
    public void advance(long micros) {
        usec += micros;
    }

    /** Starts a payload: clears {@link #p} and returns it. */
    public StringBuilder payload() {
        p.setLength(0);
        return p;
    }

    /** Writes one event line with the payload in {@link #p}. */
    public void emit(String task, int pid, int cpu, String flags, String event) {
        emit(task, pid, cpu, flags, event, p);
    }

    /** Writes one event line (dropped once the limit is reached). */
    public void emit(String task, int pid, int cpu, String flags, String event, CharSequence payload) {
        if (written >= limit) {
            return;
        }
        written++;
        usec += 1 + time.nextInt(4);
        StringBuilder l = line;
        l.setLength(0);
        for (int i = task.length(); i < 16; i++) {
            l.append(' ');
        }
        l.append(task).append('-').append(pid);
        for (int i = digits(pid); i < 7; i++) {
            l.append(' ');
        }
        l.append(" [");
        if (cpu < 100) {
            l.append('0');
        }
        if (cpu < 10) {
            l.append('0');
        }
        l.append(cpu).append("] ").append(flags).append(' ');
        long secs = usec / 1_000_000L;
        long frac = usec % 1_000_000L;
        for (int i = digits(secs); i < 5; i++) {
            l.append(' ');
        }
        l.append(secs).append('.');
        for (int i = digits(frac); i < 6; i++) {
            l.append('0');
        }
        l.append(frac).append(": ").append(event).append(": ").append(payload).append('\n');
        raw(l);
    }

    private static int digits(long v) {
        int d = 1;
        while (v >= 10) {
            v /= 10;
            d++;
        }
        return d;
    }

    private void raw(CharSequence s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            if (pos == buf.length) {
                drain();
            }
            buf[pos++] = (byte) s.charAt(i);
        }
    }

    private void drain() {
        try {
            out.write(buf, 0, pos);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        pos = 0;
    }

    /** Flushes buffered bytes to the stream (does not close it). */
    public void flush() {
        drain();
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        flush();
    }

    // ------------------------------------------------------------------------------------------- text helpers

    /** Appends {@code v} in lower-case hex without 0x ({@code %llx}). */
    public static StringBuilder hex(StringBuilder sb, long v) {
        if (v == 0) {
            return sb.append('0');
        }
        int shift = (63 - Long.numberOfLeadingZeros(v)) & ~3;
        for (; shift >= 0; shift -= 4) {
            sb.append(HEX[(int) ((v >>> shift) & 0xf)]);
        }
        return sb;
    }

    /** Appends {@code v} as {@code %016llx}. */
    public static StringBuilder hex16(StringBuilder sb, long v) {
        for (int shift = 60; shift >= 0; shift -= 4) {
            sb.append(HEX[(int) ((v >>> shift) & 0xf)]);
        }
        return sb;
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();
}
