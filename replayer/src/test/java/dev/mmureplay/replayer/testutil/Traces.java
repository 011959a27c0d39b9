package dev.mmureplay.replayer.testutil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The real traces copied from examples/traces into test resources. */
public final class Traces {

    public static final List<String> NAMES = List.of(
            "long_kernel_emulated.trace", "long_user_basic.trace", "long_user_many_pages.trace",
            "long_user_memslot.trace", "pae32_kernel_fails.trace", "real_io.trace");

    private Traces() {
    }

    public static Path dir() {
        try {
            return Path.of(Traces.class.getResource("/traces/real_io.trace").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Path path(String name) {
        return dir().resolve(name);
    }

    public static List<String> lines(String name) {
        try {
            return Files.readAllLines(path(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every line of every real trace. */
    public static Stream<String> allLines() {
        return NAMES.stream().flatMap(n -> lines(n).stream());
    }

    /** The hand-written fixture files (test resources fixtures/*.txt), sorted. */
    public static List<Path> fixtureFiles() {
        try (Stream<Path> files = Files.list(dir().resolveSibling("fixtures"))) {
            return files.filter(f -> f.toString().endsWith(".txt")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every line of the hand-written fixtures (test resources fixtures/): other events, trace-cmd layouts. */
    public static Stream<String> fixtureLines() {
        try (Stream<Path> files = Files.list(dir().resolveSibling("fixtures"))) {
            List<Path> sorted = files.filter(f -> f.toString().endsWith(".txt")).sorted().toList();
            return sorted.stream().flatMap(p -> {
                try {
                    return Files.readAllLines(p).stream();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first line of any real trace that contains the text. */
    public static String firstLineContaining(String text) {
        return allLines().filter(l -> l.contains(text)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no real line contains " + text));
    }
}
