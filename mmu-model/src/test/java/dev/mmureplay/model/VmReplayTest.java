package dev.mmureplay.model;

import dev.mmureplay.model.divergence.Divergence;
import dev.mmureplay.model.divergence.DivergenceDetector;
import dev.mmureplay.model.divergence.VmReplay;
import dev.mmureplay.model.event.ModelEvent;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link VmReplay}: one VM under several profiles — what the replay job keeps per VM. */
class VmReplayTest {

    static final Profile NO_RESET = Profile.builtIn("no-reset-on-pae-toggle");
    static final Profile MMIO = Profile.builtIn("mmio-gen-bit11");

    static List<VmReplay.Finding> all(VmReplay r, List<ModelEvent> events) {
        List<VmReplay.Finding> out = new ArrayList<>();
        for (ModelEvent e : events) {
            out.addAll(r.apply(e));
        }
        return out;
    }

    @Test
    void profileFindingsAreWhatTheTwoProfileDetectorFinds() {
        List<ModelEvent> events = TraceLines.parse(DivergenceTest.PAE_TOGGLE);
        VmReplay r = VmReplay.create(List.of(Profile.UPSTREAM, NO_RESET, MMIO), ModelConfig.DEFAULT, 3, true);
        List<Divergence> found = all(r, events).stream()
                .filter(f -> f.kind() == VmReplay.Kind.PROFILE_VS_PROFILE)
                .map(VmReplay.Finding::divergence).toList();
        assertFalse(found.isEmpty(), "the PAE toggle parts no-reset-on-pae-toggle from upstream");
        List<Divergence> expected = new ArrayList<>();
        expected.addAll(DivergenceDetector.diff(Profile.UPSTREAM, NO_RESET, ModelConfig.DEFAULT, events, 3));
        expected.addAll(DivergenceDetector.diff(Profile.UPSTREAM, MMIO, ModelConfig.DEFAULT, events, 3));
        assertEquals(expected.size(), found.size());
        assertTrue(found.containsAll(expected));
    }

    @Test
    void theReplicaOfADeterministicModelNeverMakesNoise() {
        for (String t : DivergenceTest.REAL_TRACES) {
            VmReplay r = VmReplay.create(List.of(Profile.UPSTREAM, NO_RESET), ModelConfig.DEFAULT, 3, true);
            List<VmReplay.Finding> f = all(r, TraceLines.resource(t));
            assertEquals(0, r.noise(), t);
            assertTrue(f.stream().noneMatch(x -> x.kind() == VmReplay.Kind.REPLAY_VS_REPLAY), t);
        }
    }

    @Test
    void upstreamAgreesWithEveryRealRecording() {
        for (String t : DivergenceTest.REAL_TRACES) {
            VmReplay r = VmReplay.create(List.of(Profile.UPSTREAM), ModelConfig.DEFAULT, 3, false);
            assertEquals(List.of(), all(r, TraceLines.resource(t)), t);
        }
    }

    @Test
    void aRecordedEffectNobodyPredictedIsAModelVsRecordingFinding() {
        // an SPTE installed for a fault the trace never showed: nothing predicted it
        List<ModelEvent> events = TraceLines.parse("""
                kvm_mmu_get_page: sp gen 0 gfn 1 l2 4-byte q0 wux nxe ad root 0 sync new
                kvm_mmu_get_page: sp gen 0 gfn 1 l2 4-byte q0 wux nxe ad root 0 sync existing
                """);
        VmReplay r = VmReplay.create(List.of(Profile.UPSTREAM), ModelConfig.DEFAULT, 3, false);
        List<VmReplay.Finding> f = all(r, events);
        ConformanceReport c = new Conformance("x").acceptAll(events).report();
        long mismatched = c.mismatched() + c.missed();
        assertTrue(mismatched > 0, "conformance counts the unpredicted effect");
        assertEquals(1, f.size(), "one finding for it: " + f);
        for (VmReplay.Finding x : f) {
            assertEquals(VmReplay.Kind.MODEL_VS_RECORDING, x.kind());
            assertEquals(VmReplay.RECORDING, x.right());
        }
    }

    @Test
    void aSnapshotRestoresEverythingMidTrace() throws IOException {
        List<ModelEvent> events = TraceLines.resource("long_user_many_pages.trace");
        List<Profile> profiles = List.of(Profile.UPSTREAM, NO_RESET, MMIO);
        VmReplay whole = VmReplay.create(profiles, ModelConfig.DEFAULT, 3, true);
        List<VmReplay.Finding> expected = all(whole, events);
        int cut = events.size() / 2;
        VmReplay first = VmReplay.create(profiles, ModelConfig.DEFAULT, 3, true);
        List<VmReplay.Finding> got = new ArrayList<>(all(first, events.subList(0, cut)));
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        first.writeSnapshot(new DataOutputStream(b));
        VmReplay resumed = VmReplay.readSnapshot(new DataInputStream(new ByteArrayInputStream(b.toByteArray())));
        assertEquals(first.context(), resumed.context());
        assertEquals(first.profiles(), resumed.profiles());
        got.addAll(all(resumed, events.subList(cut, events.size())));
        assertEquals(expected, got);
        for (int i = 0; i < profiles.size(); i++) {
            assertEquals(whole.model(i).digest(), resumed.model(i).digest());
        }
        assertEquals(whole.events(), resumed.events());
    }

    @Test
    void anUnknownSnapshotVersionIsRefused() {
        byte[] bad = {99};
        IOException e = assertThrows(IOException.class,
                () -> VmReplay.readSnapshot(new DataInputStream(new ByteArrayInputStream(bad))));
        assertTrue(e.getMessage().contains("version 99"), e.getMessage());
    }
}
