package dev.mmureplay.cluster;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;

/**
 * Entry point of every child JVM that {@link ChildJvm} starts: runs the real main class given as the first argument,
 * and halts the JVM as soon as its standard input reaches end-of-file, i.e. when the test JVM that holds the other end
 * of the pipe is gone, even killed with SIGKILL (where no shutdown hook runs). No orphaned Flink or Kafka processes.
 *
 * <p>Kept free of nested classes: {@link ChildJvm} copies this one class file into a directory of its own so that the
 * child's classpath gets nothing else from the test classpath.
 */
public final class ParentWatchdog {

    private ParentWatchdog() {}

    public static void main(String[] args) throws Throwable {
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // ignore anything written; only end-of-file matters
                }
            } catch (IOException e) {
                // a broken pipe means the same as end-of-file
            }
            Runtime.getRuntime().halt(143);
        }, "parent-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        try {
            Class.forName(args[0])
                    .getMethod("main", String[].class)
                    .invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
