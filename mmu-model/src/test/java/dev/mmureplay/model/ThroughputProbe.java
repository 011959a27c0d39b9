package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.event.ShadowPageInfo;

import java.util.ArrayList;
import java.util.List;

/**
 * Not a test: a rough single-core throughput / memory probe ({@code java -cp ... ThroughputProbe}); the JMH
 * benchmark of the issue lives with the benchmarks. Replays the shared traces in a loop and a synthetic many-page
 * workload (a 4-level guest touching N pages), printing events/s and heap bytes per live SPTE.
 */
public final class ThroughputProbe {

    public static void main(String[] args) {
        List<List<ModelEvent>> traces = new ArrayList<>();
        for (String t : DeterminismTest.TRACES) {
            traces.add(TraceLines.resource(t));
        }
        ModelConfig cfg = ModelConfig.DEFAULT;
        long events = 0;
        long sink = 0;
        for (int round = 0; round < 3; round++) {
            long t0 = System.nanoTime();
            long n = 0;
            while (System.nanoTime() - t0 < 3_000_000_000L) {
                for (List<ModelEvent> tr : traces) {
                    MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, cfg);
                    for (ModelEvent e : tr) {
                        sink += m.apply(e).outcome().ordinal();
                    }
                    n += tr.size();
                }
            }
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("real traces: %.1f M events/s%n", n / s / 1e6);
            events += n;
        }
        List<ModelEvent> synth = synthetic(Integer.parseInt(args.length > 0 ? args[0] : "262144"));
        for (int round = 0; round < 3; round++) {
            long t0 = System.nanoTime();
            MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, cfg);
            for (ModelEvent e : synth) {
                sink += m.apply(e).outcome().ordinal();
            }
            double s = (System.nanoTime() - t0) / 1e9;
            long[] fp = m.footprint();
            System.out.printf("synthetic %d events: %.1f M events/s, %d live SPTEs, %.1f bytes/SPTE (model estimate)%n",
                    synth.size(), synth.size() / s / 1e6, fp[0], (double) fp[1] / fp[0]);
        }
        // measured heap: used heap with the replayed machine alive minus used heap before it existed
        Runtime rt = Runtime.getRuntime();
        gc();
        long before = rt.totalMemory() - rt.freeMemory();
        MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, cfg);
        for (ModelEvent e : synth) {
            m.apply(e);
        }
        gc();
        long after = rt.totalMemory() - rt.freeMemory();
        long live = m.footprint()[0];
        System.out.printf("measured heap: %.1f bytes per live SPTE (%d SPTEs)%n", (double) (after - before) / live,
                live);
        System.out.println(sink + events + m.eventCount() > 0 ? "" : "-");
    }

    private static void gc() {
        for (int i = 0; i < 4; i++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A 4-level guest (root gfn 1) reading N distinct pages, 512 per page table, tables at gfn 0x100000+. */
    static List<ModelEvent> synthetic(int pages) {
        List<ModelEvent> ev = new ArrayList<>();
        long seq = 0;
        ev.add(new ModelEvent.GetPage(++seq, 0, new ShadowPageInfo(0, 1, 4, false, 0, false, 7, false, true, false,
                ModelEvent.UNKNOWN_INT, 0, false), true));
        for (int i = 0; i < pages; i++) {
            long va = 0x40000000L + (long) i * 4096;
            long ptGfn = 0x100000L + (i >>> 9);
            long dataGfn = 0x200000L + i;
            ev.add(new ModelEvent.PageTableWalk(++seq, 0, va, 4));
            ev.add(new ModelEvent.PagingElement(++seq, 0, 0x2027, 4));
            ev.add(new ModelEvent.PagingElement(++seq, 0, 0x3027, 3));
            ev.add(new ModelEvent.PagingElement(++seq, 0, (ptGfn << 12) | 0x27, 2));
            ev.add(new ModelEvent.PagingElement(++seq, 0, (dataGfn << 12) | 0x27, 1));
            if (i == 0) {
                ev.add(new ModelEvent.GetPage(++seq, 0, new ShadowPageInfo(0, 2, 3, false, 0, false, 7, false, true,
                        false, ModelEvent.UNKNOWN_INT, 0, false), true));
                ev.add(new ModelEvent.GetPage(++seq, 0, new ShadowPageInfo(0, 3, 2, false, 0, false, 7, false, true,
                        false, ModelEvent.UNKNOWN_INT, 0, false), true));
            }
            if ((i & 511) == 0) {
                ev.add(new ModelEvent.GetPage(++seq, 0, new ShadowPageInfo(0, ptGfn, 1, false, 0, false, 7, false,
                        true, false, ModelEvent.UNKNOWN_INT, 0, false), true));
            }
            ev.add(new ModelEvent.SpteRequested(++seq, 0, dataGfn, 0x1000000L + i, 1));
            ev.add(new ModelEvent.SetSpte(++seq, 0, dataGfn, ((0x1000000L + i) << 12) | 0xa25, "r-xu", 1,
                    ((i & 511) * 8L)));
        }
        return ev;
    }
}
