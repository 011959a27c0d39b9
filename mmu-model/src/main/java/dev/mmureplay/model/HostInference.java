package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;

import java.util.ArrayList;
import java.util.List;

/**
 * Host settings a trace proves beyond doubt, each with its evidence (the first event that proves it). Feed a prefix
 * of the events ({@link #DEFAULT_PREFIX} by default) with {@link #accept}, then read {@link #result()}; or call
 * {@link #infer}. Pure and deterministic: the result depends only on the events and their order. An instance
 * accumulates (one per run, not shared); the result is an immutable value.
 *
 * <p>Rules (the kernel facts behind them are in the module README, "Host inference"):
 * <ul>
 *   <li>{@code tdp=true}: a {@code kvm_tdp_mmu_spte_changed} (only the TDP MMU traces it), or a
 *       {@code kvm_mmu_get_page} of a direct page at level 4 or 5 (a TDP root; shadow paging's direct pages —
 *       PAE roots of a non-paging guest, pages under a huge guest page — are at most level 3).</li>
 *   <li>{@code tdpEncoding}: MMU-present SPTEs of {@code kvm_tdp_mmu_spte_changed} (old and new).
 *       NPT: a non-leaf with bit 5 (accessed; EPT non-leaf entries keep bits 3–7 clear), or a leaf with bit 10
 *       (MMU-writable on non-EPT; EPT keeps it at bit 58 and never sets bit 10). EPT: a non-leaf with bit 8
 *       (EPT accessed) and bit 5 clear, or a leaf with bit 4 (memory type, WB = 0x30; KVM never sets PCD in an
 *       NPT SPTE). Evidence for both → not inferred (reported as ambiguous).</li>
 *   <li>{@code mmioCaching=true}: {@code mark_mmio_spte} or {@code check_mmio_spte} (both only run when
 *       {@code enable_mmio_caching}: kvm_handle_noslot_fault returns before mark_mmio_spte without it, and
 *       is_mmio_spte is false without it).</li>
 *   <li>{@code nxHugePages=true}: a readable huge leaf (level ≥ 2, bit 7) set by {@code kvm_tdp_mmu_spte_changed}
 *       without exec permission — the TDP MMU maps with ACC_ALL, and only make_spte's NX huge page rule drops exec
 *       above 4K. EPT: X (bit 2) clear with R (bit 0) set (access-tracked SPTEs clear all of RWX); NPT (the encoding
 *       inferred here): NX (bit 63) with P (bit 0). An NPT TDP leaf always has U (bit 2), so bit 2 clear proves
 *       EPT no-exec whatever the encoding; bit 63 alone is not proof (EPT's suppress-VE bit since 6.10).</li>
 * </ul>
 * Not used, because the events cannot prove them: recovery-thread activity (ModelEvents carry no task name, and
 * {@code kvm-nx-lpage-re} also runs VM teardown zaps on the shadow-paging recording host; a table SPTE cleared
 * outside a vCPU is also what zap_collapsible_spte does after dirty logging), and a level-1
 * {@code kvm_mmu_spte_requested} for an exec fault (the host's huge-page backing is not traced: a 4K-backed page
 * gives level 1 anyway). Absent evidence leaves a setting alone; nothing is ever inferred {@code false}, and
 * {@code nxRecoveryRatio}, {@code nxRecoveryPeriodMs}, {@code hostMaxPhyAddr} and {@code kernel} are never inferred.
 */
public final class HostInference {

    /** Events looked at by the CLI commands (the first ones of a run). */
    public static final int DEFAULT_PREFIX = 100_000;

    private static final long MMU_PRESENT = 1L << 11;
    private static final long LARGE = 1L << 7;

    /** Why a value was inferred: the input (file or VM; may be null), the event's seq and a short reason. */
    public record Evidence(String where, long seq, String reason) {
        @Override
        public String toString() {
            return "seq " + seq + (where == null ? "" : " of " + where) + ": " + reason;
        }
    }

    /** One inferred setting: key as in {@link HostSettings#KEYS}, value as {@code --host} takes it. */
    public record Inferred(String setting, String value, Evidence evidence) {
    }

    /**
     * What a prefix proves: {@code inferred} in {@link HostSettings#KEYS} order; {@code ambiguous} the settings
     * with evidence for two values (left alone, with both pieces of evidence); {@code events} looked at.
     */
    public record Result(List<Inferred> inferred, List<String> ambiguous, long events) {
        public Result {
            inferred = List.copyOf(inferred);
            ambiguous = List.copyOf(ambiguous);
        }

        /** Nothing inferred (e.g. inference skipped). */
        public static final Result NONE = new Result(List.of(), List.of(), 0);

        /** The inferred value of {@code setting}, or null. */
        public Inferred get(String setting) {
            for (Inferred i : inferred) {
                if (i.setting().equals(setting)) {
                    return i;
                }
            }
            return null;
        }
    }

