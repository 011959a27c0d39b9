package dev.mmureplay.replayer.synth;

import dev.mmureplay.model.HostHeader;

import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The synthetic trace generator: {@code Synth.generate("scale", 1_000_000, 42, out)} writes a raw tracefs
 * {@code trace} file (header + exactly N event lines) that the real parser ingests like a recorded one. The header
 * ends with the host header line of the host the scenario models ({@link #host}), so {@code diff} / {@code
 * conformance} / {@code replay} use that host without {@code --host}.
 *
 * <p>Determinism: the same scenario, event count and seed give the same bytes. All randomness comes from one
 * {@link SplittableRandom} seeded with the seed (timestamps from a second one derived from it); no clock, no
 * hash-ordered iteration, no shared state. Memory is constant in N (bounded guest, one line buffer).
 */
public final class Synth {

    private static final Map<String, Supplier<Scenario>> SCENARIOS = new TreeMap<>();

    static {
        register(ScaleScenario::new);
        register(MmioGenScenario::new);
        register(MmioGenScenario::wrap);
        register(PaeToggleScenario::new);
        register(NonpagingPaeScenario::new);
        register(NxRecoveryScenario::new);
        register(PrivateFaultScenario::new);
    }

    private static void register(Supplier<Scenario> s) {
        SCENARIOS.put(s.get().name(), s);
    }

    /**
     * The host each scenario models, as its header line's settings (keys of {@code --host}). Settings not listed
     * are the recording host's defaults.
     */
    private static final Map<String, String> HOSTS = Map.of(
            "scale", "tdp=false mmioCaching=false nxHugePages=false",          // the recording host
            "mmio-gen", "tdp=false mmioCaching=true",                           // shadow paging, mmio_caching=Y
            "mmio-gen-wrap", "tdp=false mmioCaching=true",                      // the same host
            "pae-toggle", "tdp=false",                                          // shadow paging, kvm_cr traced
            "nonpaging-pae", "tdp=false",                                       // shadow paging
            "nx-recovery", "tdp=true tdpEncoding=NPT nxHugePages=true",         // AMD NPT, TDP MMU, nx_huge_pages=Y
            "private-fault", "tdp=true tdpEncoding=NPT mmioCaching=true");      // AMD NPT, TDP MMU, MMIO SPTEs

    private Synth() {
    }

    /** The settings of the host scenario {@code name} models, in header order. */
    public static Map<String, String> host(String name) {
        scenario(name);
        Map<String, String> m = new LinkedHashMap<>();
        for (String pair : HOSTS.get(name).split(" ")) {
            int eq = pair.indexOf('=');
            m.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return m;
    }

    /** Scenario names, sorted. */
    public static List<String> scenarios() {
        return List.copyOf(SCENARIOS.keySet());
    }

    public static boolean exists(String name) {
        return SCENARIOS.containsKey(name);
    }

    public static String description(String name) {
        return scenario(name).description();
    }

    public static long defaultEvents(String name) {
        return scenario(name).defaultEvents();
    }

    private static Scenario scenario(String name) {
        Supplier<Scenario> s = SCENARIOS.get(name);
        if (s == null) {
            throw new IllegalArgumentException("unknown scenario '" + name + "' (one of " + scenarios() + ")");
        }
        return s.get();
    }

    /**
     * Writes the scenario's trace (header + exactly {@code events} lines) to {@code out} and flushes it; the stream
     * is not closed. {@code events} &lt;= 0 means the scenario's default.
     *
     * @return the number of event lines written
     */
    public static long generate(String name, long events, long seed, OutputStream out) {
        Scenario sc = scenario(name);
        long n = events > 0 ? events : sc.defaultEvents();
        SplittableRandom rnd = new SplittableRandom(seed);
        TraceWriter w = new TraceWriter(out, n, rnd.split().nextLong());
        w.header();
        w.headerLine(HostHeader.format(host(name)));
        sc.generate(new Kvm(w), rnd);
        w.flush();
        if (!w.full()) {
            throw new IllegalStateException("scenario " + name + " stopped after " + w.written() + " of " + n
                    + " events");
        }
        return w.written();
    }
}
