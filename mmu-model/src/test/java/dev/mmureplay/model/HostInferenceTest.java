package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HostInference: each rule from a small snippet, and nothing from the shadow-paging recording host's traces. */
class HostInferenceTest {

    private static HostInference.Result infer(String lines) {
        return HostInference.infer(TraceLines.parse(lines));
    }

    private static String value(HostInference.Result r, String key) {
        HostInference.Inferred i = r.get(key);
        return i == null ? null : i.value();
    }

    // the NPT TDP MMU of synth nx-recovery (6.10+ values)
    private static final String NPT_TABLE =
            "kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 8000000000000000 new_spte 127000827\n";
    private static final String EPT_TABLE =
            "kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 8000000000000000 new_spte 127000907\n";

    @Test
    void tdpMmuSpteChangedProvesTdpWithItsSeq() {
        HostInference.Result r = infer("kvm_page_fault: vcpu 0 rip 0x10 address 0x4c4c0010 error_code 0x100000014\n"
                + NPT_TABLE);
        HostInference.Inferred tdp = r.get("tdp");
        assertEquals("true", tdp.value());
        assertEquals(2, tdp.evidence().seq());
        assertTrue(tdp.evidence().reason().contains("kvm_tdp_mmu_spte_changed"), tdp.evidence().reason());
    }

    @Test
    void aDirectLevel4PageProvesTdp() {
        HostInference.Result r = infer(
                "kvm_mmu_get_page: sp gen 0 gfn 0 l4 8-byte q0 direct wux nxe ad root 0 sync new\n");
        assertEquals("true", value(r, "tdp"));
        assertEquals(1, r.get("tdp").evidence().seq());
        assertNull(r.get("tdpEncoding"), "a root says nothing about the SPTE encoding");
    }

    @Test
    void directPaeRootsOfANonPagingGuestDoNotProveTdp() {
        HostInference.Result r = infer(
                "kvm_mmu_get_page: sp gen 0 gfn 0 l2 8-byte q0 direct wux nxe ad root 0 sync new\n"
                + "kvm_mmu_get_page: sp gen 0 gfn 40000 l2 8-byte q0 direct wux nxe ad root 0 sync new\n");
        assertEquals(List.of(), r.inferred());
    }

    @Test
    void anIndirectLevel4RootDoesNotProveTdp() {
        HostInference.Result r = infer("kvm_mmu_get_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync new\n");
        assertNull(r.get("tdp"));
    }

    @Test
    void aNonLeafWithAccessedBit5IsNpt() {
        HostInference.Result r = infer(NPT_TABLE);
        assertEquals("NPT", value(r, "tdpEncoding"));
        assertTrue(r.get("tdpEncoding").evidence().reason().contains("127000827"));
    }

    @Test
    void aNonLeafWithAccessedBit8IsEpt() {
        assertEquals("EPT", value(infer(EPT_TABLE), "tdpEncoding"));
    }

    @Test
    void aLeafWithAMemoryTypeIsEpt() {
        HostInference.Result r = infer("kvm_tdp_mmu_spte_changed: as id 0 gfn 4c4c0 level 1 old_spte"
                + " 8000000000000000 new_spte 860000020c4c0b77\n");
        assertEquals("EPT", value(r, "tdpEncoding"));
    }

    @Test
    void aLeafWithMmuWritableBit10IsNpt() {
        HostInference.Result r = infer("kvm_tdp_mmu_spte_changed: as id 0 gfn 4c4c0 level 1 old_spte"
                + " 8000000000000000 new_spte 20c4c0e67\n");
        assertEquals("NPT", value(r, "tdpEncoding"));
    }

    @Test
    void nonPresentAndFrozenSptesSayNothingAboutTheEncoding() {
        HostInference.Result r = infer("kvm_tdp_mmu_spte_changed: as id 0 gfn 4c4c0 level 1 old_spte"
                + " 8000000000000000 new_spte 80000000000005a0\n");
        assertEquals("true", value(r, "tdp"));
        assertNull(r.get("tdpEncoding"));
    }

    @Test
    void evidenceForBothEncodingsInfersNeitherAndIsReportedAmbiguous() {
        HostInference.Result r = infer(NPT_TABLE + EPT_TABLE);
        assertNull(r.get("tdpEncoding"));
        assertEquals(1, r.ambiguous().size());
        assertTrue(r.ambiguous().get(0).startsWith("tdpEncoding"), r.ambiguous().get(0));
    }

