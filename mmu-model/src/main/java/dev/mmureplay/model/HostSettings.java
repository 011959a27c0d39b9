package dev.mmureplay.model;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Host settings a user gives as {@code key=value} ({@code --host} on the CLI, a job option), applied to a
 * {@link ModelConfig}. Explicit model input, never guessed. Errors are {@link IllegalArgumentException}s whose
 * message names the setting and the bad value.
 */
public final class HostSettings {

    /** The keys a user can set, in the order {@code --help} lists them. */
    public static final List<String> KEYS = List.of("tdp", "tdpEncoding", "mmioCaching", "nxHugePages",
            "nxRecoveryRatio", "nxRecoveryPeriodMs", "hostMaxPhyAddr", "kernel");

    private HostSettings() {
    }

    /** {@code base} with every setting of {@code settings} applied (in iteration order). */
    public static ModelConfig apply(ModelConfig base, Map<String, String> settings) {
        boolean tdp = base.tdp();
        ModelConfig.TdpEncoding enc = base.tdpEncoding();
        boolean mmio = base.mmioCaching();
        boolean nx = base.nxHugePages();
        int ratio = base.nxRecoveryRatio();
        long period = base.nxRecoveryPeriodMs();
        int maxPhy = base.hostMaxPhyAddr();
        String kernel = base.kernel();
        for (Map.Entry<String, String> e : settings.entrySet()) {
            String v = e.getValue().trim();
            if (!KEYS.contains(e.getKey())) {
                throw new IllegalArgumentException("unknown host setting '" + e.getKey() + "' (known: "
                        + String.join(", ", KEYS) + ")");
            }
            try {
                switch (e.getKey()) {
                    case "tdp" -> tdp = bool(v);
                    case "tdpEncoding" -> enc = ModelConfig.TdpEncoding.valueOf(v.toUpperCase(Locale.ROOT));
                    case "mmioCaching" -> mmio = bool(v);
                    case "nxHugePages" -> nx = bool(v);
                    case "nxRecoveryRatio" -> ratio = nonNegative(Integer.parseInt(v));
                    case "nxRecoveryPeriodMs" -> period = nonNegative(Long.parseLong(v));
                    case "hostMaxPhyAddr" -> maxPhy = Integer.parseInt(v);
                    default -> kernel = v;   // "kernel"
                }
            } catch (IllegalArgumentException ex) {   // NumberFormatException, valueOf, bool()
                throw new IllegalArgumentException("bad value for host setting " + e.getKey() + ": '" + v + "'");
            }
        }
        if (maxPhy < 32 || maxPhy > 52) {
            throw new IllegalArgumentException("host setting hostMaxPhyAddr must be between 32 and 52, got "
                    + maxPhy);
        }
        return base.withHost(tdp, enc, mmio, nx, ratio, period, maxPhy, kernel);
    }

    private static boolean bool(String v) {
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new IllegalArgumentException(v);
    }

    private static <T extends Number> T nonNegative(T n) {
        if (n.longValue() < 0) {
            throw new IllegalArgumentException(String.valueOf(n));
        }
        return n;
    }
}
