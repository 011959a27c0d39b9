package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link MmuStateMachine#writeSnapshot} / {@link MmuStateMachine#readSnapshot}: exact recovery mid-trace. */
class SnapshotTest {

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
        MmuStateMachine first = MmuStateMachine.create(profile, config);
        for (int i = 0; i < cut; i++) {
            assertEquals(expected.get(i), first.apply(events.get(i)), name + " seq index " + i);
        }
        byte[] snap = snapshot(first);
        MmuStateMachine resumed = restore(snap);
        assertEquals(first.digest(), resumed.digest(), name + ": digest right after restore");
        assertArrayEquals(snap, snapshot(resumed), name + ": restore → snapshot gives the same bytes");
        assertEquals(profile, resumed.profile());
        for (int i = cut; i < events.size(); i++) {
            assertEquals(expected.get(i), resumed.apply(events.get(i)), name + " event index " + i + " after restore");
        }
        assertEquals(whole.digest(), resumed.digest(), name + ": final digest");
        assertEquals(whole.eventCount(), resumed.eventCount());
        assertArrayEquals(snapshot(whole), snapshot(resumed), name + ": equal final states, equal bytes");
    }

    @Test
    void halfReplaySnapshotRestoreEqualsUninterruptedRunOnEveryRealTrace() throws IOException {
        for (String t : DeterminismTest.TRACES) {
            List<ModelEvent> events = TraceLines.resource(t);
            checkCut(t, events, Profile.UPSTREAM, ModelConfig.DEFAULT, events.size() / 2);
        }
    }

    @Test
    void anyCutPointRestoresExactly() throws IOException {
        List<ModelEvent> events = TraceLines.resource("long_user_memslot.trace");
        for (int cut = 0; cut <= events.size(); cut += 37) {
            checkCut("long_user_memslot@" + cut, events, Profile.UPSTREAM, ModelConfig.DEFAULT, cut);
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
    void unknownVersionIsAClearError() throws IOException {
        byte[] b = snapshot(MmuStateMachine.create());
        b[0] = 99;
        IOException e = assertThrows(IOException.class, () -> restore(b));
        assertTrue(e.getMessage().contains("version 99"), e.getMessage());
    }

    /** Size at each trace's peak of live SPTEs (the traces end with a teardown, when nothing is live). */
    @Test
    void sizePerLiveSpte() throws IOException {
        StringBuilder report = new StringBuilder();
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
            report.append(String.format("%-28s at event %5d: live sptes=%4d snapshot=%6d B (%.1f B/spte) heap~%6d B"
                            + " (%.1f B/spte)%n", t, peakAt, fp[0], bytes, fp[0] == 0 ? 0.0 : (double) bytes / fp[0],
                    fp[1], fp[0] == 0 ? 0.0 : (double) fp[1] / fp[0]));
            assertTrue(bytes <= fp[1] + 8192, t + ": snapshot " + bytes + " B vs heap " + fp[1] + " B");
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
        assertTrue(snap.length <= fp[1], "snapshot " + snap.length + " B > heap " + fp[1] + " B");
        MmuStateMachine r = restore(snap);
        assertEquals(m.digest(), r.digest());
        assertArrayEquals(snap, snapshot(r));
    }
}
