package dev.mmureplay.model;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Resolution of a host configuration: --host &gt; header &gt; inferred &gt; default, each with its source. */
class HostConfigTest {

    private static final HostInference.Result NX_RECOVERY = HostInference.infer(TraceLines.parse(
            "kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 8000000000000000 new_spte 127000827\n"
            + "kvm_tdp_mmu_spte_changed: as id 0 gfn 5c200 level 2 old_spte 8000000000000000 new_spte"
            + " 800000021c200ee7\n"));

    private static Map<String, String> sources(HostConfig h) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        h.settings().forEach(s -> m.put(s.name(), s.source()));
        return m;
    }

    @Test
    void givenBeatsHeaderBeatsInferredBeatsDefault() {
        HostConfig h = HostConfig.resolve(ModelConfig.DEFAULT, Map.of("nxHugePages", "false"),
                Map.of("nxHugePages", "true", "tdpEncoding", "NPT", "mmioCaching", "true"), NX_RECOVERY);
        Map<String, String> s = sources(h);
        assertEquals("given", s.get("nxHugePages"));
        assertEquals("header", s.get("tdpEncoding"));
        assertEquals("header", s.get("mmioCaching"));
        assertEquals("inferred", s.get("tdp"));
        assertEquals("default", s.get("nxRecoveryRatio"));
        assertFalse(h.config().nxHugePages());
        assertTrue(h.config().tdp());
        assertTrue(h.config().mmioCaching());
    }

    @Test
    void inferredSettingsCarryTheirEvidence() {
        HostConfig h = HostConfig.resolve(ModelConfig.DEFAULT, Map.of(), Map.of(), NX_RECOVERY);
        assertEquals(Map.of("tdp", "inferred", "tdpEncoding", "inferred", "nxHugePages", "inferred"),
                Map.of("tdp", h.source("tdp"), "tdpEncoding", h.source("tdpEncoding"), "nxHugePages",
                        h.source("nxHugePages")));
        assertEquals(1, h.evidence().get("tdp").seq());
        assertEquals(2, h.evidence().get("nxHugePages").seq());
        assertNull(h.evidence().get("mmioCaching"));
        assertEquals("default", h.source("mmioCaching"));
    }

    @Test
    void anInferenceAGivenValueContradictsIsReportedAsOverridden() {
        HostConfig h = HostConfig.resolve(ModelConfig.DEFAULT, Map.of("tdp", "false"), Map.of(), NX_RECOVERY);
        assertFalse(h.config().tdp());
        assertTrue(h.overridden().get("tdp").contains("tdp=true"), h.overridden().toString());
        assertFalse(h.overridden().containsKey("tdpEncoding"));
    }

    @Test
    void aGivenDefaultValueIsStillGiven() {
        HostConfig h = HostConfig.given(ModelConfig.DEFAULT, Map.of("tdp", "false"));
        assertEquals("given", h.source("tdp"));
        assertEquals(ModelConfig.DEFAULT, h.config());
    }

    @Test
    void explicitSettingsRebuildTheSameConfig() {
        HostConfig h = HostConfig.resolve(ModelConfig.DEFAULT, Map.of("kernel", "6.9"), Map.of("mmioCaching", "true"),
                NX_RECOVERY);
        assertEquals(List.of("tdp", "tdpEncoding", "mmioCaching", "nxHugePages", "kernel"),
                List.copyOf(h.explicitSettings().keySet()));
        assertEquals(h.config(), HostSettings.apply(ModelConfig.DEFAULT, h.explicitSettings()));
    }

    @Test
    void nothingGivenNothingInferredIsTheDefault() {
        HostConfig h = HostConfig.resolve(ModelConfig.DEFAULT, Map.of(), Map.of(), HostInference.Result.NONE);
        assertEquals(ModelConfig.DEFAULT, h.config());
        h.settings().forEach(s -> assertEquals("default", s.source(), s.name()));
        assertEquals(Map.of(), h.explicitSettings());
    }
}
