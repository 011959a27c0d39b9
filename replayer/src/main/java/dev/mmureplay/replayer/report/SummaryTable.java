package dev.mmureplay.replayer.report;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The human summary of a replay, for the terminal:
 *
 * <pre>
 * replay (local): 1 input, profiles upstream (baseline), no-reset-on-pae-toggle
 *
 *   input records                         22
 *   events                                11
 *   VMs                                    1
 *   divergences                            1
 *     PROFILE_VS_PROFILE                   1
 *     upstream vs no-reset-on-pae-toggle   1
 *   dead letters                           0
 *   duplicates dropped                     0
 *   seq gaps                               0
 *   noise                                  0
 *   wall time (ms)                       412
 *
 * digests (final state per VM and profile)
 *   vm                      profile                 events  digest
 *   no_reset_on_pae_toggle  no-reset-on-pae-toggle      11  95dcc395428d232b
 *   no_reset_on_pae_toggle  upstream                    11  fd6afefb850e3233
 * </pre>
 *
 * Numbers are grouped with {@code ,} whatever the locale. With many VMs the digests of the first
 * {@link #DEFAULT_MAX_VMS} (in vm order) are printed and the rest counted.
 */
public final class SummaryTable {

    /** VMs whose digests {@link #print(ReplaySummary, PrintWriter)} lists. */
    public static final int DEFAULT_MAX_VMS = 20;

    private SummaryTable() {
    }

    /** Prints the summary, digests of at most {@link #DEFAULT_MAX_VMS} VMs. Does not flush. */
    public static void print(ReplaySummary s, PrintWriter out) {
        print(s, out, DEFAULT_MAX_VMS);
    }

    /** Prints the summary, digests of at most {@code maxVms} VMs. Does not flush. */
    public static void print(ReplaySummary s, PrintWriter out, int maxVms) {
        StringBuilder head = new StringBuilder("replay (").append(s.mode()).append("): ")
                .append(s.inputs().size()).append(s.inputs().size() == 1 ? " input" : " inputs");
        for (int i = 0; i < s.profiles().size(); i++) {
            head.append(i == 0 ? ", profiles " : ", ").append(s.profiles().get(i));
            if (i == 0) {
                head.append(" (baseline)");
            }
        }
        out.println(head);
        out.println();
        List<String[]> rows = new ArrayList<>();
        rows.add(row("input records", s.inputRecords()));
        rows.add(row("events", s.events()));
        rows.add(row("VMs", s.vms()));
        rows.add(row("divergences", s.divergences()));
        for (Map.Entry<String, Long> e : s.divergencesByKind().entrySet()) {
            rows.add(row("  " + e.getKey(), e.getValue()));
        }
        for (Map.Entry<String, Long> e : s.divergencesByPair().entrySet()) {
            rows.add(row("  " + e.getKey(), e.getValue()));
        }
        rows.add(row("dead letters", s.deadLetters()));
        rows.add(row("duplicates dropped", s.duplicatesDropped()));
        rows.add(row("seq gaps", s.gaps()));
        rows.add(row("noise", s.noise()));
        rows.add(row("wall time (ms)", s.wallMillis()));
        int w0 = 0;
        int w1 = 0;
        for (String[] r : rows) {
            w0 = Math.max(w0, r[0].length());
            w1 = Math.max(w1, r[1].length());
        }
        for (String[] r : rows) {
            out.println("  " + pad(r[0], w0) + "  " + padLeft(r[1], w1));
        }

        if (s.digests().isEmpty()) {
            return;
        }
        out.println();
        out.println("digests (final state per VM and profile)");
        Set<String> vms = new LinkedHashSet<>();
        List<String[]> d = new ArrayList<>();
        d.add(new String[] {"vm", "profile", "events", "digest"});
        for (ReplaySummary.VmDigest x : s.digests()) {
            vms.add(x.vm());
            if (vms.size() > maxVms) {
                continue;
            }
            d.add(new String[] {x.vm(), x.profile(), number(x.events()), Alerts.hex(x.digest())});
        }
        int[] w = new int[4];
        for (String[] r : d) {
            for (int i = 0; i < 4; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : d) {
            out.println("  " + pad(r[0], w[0]) + "  " + pad(r[1], w[1]) + "  " + padLeft(r[2], w[2]) + "  " + r[3]);
        }
        if (vms.size() > maxVms) {
            int more = vms.size() - maxVms;
            out.println("  ... and " + number(more) + (more == 1 ? " more VM" : " more VMs")
                    + " (all digests: summary.json)");
        }
    }

    private static String[] row(String label, long n) {
        return new String[] {label, number(n)};
    }

    static String number(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    private static String pad(String s, int w) {
        return s.length() >= w ? s : s + " ".repeat(w - s.length());
    }

    private static String padLeft(String s, int w) {
        return s.length() >= w ? s : " ".repeat(w - s.length()) + s;
    }
}
