package dev.mmureplay.replayer.ingest;

import dev.mmureplay.avro.KvmEmulateInsn;
import dev.mmureplay.avro.KvmMmuGetPage;
import dev.mmureplay.avro.KvmMmuPrepareZapPage;
import dev.mmureplay.avro.ShadowPage;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.testutil.MemorySinks;
import dev.mmureplay.replayer.testutil.Traces;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * (c) trace-cmd report text of the real traces (fixtures written from the real lines following
 * tracecmd/trace-read.c and libtraceevent plugin_kvm.c) ingests like the tracefs text, minus the fields that
 * trace-cmd does not print.
 */
class TraceCmdReportIngestTest {

    private static Path fixture(String name) {
        return Traces.dir().resolveSibling("fixtures").resolve(name);
    }

    private static MemorySinks.Run ingest(Path p) throws Exception {
        return MemorySinks.ingest(IngestOptions.defaults().withVm("vm"), List.of(p.toString()));
    }

    @Test
    void traceCmdMicrosecondReportOfRealIoHasEveryEventAndNoDeadLetter() throws Exception {
        MemorySinks.Run run = ingest(fixture("real_io.trace-cmd-us.txt"));

        assertEquals(List.of(), run.deadLetters());
        assertEquals(26, run.report().events());
        assertEquals(1, run.report().skipped(), "the cpus=2 line");
        assertEquals(0, run.report().generic());
    }

    @Test
    void traceCmdEventsEqualTheTracefsEventsInEveryFieldTraceCmdPrints() throws Exception {
        List<TraceEvent> raw = ingest(Traces.path("real_io.trace")).events();
        List<TraceEvent> tc = ingest(fixture("real_io.trace-cmd-us.txt")).events();

        assertEquals(raw.size(), tc.size());
        for (int i = 0; i < raw.size(); i++) {
            TraceEvent r = raw.get(i);
            TraceEvent t = tc.get(i);
            assertEquals(r.getSeq(), t.getSeq());
            assertEquals(r.getTimestampNs(), t.getTimestampNs());
            assertEquals(r.getSource().getTask(), t.getSource().getTask());
            assertEquals(r.getSource().getPid(), t.getSource().getPid());
            assertEquals(r.getSource().getCpu(), t.getSource().getCpu());
            assertNull(t.getSource().getIrqFlags(), "trace-cmd prints no flag columns");
            Object rp = r.getPayload();
            Object tp = t.getPayload();
            assertEquals(rp.getClass(), tp.getClass());
            if (rp instanceof KvmMmuGetPage g) {
                KvmMmuGetPage h = (KvmMmuGetPage) tp;
                assertEquals(g.getCreated(), h.getCreated());
                assertSameRole(g.getSp(), h.getSp());
                assertEquals(g.getSp().getGfn(), h.getSp().getGfn());
            } else if (rp instanceof KvmMmuPrepareZapPage z) {
                assertSameRole(z.getSp(), ((KvmMmuPrepareZapPage) tp).getSp());
                assertNull(((KvmMmuPrepareZapPage) tp).getSp().getGfn(), "kvm_mmu_print_role prints no gfn");
            } else if (rp instanceof KvmEmulateInsn e) {
                KvmEmulateInsn f = (KvmEmulateInsn) tp;
                assertEquals(e.getCsBase(), f.getCsBase());
                assertEquals(e.getRip(), f.getRip());
                assertEquals(e.getInsn(), f.getInsn());
                assertEquals(e.getFailed(), f.getFailed());
                assertNull(f.getMode(), "the kvm plugin prints no mode");
            } else {
                assertEquals(rp, tp, "markers, kvm_pio, kvm_userspace_exit print the same text");
            }
        }
    }

    private static void assertSameRole(ShadowPage r, ShadowPage t) {
        assertNull(t.getGen());
        assertNull(t.getAdDisabled());
        assertEquals(r.getLevel(), t.getLevel());
        assertEquals(r.getHas4ByteGpte(), t.getHas4ByteGpte());
        assertEquals(r.getQuadrant(), t.getQuadrant());
        assertEquals(r.getDirect(), t.getDirect());
        assertEquals(r.getAccess(), t.getAccess());
        assertEquals(r.getInvalid(), t.getInvalid());
        assertEquals(r.getEferNx(), t.getEferNx());
        assertEquals(r.getRootCount(), t.getRootCount());
        assertEquals(r.getUnsync(), t.getUnsync());
    }

    @Test
    void traceCmdNanosecondTimestampsAreExact() throws Exception {
        List<TraceEvent> us = ingest(fixture("real_io.trace-cmd-us.txt")).events();
        MemorySinks.Run ns = ingest(fixture("real_io.trace-cmd-ns.txt"));

        assertEquals(List.of(), ns.deadLetters());
        for (int i = 0; i < us.size(); i++) {
            long a = us.get(i).getTimestampNs();
            long b = ns.events().get(i).getTimestampNs();
            assertEquals(a, b - b % 1000, "same microsecond");
        }
        assertEquals(620_783_479_444L, ns.events().get(0).getTimestampNs(), "620.783479444");
    }

    @Test
    void traceCmdReportOfLongUserBasicCountsLikeTheTracefsFile() throws Exception {
        MemorySinks.Run raw = ingest(Traces.path("long_user_basic.trace"));
        MemorySinks.Run tc = ingest(fixture("long_user_basic.trace-cmd-us.txt"));

        assertEquals(List.of(), tc.deadLetters());
        assertEquals(raw.report().byType(), tc.report().byType());
        assertEquals(0, tc.report().generic());
    }
}
