package dev.mmureplay.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One child JVM of a test: {@code java <jvmArgs> -cp <classpath> <mainClass> <args>}, standard output and error
 * appended to {@code <logDir>/<name>.out}. Every child is killed when the test JVM exits (shutdown hook) and, through
 * {@link ParentWatchdog}, halts by itself if the test JVM dies without running hooks.
 */
public final class ChildJvm {

    private static final Set<ChildJvm> LIVE = ConcurrentHashMap.newKeySet();
    private static volatile Path watchdogDir;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(ChildJvm::kill), "kill-child-jvms"));
    }

    private final String name;
    private final Process process;
    private final Path outFile;

    private ChildJvm(String name, Process process, Path outFile) {
        this.name = name;
        this.process = process;
        this.outFile = outFile;
    }

    /** Starts the child; returns at once. */
    public static ChildJvm start(String name, String classpath, List<String> jvmArgs, String mainClass,
                                 List<String> args, Path logDir) throws IOException {
        Files.createDirectories(logDir);
        Path out = logDir.resolve(name + ".out");
        List<String> command = new ArrayList<>();
        command.add(javaExecutable());
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(watchdogDir() + java.io.File.pathSeparator + classpath);
        command.add(ParentWatchdog.class.getName());
        command.add(mainClass);
        command.addAll(args);
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
                .start();
        ChildJvm child = new ChildJvm(name, process, out);
        LIVE.add(child);
        return child;
    }

    /** Runs a short-lived child to its end and returns its output; throws if it fails or overruns the timeout. */
    public static String run(String name, String classpath, List<String> jvmArgs, String mainClass, List<String> args,
                             Path logDir, Duration timeout) throws IOException, InterruptedException {
        ChildJvm child = start(name, classpath, jvmArgs, mainClass, args, logDir);
        boolean exited = child.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        child.kill();
        String output = Files.readString(child.outFile, StandardCharsets.UTF_8);
        if (!exited || child.process.exitValue() != 0) {
            throw new IllegalStateException(name + " (" + mainClass + " " + String.join(" ", args) + ") "
                    + (exited ? "exited with " + child.process.exitValue() : "did not exit within " + timeout)
                    + ":\n" + output);
        }
        return output;
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL, then waits for the process to be gone. */
    public void kill() {
        process.destroyForcibly();
        waitForExit(Duration.ofSeconds(30));
        LIVE.remove(this);
    }

    /** SIGTERM (an orderly shutdown); SIGKILL if it is still running after {@code grace}. */
    public void stop(Duration grace) {
        // not process.destroy(): it also closes the child's stdin, and ParentWatchdog would halt it at once
        process.toHandle().destroy();
        if (!waitForExit(grace)) {
            process.destroyForcibly();
            waitForExit(Duration.ofSeconds(30));
        }
        LIVE.remove(this);
    }

    private boolean waitForExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The last lines of the child's standard output/error. */
    public String outputTail(int lines) {
        return tail(outFile, lines);
    }

    /** The last {@code lines} lines of a text file (reads at most its last 256 KiB); a note if it does not exist. */
    public static String tail(Path file, int lines) {
        if (!Files.exists(file)) {
            return "(no " + file + ")";
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long length = raf.length();
            int size = (int) Math.min(length, 256 * 1024);
            byte[] bytes = new byte[size];
            raf.seek(length - size);
            raf.readFully(bytes);
            String[] all = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
            int from = Math.max(0, all.length - lines - 1);
            return String.join("\n", List.of(all).subList(from, all.length));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    private static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** A directory holding only ParentWatchdog.class (copied from the test classpath once per test JVM). */
    private static synchronized Path watchdogDir() throws IOException {
        if (watchdogDir == null) {
            Path dir = Files.createTempDirectory("child-jvm-watchdog");
            String resource = ParentWatchdog.class.getName().replace('.', '/') + ".class";
            Path target = dir.resolve(resource);
            Files.createDirectories(target.getParent());
            for (Path p = dir; !p.equals(target); p = p.resolve(target.getName(p.getNameCount()))) {
                p.toFile().deleteOnExit(); // deleted in reverse order: the file first, the top directory last
            }
            target.toFile().deleteOnExit();
            try (InputStream in = ChildJvm.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IOException("not on the classpath: " + resource);
                }
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
            watchdogDir = dir;
        }
        return watchdogDir;
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + (process.isAlive() ? ", alive)" : ", exited)");
    }
}
