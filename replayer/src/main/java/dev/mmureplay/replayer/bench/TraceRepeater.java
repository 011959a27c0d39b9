package dev.mmureplay.replayer.bench;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a large raw tracefs trace out of real ones: the data lines of the templates, repeated in order, each
 * repetition shifted in time past the previous one so timestamps keep increasing. Used by the ingest benchmark.
 */
public final class TraceRepeater {

    /** One template line split around its "secs.usecs" timestamp. */
    private record Template(byte[] prefix, long micros, byte[] suffix) {
    }

    private final List<Template> templates;
    private final long spanMicros;

    private TraceRepeater(List<Template> templates) {
        if (templates.isEmpty()) {
            throw new IllegalArgumentException("no data lines in the template traces");
        }
        this.templates = templates;
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (Template t : templates) {
            min = Math.min(min, t.micros);
            max = Math.max(max, t.micros);
        }
        this.spanMicros = max - min + 1_000;
    }

    /** Templates from raw tracefs files: every non-comment line with a {@code secs.usecs:} timestamp. */
    public static TraceRepeater fromTraces(List<Path> traces) throws IOException {
        List<Template> out = new ArrayList<>();
        for (Path p : traces) {
            for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                Template t = split(line);
                if (t != null) {
                    out.add(t);
                }
            }
        }
        return new TraceRepeater(out);
    }

    /** Finds the timestamp: the first " digits.6digits:" after the "] " that ends the cpu column. */
    private static Template split(String line) {
        int cpuEnd = line.indexOf("] ");
        if (cpuEnd < 0) {
            return null;
        }
        int i = cpuEnd + 2;
        while (i < line.length()) {
            int colon = line.indexOf(": ", i);
            if (colon < 0) {
                return null;
            }
            int start = colon;
            while (start > 0 && (Character.isDigit(line.charAt(start - 1)) || line.charAt(start - 1) == '.')) {
                start--;
            }
            String ts = line.substring(start, colon);
            int dot = ts.indexOf('.');
            if (dot > 0 && ts.length() - dot - 1 == 6) {
                long micros = Long.parseLong(ts.substring(0, dot)) * 1_000_000L + Long.parseLong(ts.substring(dot + 1));
                // the prefix keeps one separating space; formatTimestamp pads the seconds to 5 columns itself
                String prefix = line.substring(0, start).stripTrailing() + " ";
                return new Template(prefix.getBytes(StandardCharsets.UTF_8), micros,
                        (line.substring(colon) + "\n").getBytes(StandardCharsets.UTF_8));
            }
            i = colon + 2;
        }
        return null;
    }

    public int templateLines() {
        return templates.size();
    }

    /**
     * Writes repetitions until at least {@code minBytes} are written; returns the number of lines written.
     * The output starts with a tracefs-like header so the file is a valid trace on its own.
     */
    public long write(Path out, long minBytes) throws IOException {
        long lines = 0;
        long bytes = 0;
        byte[] ts = new byte[32];
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20)) {
            byte[] header = "# tracer: nop\n#\n".getBytes(StandardCharsets.US_ASCII);
            os.write(header);
            bytes += header.length;
            lines += 2;
            for (long rep = 0; bytes < minBytes; rep++) {
                long shift = rep * spanMicros;
                for (Template t : templates) {
                    int n = formatTimestamp(t.micros + shift, ts);
                    os.write(t.prefix);
                    os.write(ts, 0, n);
                    os.write(t.suffix);
                    bytes += t.prefix.length + n + t.suffix.length;
                    lines++;
                }
            }
        }
        return lines;
    }

    /** "%5lu.%06lu" as the kernel prints it (seconds right-aligned in at least 5 columns). */
    static int formatTimestamp(long micros, byte[] buf) {
        long secs = micros / 1_000_000L;
        long frac = micros % 1_000_000L;
        int secDigits = secs == 0 ? 1 : (int) Math.floor(Math.log10(secs)) + 1;
        int pad = Math.max(0, 5 - secDigits);
        int n = 0;
        for (int i = 0; i < pad; i++) {
            buf[n++] = ' ';
        }
        for (int i = secDigits - 1; i >= 0; i--) {
            buf[n + i] = (byte) ('0' + secs % 10);
            secs /= 10;
        }
        n += secDigits;
        buf[n++] = '.';
        for (int i = 5; i >= 0; i--) {
            buf[n + i] = (byte) ('0' + frac % 10);
            frac /= 10;
        }
        return n + 6;
    }
}
