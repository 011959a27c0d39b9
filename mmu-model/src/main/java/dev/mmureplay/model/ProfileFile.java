package dev.mmureplay.model;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The user profile file: a tiny line format that composes switches into named profiles. JDK only, no I/O (the
 * caller reads the lines).
 *
 * <pre>
 * # comments and blank lines are ignored
 * name=my-profile                 # starts a profile
 * base=upstream                   # optional: a built-in profile or one defined earlier in the file (default upstream)
 * switch.mmio-gen-bit11=true      # set (true) or clear (false) one switch on top of the base
 * switch.no-reset-on-pae-toggle=true
 * name=another
 * ...
 * </pre>
 *
 * Errors are {@link ProfileFileException}s whose message starts with {@code source:line:}.
 */
public final class ProfileFile {

    private ProfileFile() {
    }

    /** A syntax or reference error in a profile file, with its place. */
    public static final class ProfileFileException extends IllegalArgumentException {
        private final String source;
        private final int line;

        public ProfileFileException(String source, int line, String message) {
            super(source + ":" + line + ": " + message);
            this.source = source;
            this.line = line;
        }

        public String source() {
            return source;
        }

        public int line() {
            return line;
        }
    }

    /**
     * Parses the lines of one profile file.
     *
     * @param source the file name used in error messages
     * @param lines  the file's lines
     * @return the profiles in file order
     */
    public static List<Profile> parse(String source, List<String> lines) {
        Map<String, Profile> defined = new LinkedHashMap<>();
        String name = null;
        String base = null;
        Set<Profile.Switch> switches = null;
        boolean switchSeen = false;
        int n = 0;
        for (String raw : lines) {
            n++;
            String line = stripComment(raw).trim();
            if (line.isEmpty()) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new ProfileFileException(source, n, "expected key=value, got '" + line + "'");
            }
            String key = line.substring(0, eq).trim();
            String value = line.substring(eq + 1).trim();
            if (key.equals("name")) {
                if (name != null) {
                    defined.put(name, new Profile(name, base, switches));
                }
                if (!value.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
                    throw new ProfileFileException(source, n, "bad profile name '" + value
                            + "' (letters, digits, '.', '_', '-')");
                }
                if (defined.containsKey(value) || Profile.builtIn(value) != null) {
                    throw new ProfileFileException(source, n, "profile '" + value + "' is already defined");
                }
                name = value;
                base = Profile.UPSTREAM.name();
                switches = EnumSet.noneOf(Profile.Switch.class);
                switchSeen = false;
                continue;
            }
            if (name == null) {
                throw new ProfileFileException(source, n, "'" + key + "' before the first name=");
            }
            if (key.equals("base")) {
                if (switchSeen) {
                    throw new ProfileFileException(source, n, "base= must come before the switch. lines");
                }
                Profile b = defined.containsKey(value) ? defined.get(value) : Profile.builtIn(value);
                if (b == null) {
                    throw new ProfileFileException(source, n, "unknown base profile '" + value + "'");
                }
                base = b.name();
                switches = b.switches().isEmpty() ? EnumSet.noneOf(Profile.Switch.class)
                        : EnumSet.copyOf(b.switches());
            } else if (key.startsWith("switch.")) {
                Profile.Switch s = Profile.Switch.byId(key.substring("switch.".length()));
                if (s == null) {
                    throw new ProfileFileException(source, n, "unknown switch '" + key.substring(7) + "' (known: "
                            + knownSwitches() + ")");
                }
                switch (value.toLowerCase(java.util.Locale.ROOT)) {
                    case "true" -> switches.add(s);
                    case "false" -> switches.remove(s);
                    default -> throw new ProfileFileException(source, n, "switch value must be true or false, got '"
                            + value + "'");
                }
                switchSeen = true;
            } else {
                throw new ProfileFileException(source, n, "unknown key '" + key + "' (name, base, switch.<id>)");
            }
        }
        if (name != null) {
            defined.put(name, new Profile(name, base, switches));
        }
        if (defined.isEmpty()) {
            throw new ProfileFileException(source, Math.max(n, 1), "no profile defined (expected name=...)");
        }
        return List.copyOf(defined.values());
    }

    private static String stripComment(String line) {
        int h = line.indexOf('#');
        return h < 0 ? line : line.substring(0, h);
    }

    private static String knownSwitches() {
        List<String> ids = new ArrayList<>();
        for (Profile.Switch s : Profile.Switch.values()) {
            ids.add(s.id());
        }
        return String.join(", ", ids);
    }
}
