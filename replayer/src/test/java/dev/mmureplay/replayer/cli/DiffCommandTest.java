package dev.mmureplay.replayer.cli;

import dev.mmureplay.replayer.testutil.CliRun;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmureplay.replayer.testutil.Traces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code mmu-replay diff} end to end: real parser, ingest, adapter, two models per VM, divergence library. */
class DiffCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;


    private CliRun run(String... args) {
        List<String> all = new ArrayList<>(List.of("diff", "--dead-letters", tmp.resolve("dead.jsonl").toString()));
        all.addAll(List.of(args));
        return CliRun.of(all);
    }

    static String scenario(String name) {
        try {
            return Path.of(DiffCommandTest.class.getResource("/scenarios/" + name).toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> allTraces() {
        List<String> a = new ArrayList<>();
        for (String n : Traces.NAMES) {
            a.add(Traces.path(n).toString());
        }
        return a;
    }

    @Test
    void upstreamAgainstItselfNeverDivergesOnAnyRealTrace() throws IOException {
        List<String> args = allTraces();
        args.addAll(List.of("--profiles", "upstream,upstream", "--json", "--fail-on-divergence"));
        CliRun r = run(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        JsonNode j = r.json();
        assertEquals(0, j.get("divergenceCount").asLong());
        assertEquals(0, j.get("divergences").size());
        assertEquals(Traces.NAMES.size(), j.get("traces").size());
        for (JsonNode t : j.get("traces")) {
            t.get("digests").forEach(d -> assertEquals(d.get("left").asText(), d.get("right").asText(),
                    "same profile, same digest"));
        }
        assertTrue(j.get("events").asLong() > 4000);
    }

    @Test
    void everyBuiltInProfileReplaysEveryRealTraceWithoutACrash() {
        for (String p : List.of("mmio-gen-bit11", "tdp-zap-sp-may-yield", "pae-root-default-pdpte",
                "no-reset-on-pae-toggle", "pre-6.10-fault-path")) {
            List<String> args = allTraces();
            args.addAll(List.of("--profiles", "upstream," + p));
            CliRun r = run(args.toArray(String[]::new));
            assertEquals(0, r.exit(), p + ": " + r.err());
            if (p.equals("pae-root-default-pdpte")) {
                // real_io's guest runs with paging off: upstream's four special PAE roots are one level-3 pae_root
                // page under the RFC, so that trace (only that one) parts from upstream at its first root load
                assertFalse(r.out().startsWith("diff upstream (left) vs " + p + " (right): 0 divergence(s)"), r.out());
                assertTrue(r.out().matches("(?s).*real_io\\.trace: \\d+ events, [1-9]\\d* divergence.*"), r.out());
                assertTrue(r.out().contains("role       left l2 8-byte q0 direct"), r.out());
                continue;
            }
            assertTrue(r.out().startsWith("diff upstream (left) vs " + p + " (right): 0 divergence(s)"), r.out());
        }
    }

    @Test
    void nonpagingPaeScenarioDivergesUnderPaeRootDefaultPdpteAtTheFirstRootLoad() throws IOException {
        // synth nonpaging-pae starts with CR0 = PE|ET (paging off) then the first root load. Upstream
        // mmu_alloc_direct_roots fills the special mmu->pae_root with four level-2 direct roots (gfn 0/40000/80000/
        // c0000); the 2021/22 RFC allocates one ordinary level-3 direct page with role.pae_root instead, so the
        // first predicted kvm_mmu_get_page already differs in its level.
        Path t = tmp.resolve("np.trace");
        assertEquals(0, MmuReplayCli.run(new String[] {"synth", "nonpaging-pae", "-o", t.toString()},
                new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())));
        CliRun r = run(t.toString(), "--profiles", "upstream,pae-root-default-pdpte", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode d = r.json().get("divergences").get(0);
        assertEquals(2, d.get("seq").asLong(), "ingest seq: marker 0, kvm_cr 1, first get_page 2");
        assertEquals("kvm_mmu_get_page", d.get("kind").asText());
        assertEquals("role", d.get("field").asText());
        assertEquals("l2 8-byte q0 direct wux nxe ad !wp", d.get("left").asText());
        assertEquals("l3 8-byte q0 direct wux nxe ad !wp", d.get("right").asText());
        assertEquals(0, r.json().get("right").get("notModelled").size());
    }

    @Test
    void cr4PaeToggleScenarioDivergesFromUpstreamWhereTheKernelReloadsTheRoots() throws IOException {
        // Upstream: clearing CR4.PAE with paging on resets the MMU context (cr4_pae is part of the role since the
        // 2019 fix), so the reload of the 2-level guest's four 4-byte quadrant roots is predicted → EXPLAINED.
        // no-reset-on-pae-toggle (the 2019 regression): no reset, nothing predicts the reload → the model can only
        // adopt the root it sees → LEARNED. The first kvm_mmu_get_page after the second kvm_cr is that reload.
        CliRun r = run(scenario("no_reset_on_pae_toggle.trace"), "--profiles", "upstream,no-reset-on-pae-toggle",
                "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode j = r.json();
        assertEquals(1, j.get("divergenceCount").asLong(), r.out());
        JsonNode d = j.get("divergences").get(0);
        assertEquals(SEQ_OF_RELOAD, d.get("seq").asLong());
        assertEquals("kvm_mmu_get_page", d.get("kind").asText());
        assertEquals("outcome", d.get("field").asText());
        assertEquals("EXPLAINED", d.get("left").asText());
        assertEquals("LEARNED", d.get("right").asText());
        assertEquals(3, d.get("context").size());
        assertEquals(SEQ_OF_RELOAD - 1, d.get("context").get(2).asLong(), "the kvm_cr that cleared CR4.PAE");
        assertTrue(d.get("leftEffect").asText().contains("role=l2 4-byte q0"), d.toString());
        assertEquals("no-reset-on-pae-toggle", j.get("right").get("name").asText());
        assertEquals(0, j.get("right").get("notModelled").size());
    }

    /** seq of the 8th event of the scenario: the first get_page after CR4.PAE is cleared (ingest counts from 0). */
    static final long SEQ_OF_RELOAD = 7;

    @Test
    void textOutputListsSeqKindFieldBothValuesAndContext() {
        CliRun r = run(scenario("no_reset_on_pae_toggle.trace"), "--profiles", "upstream,no-reset-on-pae-toggle",
                "--fail-on-divergence");
        assertEquals(MmuReplayCli.EXIT_CHECK_FAILED, r.exit(), r.err());
        assertTrue(r.out().contains("1 divergence(s)"), r.out());
        assertTrue(r.out().matches("(?s).*seq " + SEQ_OF_RELOAD + " +kvm_mmu_get_page +outcome +left EXPLAINED +right"
                + " LEARNED +after \\d+,\\d+,\\d+.*"), r.out());
    }

    /**
     * synth nx-recovery (default 5,000 events, seed 1) on an NPT host with the TDP MMU and nx_huge_pages=Y: the
     * first recovery run (seq 798, kvm-nx-lpage-re clearing the parent SPTE of the oldest possible NX huge page,
     * gfn 4c400) zaps two pages. Before 33a3164161fc the second zap (gfn 57000) went through
     * kvm_tdp_mmu_zap_gfn_range with yielding allowed while the flush owed for the first one (gfn 4c400, level 2)
     * was pending in the caller: tdp-zap-sp-may-yield predicts that stale-TLB window, upstream does not. The
     * traced SPTE changes are the same on both sides (the forward-progress rule keeps the write-locked zap from
     * actually yielding: progress=false).
     */
    @Test
    void tdpZapSpMayYieldDivergesFromUpstreamOnTheNxRecoveryScenario() throws IOException {
        Path t = tmp.resolve("nx.trace");
        try (java.io.OutputStream o = Files.newOutputStream(t)) {
            dev.mmureplay.replayer.synth.Synth.generate("nx-recovery", 0, 1, o);
        }
        CliRun r = run(t.toString(), "--profiles", "upstream,tdp-zap-sp-may-yield", "--json", "--host", "tdp=true",
                "--host", "nxHugePages=true");
        assertEquals(0, r.exit(), r.err());
        JsonNode d = r.json().get("divergences").get(0);
        assertEquals(798, d.get("seq").asLong());
        assertEquals("stale_tlb_window", d.get("kind").asText());
        assertEquals("effect", d.get("field").asText());
        assertEquals("-", d.get("left").asText());
        assertEquals("stale_tlb_window gfn=57000 level=1 staleGfn=4c400 staleLevel=2 progress=false",
                d.get("rightEffect").asText());
        assertEquals(0, r.json().get("right").get("notModelled").size());
        CliRun same = run(t.toString(), "--profiles", "upstream,upstream", "--json", "--host", "tdp=true",
                "--host", "nxHugePages=true");
        assertEquals(0, same.json().get("divergenceCount").asLong());
    }

    /** The first divergence at {@code seq} (ingest counts every line from 0, markers included). */
    private static JsonNode at(JsonNode divergences, long seq) {
        for (JsonNode d : divergences) {
            if (d.get("seq").asLong() == seq) {
                return d;
            }
        }
        throw new AssertionError("no divergence at seq " + seq);
    }

    /**
     * synth private-fault (default 2,000 events, seed 1; SEV-SNP guest, NPT host with the TDP MMU and MMIO
     * caching): upstream vs pre-6.10-fault-path parts at the first fault of each case, where the 6.10 series
     * changed what the kernel does. Upstream's replay of the same trace conforms (its predicted exits are the
     * recorded ones); each seq below is the case's first kvm_page_fault.
     */
    @Test
    void pre610FaultPathDivergesFromUpstreamOncePerCaseOnThePrivateFaultScenario() throws IOException {
        Path t = tmp.resolve("pf.trace");
        try (java.io.OutputStream o = Files.newOutputStream(t)) {
            dev.mmureplay.replayer.synth.Synth.generate("private-fault", 0, 1, o);
        }
        CliRun r = run(t.toString(), "--profiles", "upstream,pre-6.10-fault-path", "--json", "--host", "tdp=true",
                "--host", "mmioCaching=true");
        assertEquals(0, r.exit(), r.err());
        assertEquals(0, r.json().get("right").get("notModelled").size());
        assertFalse(r.err().contains("not yet modelled"), r.err());
        JsonNode all = r.json().get("divergences");
        // private access to a shared gfn: 6.10+ KVM_EXIT_MEMORY_FAULT; before, is_private = the attribute → maps
        JsonNode mismatch = at(all, 20);
        assertEquals("kind", mismatch.get("field").asText());
        assertEquals("kvm_userspace_exit", mismatch.get("left").asText());
        assertEquals("kvm_mmu_spte_requested", mismatch.get("right").asText());
        assertEquals("kvm_userspace_exit reason=error code=14", mismatch.get("leftEffect").asText());
        assertEquals("kvm_mmu_spte_requested gfn=80003 level=1", mismatch.get("rightEffect").asText());
        // ... and the recorded exit: a checked prediction upstream, a stimulus before 6.10
        JsonNode exit = at(all, 21);
        assertEquals("outcome", exit.get("field").asText());
        assertEquals("EXPLAINED", exit.get("left").asText());
        assertEquals("STIMULUS", exit.get("right").asText());
        // shared access to a private gfn
        assertEquals("kvm_mmu_spte_requested gfn=101000 level=1", at(all, 33).get("rightEffect").asText());
        // private RSVD fault on the MMIO SPTE: 6.10+ WARN, -EFAULT; before, the MMIO SPTE / cache is consulted
        JsonNode rsvd = at(all, 55);
        assertEquals("kvm_userspace_exit", rsvd.get("left").asText());
        assertEquals("check_mmio_spte", rsvd.get("right").asText());
        assertEquals("check_mmio_spte spte=80000f0000037 spteGen=6", rsvd.get("rightEffect").asText());
        // private access to a GPA without memslot: 6.10+ exit; before, emulated MMIO (an MMIO SPTE, 4K)
        JsonNode noSlot = at(all, 58);
        assertEquals("kvm_userspace_exit", noSlot.get("left").asText());
        assertEquals("kvm_mmu_spte_requested gfn=f0080 level=1", noSlot.get("rightEffect").asText());
        // #NPF whose exit_info_1 has bit 49: 6.10+ clears it before the fault path; before, it reaches it
        JsonNode sanity = at(all, 61);
        assertEquals("page_fault_outcome", sanity.get("kind").asText());
        assertEquals("errorCode", sanity.get("field").asText());
        assertEquals("100000006", sanity.get("left").asText());
        assertEquals("2000100000006", sanity.get("right").asText());
        // private write to the APIC access page (APICv inhibited): 6.10+ a private fault that hits emulation exits
        JsonNode apic = at(all, 280);
        assertEquals("kind", apic.get("field").asText());
        assertEquals("kvm_userspace_exit", apic.get("left").asText());
        assertEquals("page_fault_outcome", apic.get("right").asText());
        assertEquals("page_fault_outcome gfn=fee00 errorCode=500000006 private=true outcome=RET_PF_EMULATE",
                apic.get("rightEffect").asText());
        // the first divergence of the run is the first case
        assertEquals(20, all.get(0).get("seq").asLong());
        CliRun same = run(t.toString(), "--profiles", "upstream,upstream", "--json", "--host", "tdp=true",
                "--host", "mmioCaching=true");
        assertEquals(0, same.json().get("divergenceCount").asLong());
    }

    @Test
    void userProfileFileProfilesCanBeCompared() throws IOException {
        Path f = tmp.resolve("my.profiles");
        Files.writeString(f, "name=stale-pae\nswitch.no-reset-on-pae-toggle=true\n");
        CliRun r = run(scenario("no_reset_on_pae_toggle.trace"), "--profiles", "stale-pae,upstream",
                "--profile-file", f.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode d = r.json().get("divergences").get(0);
        assertEquals("LEARNED", d.get("left").asText());
        assertEquals("EXPLAINED", d.get("right").asText());
    }

    @Test
    void hostConfigurationIsGivenExplicitlyAndReportedWithItsSource() throws IOException {
        CliRun r = run(scenario("no_reset_on_pae_toggle.trace"), "--profiles", "upstream,upstream", "--json",
                "--host", "mmioCaching=true", "--host", "tdp=true", "--host", "tdpEncoding=ept");
        assertEquals(0, r.exit(), r.err());
        java.util.Map<String, JsonNode> byName = new java.util.HashMap<>();
        r.json().get("hostConfig").forEach(s -> byName.put(s.get("name").asText(), s));
        assertEquals("given", byName.get("mmioCaching").get("source").asText());
        assertEquals("true", byName.get("mmioCaching").get("value").asText());
        assertEquals("default", byName.get("nxHugePages").get("source").asText());
        assertEquals("EPT", byName.get("tdpEncoding").get("value").asText());
        assertTrue(byName.get("tdp").get("modelled").asBoolean(), "tdp=true replays the TDP MMU");
        assertFalse(r.err().contains("host tdp=true is not yet modelled"), r.err());
        assertEquals(0, r.json().get("divergenceCount").asLong());

        String t = Traces.path(Traces.NAMES.get(0)).toString();
        CliRun bad = run(t, "--profiles", "upstream,upstream", "--host", "mmio=true");
        assertEquals(MmuReplayCli.EXIT_USAGE, bad.exit());
        assertTrue(bad.err().contains("--host: unknown host setting 'mmio'"), bad.err());
        CliRun badValue = run(t, "--profiles", "upstream,upstream", "--host", "nxHugePages=maybe");
        assertEquals(MmuReplayCli.EXIT_USAGE, badValue.exit());
        assertTrue(badValue.err().contains("--host: bad value for host setting nxHugePages: 'maybe'"), badValue.err());
    }

    @Test
    void usageErrorsExitTwo() throws IOException {
        String t = Traces.path(Traces.NAMES.get(0)).toString();
        CliRun unknown = run(t, "--profiles", "upstream,nope");
        assertEquals(MmuReplayCli.EXIT_USAGE, unknown.exit());
        assertTrue(unknown.err().contains("unknown profile 'nope'"), unknown.err());
        assertEquals(MmuReplayCli.EXIT_USAGE, run(t, "--profiles", "upstream").exit());
        assertEquals(MmuReplayCli.EXIT_USAGE, run(t).exit());
        assertEquals(MmuReplayCli.EXIT_USAGE, run(tmp.resolve("missing.trace").toString(), "--profiles",
                "upstream,upstream").exit());
        Path bad = tmp.resolve("bad.profiles");
        Files.writeString(bad, "name=x\nswitch.bogus=true\n");
        CliRun b = run(t, "--profiles", "upstream,x", "--profile-file", bad.toString());
        assertEquals(MmuReplayCli.EXIT_USAGE, b.exit());
        assertTrue(b.err().contains(bad + ":2: unknown switch 'bogus'"), b.err());
    }
}
