package dev.mmureplay.cluster;

import java.time.Duration;
import java.util.function.Supplier;

/** Bounded polling: every wait of the cluster tier has a timeout and a message that says what it waited for. */
public final class Waiting {

    /** A condition that may throw (e.g. a REST call); an exception counts as "not yet". */
    @FunctionalInterface
    public interface Condition {
        boolean holds() throws Exception;
    }

    private Waiting() {}

    /**
     * Polls {@code condition} every {@code interval} until it holds; after {@code timeout} throws an AssertionError
     * with {@code what}, the last exception seen and {@code diagnostics} (evaluated only then, e.g. log tails).
     */
    public static void until(String what, Duration timeout, Duration interval, Condition condition,
                             Supplier<String> diagnostics) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (true) {
            try {
                if (condition.holds()) {
                    return;
                }
                last = null;
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                AssertionError error = new AssertionError("timed out after " + timeout + " waiting for " + what
                        + (last == null ? "" : " (last error: " + last + ")") + "\n" + diagnostics.get());
                if (last != null) {
                    error.addSuppressed(last);
                }
                throw error;
            }
            try {
                Thread.sleep(interval.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }
}