    private Evidence tdp;
    private Evidence npt;
    private Evidence ept;
    private Evidence mmio;
    /** A readable huge TDP leaf with bit 2 clear: EPT without exec. */
    private Evidence hugeNoX;
    /** A present huge TDP leaf with bit 63: NPT's NX (or EPT's suppress-VE). */
    private Evidence hugeBit63;
    private long events;

    /** Infers from {@code events} (all of them: limit the prefix yourself). */
    public static Result infer(Iterable<? extends ModelEvent> events) {
        HostInference h = new HostInference();
        for (ModelEvent e : events) {
            h.accept(null, e);
        }
        return h.result();
    }

    /** Looks at one event; {@code where} names its input or VM in the evidence (may be null). */
    public void accept(String where, ModelEvent e) {
        events++;
        if (e instanceof ModelEvent.TdpMmuSpteChanged c) {
            if (tdp == null) {
                tdp = new Evidence(where, c.seq(), "kvm_tdp_mmu_spte_changed (traced only by the TDP MMU)");
            }
            spte(where, c.seq(), c.level(), c.oldSpte(), false);
            spte(where, c.seq(), c.level(), c.newSpte(), true);
        } else if (e instanceof ModelEvent.GetPage g) {
            if (tdp == null && g.sp().direct() && g.sp().level() >= 4) {
                tdp = new Evidence(where, g.seq(), "kvm_mmu_get_page of a direct level-" + g.sp().level()
                        + " page (a TDP root; shadow paging's direct pages are at most level 3)");
            }
        } else if (e instanceof ModelEvent.MarkMmioSpte m) {
            if (mmio == null) {
                mmio = new Evidence(where, m.seq(), "mark_mmio_spte (installed only with MMIO caching on)");
            }
        } else if (e instanceof ModelEvent.CheckMmioSpte m) {
            if (mmio == null) {
                mmio = new Evidence(where, m.seq(), "check_mmio_spte (an MMIO SPTE exists only with MMIO caching on)");
            }
        }
    }

    private void spte(String where, long seq, int level, long spte, boolean isNew) {
        if (spte == ModelEvent.UNKNOWN || (spte & MMU_PRESENT) == 0) {
            return;
        }
        String which = isNew ? "new_spte " : "old_spte ";
        String v = which + Long.toHexString(spte) + " level " + level;
        boolean leaf = level == 1 || (spte & LARGE) != 0;
        if (!leaf) {
            if ((spte & (1L << 5)) != 0) {
                if (npt == null) {
                    npt = new Evidence(where, seq, "non-leaf " + v + " has bit 5 (NPT accessed; EPT non-leaf"
                            + " entries keep bits 3-7 clear)");
                }
            } else if ((spte & (1L << 8)) != 0 && ept == null) {
                ept = new Evidence(where, seq, "non-leaf " + v + " has bit 8 and not bit 5 (EPT accessed)");
            }
            return;
        }
        if ((spte & (1L << 4)) != 0 && ept == null) {
            ept = new Evidence(where, seq, "leaf " + v + " has bit 4 (EPT memory type; KVM never sets PCD in NPT)");
        }
        if ((spte & (1L << 10)) != 0 && npt == null) {
            npt = new Evidence(where, seq, "leaf " + v + " has bit 10 (non-EPT MMU-writable; EPT uses bit 58)");
        }
        if (isNew && level >= 2 && (spte & LARGE) != 0 && (spte & 1) != 0) {
            if ((spte & (1L << 2)) == 0 && hugeNoX == null) {
                hugeNoX = new Evidence(where, seq, "huge leaf " + v + " is readable without X (bit 2): EPT,"
                        + " exec dropped above 4K");
            }
            if (spte < 0 && hugeBit63 == null) {
                hugeBit63 = new Evidence(where, seq, "huge leaf " + v + " has NX (bit 63) on NPT: exec dropped"
                        + " above 4K");
            }
        }
    }

    /** What the events so far prove. */
    public Result result() {
        List<Inferred> out = new ArrayList<>();
        List<String> ambiguous = new ArrayList<>();
        if (tdp != null) {
            out.add(new Inferred("tdp", "true", tdp));
        }
        String encoding = null;
        if (npt != null && ept != null) {
            ambiguous.add("tdpEncoding: NPT (" + npt + ") and EPT (" + ept + ")");
        } else if (npt != null) {
            encoding = "NPT";
            out.add(new Inferred("tdpEncoding", encoding, npt));
        } else if (ept != null) {
            encoding = "EPT";
            out.add(new Inferred("tdpEncoding", encoding, ept));
        }
        if (mmio != null) {
            out.add(new Inferred("mmioCaching", "true", mmio));
        }
        Evidence nx = null;
        if (hugeNoX != null && !"NPT".equals(encoding)) {
            nx = hugeNoX;   // an NPT TDP leaf always has U (bit 2): bit 2 clear is EPT without exec
        } else if (hugeBit63 != null && "NPT".equals(encoding)) {
            nx = hugeBit63;
        }
        if (nx != null) {
            out.add(new Inferred("nxHugePages", "true", nx));
        }
        return new Result(out, ambiguous, events);
    }
}
