package dev.mmureplay.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The host header of a trace text: a comment line among the header lines (the {@code #} lines before the first
 * event) that says which host recorded the trace, in the {@link HostSettings} keys and values of {@code --host}:
 *
 * <pre>
 * # mmu-replay host: tdp=true tdpEncoding=NPT nxHugePages=true
 * </pre>
 *
 * Exactly {@value #PREFIX} (case-sensitive, one space after {@code #}), then {@code key=value} pairs separated by
 * spaces or tabs, no spaces around {@code =}. Several such lines add up; a key given twice in one input with
 * different values is an error. Any other comment line is not a host header. The trace parser skips the line as a
 * comment, like every {@code #} line. Pure; errors are {@link IllegalArgumentException}s naming the setting.
 */
public final class HostHeader {

    /** What a host header line starts with. */
    public static final String PREFIX = "# mmu-replay host:";

    private HostHeader() {
    }

    /** Whether {@code line} is a host header line (trailing CR allowed). */
    public static boolean isHostLine(String line) {
        return line.startsWith(PREFIX);
    }

    /**
     * The settings of one host header line, in line order, each key and value checked as {@code --host} checks
     * them.
     *
     * @throws IllegalArgumentException not a host line, a pair without {@code =}, a key twice with different
     *                                  values, an unknown key or a bad value
     */
    public static Map<String, String> parse(String line) {
        if (!isHostLine(line)) {
            throw new IllegalArgumentException("not a host header line (expected '" + PREFIX + " key=value ...')");
        }
        Map<String, String> out = new LinkedHashMap<>();
        String rest = line.substring(PREFIX.length()).strip();
        if (rest.isEmpty()) {
            return out;
        }
        for (String pair : rest.split("[ \t]+")) {
            int eq = pair.indexOf('=');
            if (eq <= 0 || eq == pair.length() - 1) {
                throw new IllegalArgumentException("host header: expected key=value, got '" + pair + "'");
            }
            String key = pair.substring(0, eq);
            String value = pair.substring(eq + 1);
            String before = out.putIfAbsent(key, value);
            if (before != null && !before.equals(value)) {
                throw new IllegalArgumentException("host header: " + key + " given twice (" + before + ", " + value
                        + ")");
            }
        }
        HostSettings.apply(ModelConfig.DEFAULT, out);   // validates keys and values, same messages as --host
        return out;
    }

    /** The header line for {@code settings} (in iteration order), e.g. for a synthetic trace's host. */
    public static String format(Map<String, String> settings) {
        HostSettings.apply(ModelConfig.DEFAULT, settings);
        StringBuilder sb = new StringBuilder(PREFIX);
        settings.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
        return sb.toString();
    }
}
