package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.mmu.ShadowPage;
import dev.mmureplay.model.mmu.VcpuMmu;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link MmuStateMachine#writeSnapshot} / {@link MmuStateMachine#readSnapshot} (format v2, {@link ModelSnapshot}):
 * exact recovery at any point, byte stability, self-containment, corruption handling, the committed golden file.
 */
class SnapshotTest {

    static final List<ModelConfig> CONFIGS = List.of(ModelConfig.DEFAULT, ModelConfig.DEFAULT.withDetailedSteps(true));

    static byte[] snapshot(MmuStateMachine m) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        m.writeSnapshot(new DataOutputStream(b));
        return b.toByteArray();
    }

    static MmuStateMachine restore(byte[] b) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
        MmuStateMachine m = MmuStateMachine.readSnapshot(in);
        assertEquals(-1, in.read(), "snapshot fully consumed");
        return m;
    }

    /** Uninterrupted steps and digest vs. a run restored from a snapshot at {@code cut}. */
    static void checkCut(String name, List<ModelEvent> events, Profile profile, ModelConfig config, int cut)
            throws IOException {
        MmuStateMachine whole = MmuStateMachine.create(profile, config);
        List<ReplayStep> expected = new ArrayList<>();
        for (ModelEvent e : events) {
            expected.add(whole.apply(e));
        }
        checkCut(name, events, profile, config, cut, whole, expected);
    }

    /** {@link #checkCut} with the uninterrupted run given (shared by several cuts). */
    static MmuStateMachine checkCut(String name, List<ModelEvent> events, Profile profile, ModelConfig config, int cut,
                                    MmuStateMachine whole, List<ReplayStep> expected) throws IOException {
        MmuStateMachine first = MmuStateMachine.create(profile, config);
        for (int i = 0; i < cut; i++) {
            assertEquals(expected.get(i), first.apply(events.get(i)), name + " seq index " + i);
        }
        return checkResume(name, events, first, whole, expected);
    }

    /**
     * Snapshots {@code first} (which has applied a prefix of {@code events}), restores it, checks the restored state,
     * replays the rest on it against the uninterrupted {@code expected} steps; returns a second restored copy taken at
     * the cut (for tests that inspect restored states).
     */
    static MmuStateMachine checkResume(String name, List<ModelEvent> events, MmuStateMachine first,
                                       MmuStateMachine whole, List<ReplayStep> expected) throws IOException {
        int cut = (int) first.eventCount();
        Profile profile = first.profile();
        byte[] snap = snapshot(first);
        MmuStateMachine resumed = restore(snap);
        assertEquals(first.digest(), resumed.digest(), name + ": digest right after restore");
        assertEquals(first.eventCount(), resumed.eventCount(), name + ": event count right after restore");
        assertEquals(first.pendingPredictions(), resumed.pendingPredictions(), name + ": queue after restore");
        assertEquals(first.footprint()[0], resumed.footprint()[0], name + ": live SPTEs after restore");
        assertArrayEquals(snap, snapshot(resumed), name + ": restore → snapshot gives the same bytes");
        assertEquals(profile, resumed.profile());
        if (Profile.builtIn(profile.name()) == profile) {
            assertSame(profile, resumed.profile(), name + ": a built-in profile is restored as itself");
        }
        assertEquals(first.config(), resumed.config());
        for (int i = cut; i < events.size(); i++) {
            assertEquals(expected.get(i), resumed.apply(events.get(i)), name + " event index " + i + " after restore");
        }
        assertEquals(whole.digest(), resumed.digest(), name + ": final digest");
        assertEquals(whole.eventCount(), resumed.eventCount());
        assertArrayEquals(snapshot(whole), snapshot(resumed), name + ": equal final states, equal bytes");
        return restore(snap);
    }

    /** Start, 1, middle, near the end, end (distinct, in range). */
    static int[] cuts(int n) {
        TreeSet<Integer> s = new TreeSet<>();
        for (int c : new int[] {0, 1, n / 2, n - 2, n - 1, n}) {
            if (c >= 0 && c <= n) {
                s.add(c);
            }
        }
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Every {@code stride}-th cut of {@code events} under one profile and config (the uninterrupted run computed
     * once); returns the restored state at each checked cut, indexed by cut / stride.
     */
    static List<MmuStateMachine> everyCut(String name, List<ModelEvent> events, Profile profile, ModelConfig config,
                                          int stride) throws IOException {
        MmuStateMachine whole = MmuStateMachine.create(profile, config);
        List<ReplayStep> expected = new ArrayList<>();
        for (ModelEvent e : events) {
            expected.add(whole.apply(e));
        }
        List<MmuStateMachine> restoredAtCut = new ArrayList<>();
        MmuStateMachine first = MmuStateMachine.create(profile, config);
        for (int cut = 0; cut <= events.size(); cut++) {
            if (cut > 0) {
                assertEquals(expected.get(cut - 1), first.apply(events.get(cut - 1)), name + " seq index " + (cut - 1));
            }
            if (cut % stride == 0) {
                restoredAtCut.add(checkResume(name + "@" + cut, events, first, whole, expected));
            }
        }
        return restoredAtCut;
    }

    static MmuStateMachine restoreAt(List<ModelEvent> events, Profile profile, ModelConfig config, int cut)
            throws IOException {
        MmuStateMachine m = MmuStateMachine.create(profile, config);
        for (ModelEvent e : events.subList(0, cut)) {
            m.apply(e);
        }
        return restore(snapshot(m));
    }

    // ================================================================================================ real traces

    @Test
    void everyRealTraceEveryBuiltInProfileBothConfigsAtStartOneMiddleNearEndAndEnd() throws IOException {
        int checked = 0;
        for (String t : DeterminismTest.TRACES) {
            List<ModelEvent> events = TraceLines.resource(t);
            for (Profile p : Profile.BUILT_IN) {
                for (ModelConfig c : CONFIGS) {
                    MmuStateMachine whole = MmuStateMachine.create(p, c);
                    List<ReplayStep> expected = new ArrayList<>();
                    for (ModelEvent e : events) {
                        expected.add(whole.apply(e));
                    }
                    for (int cut : cuts(events.size())) {
                        checkCut(t + " " + p.name() + (c.detailedSteps() ? " detailed" : "") + " @" + cut, events,
                                p, c, cut, whole, expected);
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked >= 6 * 6 * 2 * 3, "cuts checked: " + checked);
    }

    @Test
    void everyCutPointOfTheSmallerTracesRestoresExactly() throws IOException {
        // every event boundary: mid-walk (paging elements pending), armed / requested faults, queued predictions
        for (String t : new String[] {"long_user_memslot.trace", "real_io.trace", "pae32_kernel_fails.trace"}) {
            everyCut(t, TraceLines.resource(t), Profile.UPSTREAM, ModelConfig.DEFAULT.withDetailedSteps(true), 1);
        }
        for (String t : new String[] {"long_user_basic.trace", "long_kernel_emulated.trace"}) {
            everyCut(t, TraceLines.resource(t), Profile.UPSTREAM, ModelConfig.DEFAULT, 7);
        }
        everyCut("long_user_many_pages.trace", TraceLines.resource("long_user_many_pages.trace"), Profile.UPSTREAM,
                ModelConfig.DEFAULT, 11);
    }

    @Test
    void halfReplaySnapshotRestoreEqualsUninterruptedRunOnEveryRealTrace() throws IOException {
        for (String t : DeterminismTest.TRACES) {
            List<ModelEvent> events = TraceLines.resource(t);
            checkCut(t, events, Profile.UPSTREAM, ModelConfig.DEFAULT, events.size() / 2);
        }
    }

    @Test
    void userProfileAndNonDefaultConfigTravelByValue() throws IOException {
        Profile user = new Profile("stale-pae-and-bit11", "upstream",
                java.util.EnumSet.of(Profile.Switch.NO_RESET_ON_PAE_TOGGLE, Profile.Switch.MMIO_GEN_BIT11));
        ModelConfig cfg = new ModelConfig(46, 40, false, false, true, true, false, false, true, true, true, true,
                true, ModelConfig.TdpEncoding.EPT, 0, 1234, "6.1");
        List<ModelEvent> events = TraceLines.resource("long_user_basic.trace");
        checkCut("user profile", events, user, cfg, events.size() / 3);
        MmuStateMachine r = restoreAt(events, user, cfg, 10);
        assertEquals(user, r.profile());
        assertEquals(cfg, r.config());
        assertSame(ModelConfig.DEFAULT, restoreAt(events, Profile.UPSTREAM, ModelConfig.DEFAULT, 10).config());
        assertSame(Profile.UPSTREAM, restoreAt(events, Profile.UPSTREAM, ModelConfig.DEFAULT, 10).profile());
        for (Profile p : Profile.BUILT_IN) {
            assertSame(p, restoreAt(events, new Profile(p.name(), p.base(), p.switches()), ModelConfig.DEFAULT, 5)
                    .profile(), "an equal copy of a built-in profile is restored as the built-in " + p.name());
        }
    }

    @Test
    void equalStatesGiveEqualBytesAndDifferentStatesDiffer() throws IOException {
        List<ModelEvent> events = TraceLines.resource("long_user_many_pages.trace");
        MmuStateMachine a = MmuStateMachine.create();
        MmuStateMachine b = MmuStateMachine.create();
        for (ModelEvent e : events) {
            a.apply(e);
            b.apply(e);
        }
        assertArrayEquals(snapshot(a), snapshot(b));
        MmuStateMachine c = MmuStateMachine.create();
        for (ModelEvent e : events.subList(0, events.size() - 1)) {
            c.apply(e);
        }
        assertTrue(!Arrays.equals(snapshot(a), snapshot(c)));
    }

    @Test
    void snapshotsFollowEachOtherInOneStream() throws IOException {
        // the reader consumes exactly one snapshot (Flink keyed state holds many records back to back)
        List<ModelEvent> events = TraceLines.resource("long_user_basic.trace");
        MmuStateMachine a = MmuStateMachine.create();
        MmuStateMachine b = MmuStateMachine.create(Profile.builtIn("mmio-gen-bit11"), ModelConfig.DEFAULT);
        for (ModelEvent e : events.subList(0, 300)) {
            a.apply(e);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        a.writeSnapshot(out);
        b.writeSnapshot(out);
        out.writeInt(0xCAFE);
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
        assertEquals(a.digest(), MmuStateMachine.readSnapshot(in).digest());
        assertSame(b.profile(), MmuStateMachine.readSnapshot(in).profile());
        assertEquals(0xCAFE, in.readInt());
    }

    // ================================================================================================ sizes

    /** Snapshot size of each real trace's final state, under upstream and both configs (printed). */
    @Test
    void finalStateSizePerRealTrace() throws IOException {
        StringBuilder report = new StringBuilder("snapshot v2 size of the final state (upstream):\n");
        for (String t : DeterminismTest.TRACES) {
            List<ModelEvent> events = TraceLines.resource(t);
            for (ModelConfig c : CONFIGS) {
                MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, c);
                for (ModelEvent e : events) {
                    m.apply(e);
                }
                byte[] snap = snapshot(m);
                long[] fp = m.footprint();
                report.append(String.format("  %-28s %-8s events=%5d live sptes=%4d snapshot=%6d B  heap~%6d B%n", t,
                        c.detailedSteps() ? "detailed" : "default", events.size(), fp[0], snap.length, fp[1]));
                assertTrue(snap.length <= fp[1] + 1024, t + ": snapshot " + snap.length + " B vs heap " + fp[1]);
            }
        }
        System.out.print(report);
    }

    /** Size at each trace's peak of live SPTEs (the traces end with a teardown, when nothing is live). */
    @Test
    void sizePerLiveSpte() throws IOException {
        StringBuilder report = new StringBuilder("snapshot v2 size at the peak of live SPTEs (upstream):\n");
        for (String t : DeterminismTest.TRACES) {
            List<ModelEvent> events = TraceLines.resource(t);
            MmuStateMachine m = MmuStateMachine.create();
            int peakAt = 0;
            long peak = -1;
            for (int i = 0; i < events.size(); i++) {
                m.apply(events.get(i));
                long live = m.footprint()[0];
                if (live > peak) {
                    peak = live;
                    peakAt = i + 1;
                }
            }
            MmuStateMachine p = MmuStateMachine.create();
            for (ModelEvent e : events.subList(0, peakAt)) {
                p.apply(e);
            }
            long[] fp = p.footprint();
            int bytes = snapshot(p).length;
            report.append(String.format("  %-28s at event %5d: live sptes=%4d snapshot=%6d B (%.1f B/spte) heap~%6d B"
                            + " (%.1f B/spte)%n", t, peakAt, fp[0], bytes, fp[0] == 0 ? 0.0 : (double) bytes / fp[0],
                    fp[1], fp[0] == 0 ? 0.0 : (double) fp[1] / fp[0]));
            assertTrue(bytes <= fp[1] + 1024, t + ": snapshot " + bytes + " B vs heap " + fp[1] + " B");
        }
        System.out.print(report);
    }

    /** A large state (the probe's synthetic guest touching 32,768 pages): bytes per live SPTE, and exact restore. */
    @Test
    void largeStateSizePerLiveSpteAndExactRestore() throws IOException {
        List<ModelEvent> events = ThroughputProbe.synthetic(32768);
        MmuStateMachine m = MmuStateMachine.create();
        for (ModelEvent e : events) {
            m.apply(e);
        }
        long[] fp = m.footprint();
        byte[] snap = snapshot(m);
        System.out.printf("synthetic 32768 pages: live sptes=%d snapshot=%d B (%.1f B/spte) heap~%d B (%.1f B/spte)%n",
                fp[0], snap.length, (double) snap.length / fp[0], fp[1], (double) fp[1] / fp[0]);
        assertTrue(fp[0] >= 32768, "live sptes " + fp[0]);
        assertTrue(snap.length <= fp[1] / 2, "snapshot " + snap.length + " B > half the heap " + fp[1] + " B");
        MmuStateMachine r = restore(snap);
        assertEquals(m.digest(), r.digest());
        assertEquals(fp[0], r.footprint()[0]);
        assertArrayEquals(snap, snapshot(r));
    }

    // ================================================================================================ synthetic

    @Test
    void paeGuestStateRoundTripsAtEveryCut() throws IOException {
        // DivergenceTest.PAE_TOGGLE: four 4-byte quadrant roots, CR4.PAE on (a learned 8-byte PAE root), CR4.PAE off
        List<ModelEvent> toggle = TraceLines.parse(DivergenceTest.PAE_TOGGLE);
        for (Profile p : List.of(Profile.UPSTREAM, Profile.builtIn("no-reset-on-pae-toggle"))) {
            for (ModelConfig c : CONFIGS) {
                everyCut("pae-toggle " + p.name(), toggle, p, c, 1);
            }
        }
        // ModelBehaviourTest: CR writes, !nxe roots (EFER.NX learned off), a 32-bit walk and fault
        List<ModelEvent> start = TraceLines.parse(ModelBehaviourTest.PAE_TOGGLE_START + """
                kvm_mmu_pagetable_walk: addr 2162000 pferr 4 U
                kvm_mmu_paging_element: pte 11007 level 2
                kvm_mmu_paging_element: pte 362007 level 1
                kvm_mmu_set_accessed_bit: gpa 10020
                kvm_mmu_set_accessed_bit: gpa 11588
                kvm_mmu_get_page: sp gen 0 gfn 11 l1 4-byte q0 wux !nxe ad root 0 sync new
                kvm_mmu_spte_requested: gfn 362 pfn 19a8c2 level 1
                kvm_mmu_set_spte: gfn 362 spte 19a8c2a25 (r-xu) level 1 at 10b2c4b10
                kvm_cr: cr_write 4 = 0x20
                kvm_mmu_get_page: sp gen 0 gfn 12 l2 8-byte q0 wux !nxe ad root 0 sync new
                """);
        List<MmuStateMachine> restored = everyCut("pae32", start, Profile.UPSTREAM,
                ModelConfig.DEFAULT.withDetailedSteps(true), 1);
        // the restored states themselves: the four PAE-root entries (4-byte quadrants), then the learned PAE root
        VcpuMmu quadrants = restored.get(7).mmu().vcpu(0);
        assertTrue(quadrants.paeRootActive(), "PAE root page active after restore");
        assertEquals(4, Arrays.stream(quadrants.paeRoots()).filter(id -> id > 0).count());
        assertTrue(quadrants.mode().fourByte(), "32-bit paging format rebuilt from the restored control bits");
        VcpuMmu midWalk = restored.get(9).mmu().vcpu(0);
        assertTrue(midWalk.walker().active(), "a walk in progress survives the restore");
        VcpuMmu pae = restored.get(start.size()).mmu().vcpu(0);
        assertTrue(pae.paeRootActive());
        assertTrue(!pae.eferNx(), "EFER.NX=0 learned from !nxe, restored");
        assertEquals(3, pae.mode().level(), "PAE paging format after CR4.PAE=1");
    }

    @Test
    void mmioSpteStateRoundTripsAtEveryCut() throws IOException {
        // MmioSpteTest snippets: an MMIO SPTE installed by mark_mmio_spte, then checked and handled; the learned
        // memslot generation and the MMIO SPTE (both generation layouts) must survive a restore at any point
        String hitBit11 = """
                kvm_page_fault: vcpu 0 rip 0x10010 address 0x0000000000400084 error_code 0xd
                check_mmio_spte: spte 180000febf0007 kvm_gen 100 spte-gen 100 valid 1
                handle_mmio_page_fault: addr:400084 gfn febf0 access 6
                """;
        for (Profile p : List.of(Profile.UPSTREAM, Profile.builtIn("mmio-gen-bit11"))) {
            for (String scenario : List.of(MmioSpteTest.START + MmioSpteTest.markAt("2") + MmioSpteTest.HIT_2,
                    MmioSpteTest.START + MmioSpteTest.markAt("100") + hitBit11)) {
                List<ModelEvent> ev = TraceLines.parse(scenario);
                List<MmuStateMachine> restored = everyCut("mmio " + p.name(), ev, p, MmioSpteTest.MMIO_ON, 1);
                MmuStateMachine marked = restored.get(TraceLines.parse(MmioSpteTest.START
                        + MmioSpteTest.markAt("2")).size());
                assertTrue(hasMmioSpte(marked), "restored state holds the MMIO SPTE (" + p.name() + ")");
                assertTrue(!hasMmioSpte(restored.get(0)));
            }
        }
    }

    /** An SPTE with the MMIO value's reserved bit 51 (host MAXPHYADDR 48), in either generation layout. */
    private static boolean hasMmioSpte(MmuStateMachine m) {
        for (int id : m.mmu().activePages()) {
            ShadowPage sp = m.mmu().page(id);
            for (int i = 0; i < ShadowPage.SPTE_ENT_PER_PAGE; i++) {
                if ((sp.spte(i) & (1L << 51)) != 0) {
                    return true;
                }
            }
        }
        return false;
    }

    // ================================================================================================ golden file

    /**
     * The cross-version guarantee: the committed v2 file (written by {@link SnapshotGolden}) restores, continues
     * to the recorded final digest, and — while the writer writes v2 — re-serializes to the very same bytes.
     */
    @Test
    void goldenV2SnapshotRestoresAndReplays() throws IOException {
        byte[] golden;
        Properties props = new Properties();
        try (InputStream in = SnapshotTest.class.getResourceAsStream("/snapshots/" + SnapshotGolden.NAME + ".snap");
             InputStream p = SnapshotTest.class.getResourceAsStream("/snapshots/" + SnapshotGolden.NAME
                     + ".properties")) {
            assertNotNull(in, "golden snapshot missing");
            assertNotNull(p, "golden properties missing");
            golden = in.readAllBytes();
            props.load(new StringReader(new String(p.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)));
        }
        assertEquals(2, golden[0], "a v2 file");
        String regenerate = " (if the model's behaviour changed on purpose, regenerate: see SnapshotGolden)";
        MmuStateMachine m = restore(golden);
        int cut = Integer.parseInt(props.getProperty("cut"));
        assertEquals(cut, m.eventCount(), "event count in the golden state");
        assertSame(Profile.UPSTREAM, m.profile());
        assertSame(ModelConfig.DEFAULT, m.config());
        assertEquals(props.getProperty("digestAtCut"), Long.toHexString(m.digest()));
        if (ModelSnapshot.VERSION == 2) {
            assertArrayEquals(golden, snapshot(m), "the v2 writer is byte-stable" + regenerate);
        }
        List<ModelEvent> events = TraceLines.resource(props.getProperty("trace"));
        MmuStateMachine whole = MmuStateMachine.create(Profile.UPSTREAM, ModelConfig.DEFAULT);
        List<ReplayStep> expected = new ArrayList<>();
        for (ModelEvent e : events) {
            expected.add(whole.apply(e));
        }
        for (int i = cut; i < events.size(); i++) {
            assertEquals(expected.get(i), m.apply(events.get(i)), "golden: event index " + i + regenerate);
        }
        assertEquals(props.getProperty("finalDigest"), Long.toHexString(m.digest()), "golden final digest"
                + regenerate);
        assertEquals(whole.digest(), m.digest(), "golden: continued replay = uninterrupted run" + regenerate);
    }

    // ================================================================================================ corruption

    @Test
    void unknownVersionIsAClearError() throws IOException {
        byte[] b = snapshot(MmuStateMachine.create());
        for (int v : new int[] {99, 1, 3, 0, 255}) {
            b[0] = (byte) v;
            IOException e = assertThrows(IOException.class, () -> restore(b));
            assertTrue(e.getMessage().contains("version " + v), e.getMessage());
        }
    }

    /** A mid-trace state with queued predictions, pages, guest PTEs (the golden state). */
    private static byte[] midTraceSnapshot() throws IOException {
        List<ModelEvent> events = TraceLines.resource(SnapshotGolden.TRACE);
        MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, ModelConfig.DEFAULT.withDetailedSteps(true));
        for (ModelEvent e : events.subList(0, SnapshotGolden.CUT)) {
            m.apply(e);
        }
        return snapshot(m);
    }

    @Test
    void truncatedAtAnyOffsetIsAnIOExceptionNamingTheSection() throws IOException {
        byte[] full = midTraceSnapshot();
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int len = 0; len < full.length; len++) {
                byte[] cut = Arrays.copyOf(full, len);
                IOException e = assertThrows(IOException.class, () -> restore(cut), "truncated at " + len);
                assertTrue(e.getMessage().contains("truncated"), len + ": " + e.getMessage());
                if (len > 0) {
                    assertTrue(e.getMessage().matches(".*section (config|machine|mmu|pages|vcpus|guest-memory"
                            + "|trailer).*"), len + ": " + e.getMessage());
                }
            }
        });
    }

    @Test
    void anyFlippedByteIsAnIOException() throws IOException {
        byte[] full = midTraceSnapshot();
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            for (int i = 0; i < full.length; i++) {
                for (int mask : new int[] {0x01, 0x80, 0xff}) {
                    byte[] bad = full.clone();
                    bad[i] ^= (byte) mask;
                    try {
                        restore(bad);
                        fail("byte " + i + " ^ " + mask + " restored silently");
                    } catch (IOException e) {
                        String msg = e.getMessage();
                        assertTrue(msg.contains("snapshot") && (msg.contains("version") || msg.contains("section")
                                || msg.contains("digest")), i + ": " + msg);
                    }
                }
            }
        });
    }

    @Test
    void stateThatDoesNotReproduceItsDigestIsADigestMismatch() throws IOException {
        // well-formed sections (valid checksums) whose trailer digest differs from the restored state's
        byte[] b = midTraceSnapshot();
        int trailer = b.length - 14;   // tag, length 8, fixed64 digest, CRC-32
        assertEquals(ModelSnapshot.TRAILER, b[trailer]);
        assertEquals(8, b[trailer + 1]);
        b[trailer + 2 + 7] ^= 1;
        CRC32 crc = new CRC32();
        crc.update(ModelSnapshot.TRAILER);
        crc.update(b, trailer + 2, 8);
        int c = (int) crc.getValue();
        for (int k = 0; k < 4; k++) {
            b[trailer + 10 + k] = (byte) (c >>> (24 - 8 * k));
        }
        IOException e = assertThrows(IOException.class, () -> restore(b));
        assertTrue(e.getMessage().startsWith("snapshot digest mismatch"), e.getMessage());
    }

    @Test
    void sectionWithTrailingBytesOrAnUnknownEnumNameIsCorrupt() throws IOException {
        // a config section whose payload is longer than its content, with a valid checksum
        byte[] b = snapshot(MmuStateMachine.create());
        int len = b[2];
        byte[] payload = Arrays.copyOfRange(b, 3, 3 + len);
        byte[] longer = Arrays.copyOf(payload, len + 1);
        IOException e = assertThrows(IOException.class, () -> restore(withConfigPayload(b, longer)));
        assertTrue(e.getMessage().contains("section config") && e.getMessage().contains("trailing"), e.getMessage());
        // the TDP encoding by name: "NPT" → "XPT"
        String text = new String(payload, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = text.indexOf("NPT");
        assertTrue(at > 0);
        byte[] renamed = payload.clone();
        renamed[at] = 'X';
        e = assertThrows(IOException.class, () -> restore(withConfigPayload(b, renamed)));
        assertTrue(e.getMessage().contains("section config") && e.getMessage().contains("XPT"), e.getMessage());
    }

    /** The snapshot {@code b} with its config section's payload replaced (and re-checksummed). */
    private static byte[] withConfigPayload(byte[] b, byte[] payload) {
        int len = b[2];
        assertTrue(len < 128 && payload.length < 128);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(b[0]);
        out.write(ModelSnapshot.CONFIG);
        out.write(payload.length);
        out.writeBytes(payload);
        CRC32 crc = new CRC32();
        crc.update(ModelSnapshot.CONFIG);
        crc.update(payload);
        int c = (int) crc.getValue();
        for (int k = 0; k < 4; k++) {
            out.write(c >>> (24 - 8 * k));
        }
        out.write(b, 3 + len + 4, b.length - (3 + len + 4));
        return out.toByteArray();
    }
}
