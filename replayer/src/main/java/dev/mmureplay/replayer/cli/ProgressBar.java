package dev.mmureplay.replayer.cli;

import dev.mmureplay.replayer.ingest.ProgressListener;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/** A one-line progress bar on stderr, redrawn at most every 200 ms; only drawn when stderr is a terminal. */
public final class ProgressBar implements ProgressListener {

    public enum Mode { AUTO, ALWAYS, NEVER }

    private static final long REDRAW_NANOS = 200_000_000L;
    /** Inputs smaller than this finish too fast for a bar to help. */
    private static final long LARGE_INPUT_BYTES = 32L << 20;

    private final PrintWriter err;
    private final LongSupplier clock;
    private final long started;
    private long lastDraw;
    private boolean drawn;

    private ProgressBar(PrintWriter err, LongSupplier clock) {
        this.err = err;
        this.clock = clock;
        this.started = clock.getAsLong();
        this.lastDraw = started;
    }

    /** The listener to use: a bar when asked for, or when stderr is a terminal; otherwise nothing. */
    public static ProgressListener create(Mode mode, PrintWriter err) {
        boolean on = switch (mode) {
            case ALWAYS -> true;
            case NEVER -> false;
            case AUTO -> stderrIsTerminal();
        };
        return on ? new ProgressBar(err, System::nanoTime) : ProgressListener.NONE;
    }

    /** Linux: fd 2 links to a tty or pts device when stderr is a terminal. */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public void progress(String input, long bytesRead, long totalBytes, long lines) {
        long now = clock.getAsLong();
        if (now - lastDraw < REDRAW_NANOS) {
            return;
        }
        if (!drawn && totalBytes >= 0 && totalBytes < LARGE_INPUT_BYTES) {
            return;
        }
        lastDraw = now;
        drawn = true;
        double secs = Math.max(1e-9, (now - started) / 1e9);
        String rate = String.format(Locale.ROOT, "%.2f M lines/s", lines / secs / 1e6);
        String line;
        if (totalBytes > 0) {
            double frac = Math.min(1.0, (double) bytesRead / totalBytes);
            int width = 30;
            int filled = (int) (frac * width);
            line = String.format(Locale.ROOT, "\r%s [%s%s] %5.1f%% %,d lines %s", shorten(input),
                    "#".repeat(filled), ".".repeat(width - filled), frac * 100, lines, rate);
        } else {
            line = String.format(Locale.ROOT, "\r%s %,d MiB %,d lines %s", shorten(input), bytesRead >> 20, lines, rate);
        }
        err.print(line);
        err.flush();
    }

    /** Clears the bar line, if one was drawn. */
    void finish() {
        if (drawn) {
            err.print("\r\033[K");
            err.flush();
        }
    }

    private static String shorten(String input) {
        String name = Path.of(input).getFileName() == null ? input : Path.of(input).getFileName().toString();
        return name.length() > 24 ? name.substring(0, 21) + "..." : name;
    }

    public static void finish(ProgressListener listener) {
        if (listener instanceof ProgressBar bar) {
            bar.finish();
        }
    }
}