    @Test
    void markMmioSpteProvesMmioCaching() {
        HostInference.Result r = infer("kvm_page_fault: vcpu 0 rip 0x10 address 0xfebf0000 error_code 0x4\n"
                + "mark_mmio_spte: sptep:ffff8881075d1fd8 gfn febf0 access 6 gen 0\n");
        assertEquals("true", value(r, "mmioCaching"));
        assertEquals(2, r.get("mmioCaching").evidence().seq());
        assertNull(r.get("tdp"));
    }

    @Test
    void checkMmioSpteProvesMmioCaching() {
        assertEquals("true", value(infer("check_mmio_spte: spte 180000febf0007 kvm_gen 2 spte-gen 2 valid 1\n"),
                "mmioCaching"));
    }

    @Test
    void aHugeNptLeafWithNxProvesNxHugePages() {
        HostInference.Result r = infer(NPT_TABLE + "kvm_tdp_mmu_spte_changed: as id 0 gfn 5c200 level 2 old_spte"
                + " 8000000000000000 new_spte 800000021c200ee7\n");
        assertEquals("true", value(r, "nxHugePages"));
        assertEquals(2, r.get("nxHugePages").evidence().seq());
    }

    @Test
    void aHugeEptLeafWithoutXProvesNxHugePages() {
        HostInference.Result r = infer("kvm_tdp_mmu_spte_changed: as id 0 gfn 5c200 level 2 old_spte"
                + " 8000000000000000 new_spte 860000021c200bf3\n");
        assertEquals("EPT", value(r, "tdpEncoding"));
        assertEquals("true", value(r, "nxHugePages"));
    }

    @Test
    void anExecutableHugeLeafDoesNotProveNxHugePages() {
        HostInference.Result npt = infer(NPT_TABLE + "kvm_tdp_mmu_spte_changed: as id 0 gfn 5c200 level 2 old_spte"
                + " 8000000000000000 new_spte 21c200ee7\n");
        assertNull(npt.get("nxHugePages"));
        // EPT since 6.10: bit 63 is suppress-VE, X (bit 2) is set
        HostInference.Result ept = infer(EPT_TABLE + "kvm_tdp_mmu_spte_changed: as id 0 gfn 5c200 level 2 old_spte"
                + " 8000000000000000 new_spte 860000021c200bf7\n");
        assertEquals("EPT", value(ept, "tdpEncoding"));
        assertNull(ept.get("nxHugePages"));
    }

    @Test
    void bit63OnAHugeLeafWithoutAKnownEncodingProvesNothing() {
        HostInference.Result r = infer("kvm_tdp_mmu_spte_changed: as id 0 gfn 5c200 level 2 old_spte"
                + " 8000000000000000 new_spte 800000021c200ae7\n");
        assertNull(r.get("tdpEncoding"));
        assertNull(r.get("nxHugePages"));
    }

    @Test
    void anAccessTrackedHugeEptLeafProvesNothingAboutNx() {
        // A/D disabled EPT: access tracking clears R, W and X together
        HostInference.Result r = infer(EPT_TABLE + "kvm_tdp_mmu_spte_changed: as id 0 gfn 5c200 level 2 old_spte"
                + " 860000021c200bf7 new_spte 860000021c200bf0\n");
        assertNull(r.get("nxHugePages"));
    }

    @Test
    void theSameEventsGiveTheSameResult() {
        List<ModelEvent> e = TraceLines.parse(NPT_TABLE + "mark_mmio_spte: sptep:ffff8881075d1fd8 gfn febf0 access 6"
                + " gen 0\n");
        assertEquals(HostInference.infer(e), HostInference.infer(e));
    }

    @ParameterizedTest
    @ValueSource(strings = {"long_user_basic.trace", "long_user_many_pages.trace", "long_user_memslot.trace",
        "long_kernel_emulated.trace", "real_io.trace", "pae32_kernel_fails.trace"})
    void theShadowPagingRecordingHostsTracesInferNothing(String trace) {
        List<ModelEvent> events = TraceLines.resource(trace);
        assertFalse(events.stream().anyMatch(e -> e instanceof ModelEvent.MarkMmioSpte
                || e instanceof ModelEvent.CheckMmioSpte), "mmio_caching=N on the recording host");
        HostInference.Result r = HostInference.infer(events);
        assertEquals(List.of(), r.inferred(), trace);
        assertEquals(List.of(), r.ambiguous(), trace);
        assertEquals(events.size(), r.events());
        ModelConfig c = HostConfig.resolve(ModelConfig.DEFAULT, java.util.Map.of(), java.util.Map.of(), r).config();
        assertFalse(c.tdp(), "tdp stays false");
        assertEquals(ModelConfig.DEFAULT, c);
    }
}
