package dev.mmureplay.model;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The built-in profiles: upstream plus one profile per seed behaviour, each documented and honest about status. */
class ProfileTest {

    @Test
    void builtInProfilesAreUpstreamAndTheFiveSeedProfilesInOrder() {
        List<String> names = new ArrayList<>();
        for (Profile p : Profile.BUILT_IN) {
            names.add(p.name());
        }
        assertEquals(List.of("upstream", "mmio-gen-bit11", "tdp-zap-sp-may-yield", "pae-root-default-pdpte",
                "no-reset-on-pae-toggle", "pre-6.10-fault-path"), names);
        assertSame(Profile.UPSTREAM, Profile.builtIn("upstream"));
        assertTrue(Profile.UPSTREAM.switches().isEmpty(), "upstream = current mainline, no switch");
        assertNull(Profile.builtIn("no-such-profile"));
    }

    @Test
    void eachSeedProfileIsUpstreamPlusItsOneSwitch() {
        for (Profile.Switch s : Profile.Switch.values()) {
            Profile p = Profile.builtIn(s.id());
            assertEquals(Set.of(s), p.switches(), s.id());
            assertEquals("upstream", p.base(), s.id());
            assertSame(s, Profile.Switch.byId(s.id()));
            assertSame(s, Profile.Switch.byId(s.name()), "enum names are accepted too");
        }
    }

    @Test
    void everySwitchNamesItsKernelBehaviourSourceAndStatus() {
        for (Profile.Switch s : Profile.Switch.values()) {
            assertFalse(s.behaviour().isBlank(), s.id());
            assertFalse(s.source().isBlank(), s.id());
            assertFalse(s.status().isBlank(), s.id());
        }
    }

    @Test
    void allFiveSeedSwitchesAreModelled() {
        // mmio-gen-bit11 is modelled since the state machine keeps MMIO SPTEs (mark/check/handle, MmioSpteTest)
        List<Profile.Switch> modelled = new ArrayList<>();
        for (Profile.Switch s : Profile.Switch.values()) {
            if (s.modelled()) {
                modelled.add(s);
            }
        }
        // tdp-zap-sp-may-yield is modelled since the TDP MMU exists (TdpMmuTest)
        // pre-6.10-fault-path is modelled since FaultEntry runs on the TDP fault path (PrivateFaultPathTest)
        assertEquals(List.of(Profile.Switch.MMIO_GEN_BIT11, Profile.Switch.TDP_ZAP_SP_MAY_YIELD,
                Profile.Switch.PAE_ROOT_DEFAULT_PDPTE, Profile.Switch.NO_RESET_ON_PAE_TOGGLE,
                Profile.Switch.PRE_6_10_FAULT_PATH), modelled);
        assertTrue(Profile.builtIn("tdp-zap-sp-may-yield").notModelled().isEmpty());
        assertTrue(Profile.builtIn("mmio-gen-bit11").notModelled().isEmpty());
        assertEquals("modelled", Profile.Switch.MMIO_GEN_BIT11.statusWord());
        assertTrue(Profile.builtIn("pre-6.10-fault-path").notModelled().isEmpty());
        assertEquals("modelled", Profile.Switch.PRE_6_10_FAULT_PATH.statusWord());
        assertTrue(Profile.builtIn("no-reset-on-pae-toggle").notModelled().isEmpty());
    }

    @Test
    void hostConfigurationIsExplicitAndSaysWhatTheModelDoesNotActOn() {
        ModelConfig c = ModelConfig.DEFAULT;
        assertFalse(c.tdp(), "the recording host runs shadow paging");
        assertEquals(ModelConfig.TdpEncoding.NPT, c.tdpEncoding());
        assertEquals(60, c.nxRecoveryRatio());
        boolean ratioListed = false;
        for (ModelConfig.Setting s : c.settings()) {
            assertEquals("default", s.source(), s.name());
            if (s.name().equals("nxRecoveryRatio")) {
                ratioListed = true;
                assertTrue(s.modelled(), "NX recovery is modelled (TDP MMU)");
            }
        }
        assertTrue(ratioListed);
        ModelConfig tdp = new ModelConfig(48, 48, true, true, false, false, true, true, false, false, false, false,
                true, ModelConfig.TdpEncoding.EPT, 60, 0, "6.18");
        assertTrue(tdp.settings().get(0).modelled(), "tdp=true replays the TDP MMU");
        assertTrue(tdp.settings().get(1).modelled(), "EPT masks are modelled");
        for (ModelConfig.Setting s : tdp.settings()) {
            if (s.name().equals("nxRecoveryPeriodMs")) {
                assertFalse(s.modelled(), "the period is not checked: model events have no timestamps");
            }
        }
        assertEquals("given", tdp.settings().get(0).source());
        assertEquals("EPT", tdp.settings().get(1).value());
        assertEquals(c, c.withDetailedSteps(true).withDetailedSteps(false));
    }
}
