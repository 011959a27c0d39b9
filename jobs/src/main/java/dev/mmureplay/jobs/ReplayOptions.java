package dev.mmureplay.jobs;

import dev.mmureplay.model.HostSettings;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.ProfileFile;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the replay job replays and how (shipped with the job graph, so plain serializable values: profile names,
 * the user's profile file text, host settings). Immutable; {@link #validate()} resolves everything once on the
 * client so a bad name fails before the job is submitted.
 *
 * @param profiles         profile names, baseline first (built-in or defined in the profile file)
 * @param profileFileName  name of the user's profile file (for error places), or null
 * @param profileFileLines its lines, or an empty list
 * @param host             host settings ({@link HostSettings#KEYS})
 * @param context          seqs of preceding events carried by each alert
 * @param noiseReplica     replay the baseline twice; differences between the two are noise (never alerted)
 * @param maxPending       reorder-buffer bound per VM (records waiting for an earlier seq before a gap is declared)
 * @param digestEvery      emit every model's state digest each time a VM has applied this many more events
 */
public record ReplayOptions(List<String> profiles, String profileFileName, List<String> profileFileLines,
                            Map<String, String> host, int context, boolean noiseReplica, int maxPending,
                            long digestEvery) implements Serializable {

    public static final int DEFAULT_CONTEXT = 3;
    public static final int DEFAULT_MAX_PENDING = 10_000;
    /**
     * A digest walks a model's whole state (megabytes for a VM that has touched many pages), so its cost grows with
     * the state, not with the events: every 100,000 events it took ~9 % of the replay tasks' CPU in the fleet
     * benchmark (JFR), every 1,000,000 under 1 % (docs/benchmarks.md).
     */
    public static final long DEFAULT_DIGEST_EVERY = 1_000_000;

    public ReplayOptions {
        profiles = List.copyOf(profiles);
        profileFileLines = List.copyOf(profileFileLines);
        host = new LinkedHashMap<>(host);
        if (profiles.isEmpty()) {
            throw new IllegalArgumentException("at least one profile is needed");
        }
        if (context < 0 || maxPending < 1 || digestEvery < 1) {
            throw new IllegalArgumentException("context >= 0, maxPending >= 1 and digestEvery >= 1 are required");
        }
    }

    /** Built-in or file profiles with the defaults for everything else. */
    public static ReplayOptions of(String... profiles) {
        return new ReplayOptions(List.of(profiles), null, List.of(), Map.of(), DEFAULT_CONTEXT, true,
                DEFAULT_MAX_PENDING, DEFAULT_DIGEST_EVERY);
    }

    public ReplayOptions withMaxPending(int n) {
        return new ReplayOptions(profiles, profileFileName, profileFileLines, host, context, noiseReplica, n,
                digestEvery);
    }

    public ReplayOptions withDigestEvery(long n) {
        return new ReplayOptions(profiles, profileFileName, profileFileLines, host, context, noiseReplica,
                maxPending, n);
    }

    public ReplayOptions withHost(Map<String, String> settings) {
        return new ReplayOptions(profiles, profileFileName, profileFileLines, settings, context, noiseReplica,
                maxPending, digestEvery);
    }

    public ReplayOptions withNoiseReplica(boolean on) {
        return new ReplayOptions(profiles, profileFileName, profileFileLines, host, context, on, maxPending,
                digestEvery);
    }

    public ReplayOptions withProfileFile(String name, List<String> lines) {
        return new ReplayOptions(profiles, name, lines, host, context, noiseReplica, maxPending, digestEvery);
    }

    /** The profiles, baseline first; an unknown name is an {@link IllegalArgumentException} naming the known ones. */
    public List<Profile> resolveProfiles() {
        List<Profile> defined = profileFileName == null ? List.of()
                : ProfileFile.parse(profileFileName, profileFileLines);
        List<Profile> out = new ArrayList<>();
        for (String name : profiles) {
            Profile p = Profile.builtIn(name.trim());
            for (Profile d : defined) {
                if (d.name().equals(name.trim())) {
                    p = d;
                }
            }
            if (p == null) {
                List<String> known = new ArrayList<>();
                Profile.BUILT_IN.forEach(b -> known.add(b.name()));
                defined.forEach(d -> known.add(d.name()));
                throw new IllegalArgumentException("unknown profile '" + name + "' (known: "
                        + String.join(", ", known) + ")");
            }
            if (out.contains(p)) {
                throw new IllegalArgumentException("profile '" + name + "' given twice");
            }
            out.add(p);
        }
        return out;
    }

    /** The model configuration: the recording host's defaults with {@link #host} applied. */
    public ModelConfig modelConfig() {
        return HostSettings.apply(ModelConfig.DEFAULT, host);
    }

    /** Resolves profiles and host settings; the first problem as an {@link IllegalArgumentException}. */
    public ReplayOptions validate() {
        resolveProfiles();
        modelConfig();
        return this;
    }
}
