package dev.mmureplay.replayer.report;

import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.DivergenceKind;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Hand-built summaries and alerts for the report tests. */
final class ReportFixtures {

    static final String HOSTILE = "<script>alert(1)</script>";

    private ReportFixtures() {
    }

    static DivergenceAlert alert(String vm, long seq, DivergenceKind kind, String left, String right, String field,
                                 String leftValue, String rightValue) {
        return DivergenceAlert.newBuilder()
                .setVm(vm).setSeq(seq).setKind(kind).setLeft(left).setRight(right)
                .setLeftEffects(List.of("kvm_mmu_get_page gfn 0x1 role l2 4-byte q0 created=false (" + left + ")"))
                .setRightEffects(List.of("-"))
                .setField(field).setLeftValue(leftValue).setRightValue(rightValue)
                .setLeftDigest(0x1234L).setRightDigest(-1L)
                .setContext(List.of(Math.max(0, seq - 2), Math.max(0, seq - 1)))
                .setDetail("KVM_MMU_GET_PAGE (verdict)")
                .build();
    }

    /**
     * Two VMs (vm1: seqs 0..9, vm2: seqs 0..4), profiles upstream, x, y; two divergences, the one of vm2 with a
     * hostile field and values; dead letters 2, duplicates 1, gaps 3, noise 4, 20 input records, 1234 ms.
     */
    static ReplaySummary small() {
        ReplaySummary.Builder b = ReplaySummary.builder()
                .inputs(List.of("a.trace", "topic<b>"))
                .profiles(List.of("upstream", "x", "y"))
                .mode("embedded")
                .inputRecords(20).deadLetters(2).duplicatesDropped(1).gaps(3).noise(4).wallMillis(1234);
        for (int s = 0; s < 10; s++) {
            b.event("vm1", s, 1_000_000_000L + s * 1000);
        }
        for (int s = 0; s < 5; s++) {
            b.event("vm2", s, 2_000_000_000L + s * 1000);
        }
        b.alert(alert("vm2", 2, DivergenceKind.PROFILE_VS_PROFILE, "upstream", "y", HOSTILE, "a & \"b\"", "'c' > d"));
        b.alert(alert("vm1", 3, DivergenceKind.PROFILE_VS_PROFILE, "upstream", "x", "kvm_mmu_get_page.outcome",
                "EXPLAINED", "LEARNED"));
        b.digest("vm2", "upstream", 5, 0x2L);
        b.digest("vm1", "x", 10, 0xdeadbeefL);
        b.digest("vm1", "upstream", 10, 0x1L);
        return b.build();
    }

    /** {@code n} alerts over 4 VMs, 3 profile pairs and two kinds, with realistic effect texts, shuffled. */
    static List<DivergenceAlert> many(int n, long seed) {
        List<DivergenceAlert> out = new ArrayList<>();
        Random r = new Random(seed);
        String[] rights = {"no-reset-on-pae-toggle", "mmio-gen-bit11", "tdp-zap-sp-may-yield"};
        for (int i = 0; i < n; i++) {
            String vm = "long_user_basic.trace-" + (9000 + i % 4);
            DivergenceKind kind = i % 7 == 0 ? DivergenceKind.MODEL_VS_RECORDING : DivergenceKind.PROFILE_VS_PROFILE;
            DivergenceAlert a = alert(vm, i * 37L + r.nextInt(30), kind, "upstream", rights[i % 3],
                    "kvm_mmu_set_spte.spte.W", "0x80000001234567", "0x80000001234565");
            a.setLeftEffects(List.of("kvm_mmu_set_spte gfn 0x" + Long.toHexString(0x1000 + i)
                    + " spte 0x80000001234567 (present W U X=0 A D level 1 sptep 0xffff888101234560)",
                    "kvm_mmu_get_page sp gen 0 gfn 0x" + Long.toHexString(i) + " l1 8-byte q0 wux nxe ad root 0 sync"
                            + " existing"));
            a.setRightEffects(List.of("kvm_mmu_set_spte gfn 0x" + Long.toHexString(0x1000 + i)
                    + " spte 0x80000001234565 (present W=0 U X=0 A D level 1 sptep 0xffff888101234560)"));
            out.add(a);
        }
        java.util.Collections.shuffle(out, new Random(seed + 1));
        return out;
    }

    /** A summary of 10,000 events and the given alerts (all counted, the first 200 listed). */
    static ReplaySummary withAlerts(List<DivergenceAlert> alerts) {
        ReplaySummary.Builder b = ReplaySummary.builder()
                .inputs(List.of("examples/traces/long_user_basic.trace"))
                .profiles(List.of("upstream", "no-reset-on-pae-toggle", "mmio-gen-bit11", "tdp-zap-sp-may-yield"))
                .mode("local");
        for (int s = 0; s < 10_000; s++) {
            b.event("long_user_basic.trace-" + (9000 + s % 4), s / 4 * 3L, 100_000_000_000L + s * 1_000L);
        }
        for (DivergenceAlert a : alerts) {
            b.alert(a);
        }
        for (int v = 0; v < 4; v++) {
            for (String p : List.of("upstream", "no-reset-on-pae-toggle", "mmio-gen-bit11", "tdp-zap-sp-may-yield")) {
                b.digest("long_user_basic.trace-" + (9000 + v), p, 2500, 0x9e3779b97f4a7c15L * (v + 1) + p.hashCode());
            }
        }
        return b.build();
    }
}
