package dev.mmureplay.benchmarks;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.Conformance;
import dev.mmureplay.model.ConformanceReport;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.event.ShadowPageInfo;
import dev.mmureplay.replayer.ingest.DeadLetterSink;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.Ingest;
import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.IngestReport;
import dev.mmureplay.replayer.ingest.ProgressListener;
import dev.mmureplay.replayer.model.ModelEvents;
import dev.mmureplay.replayer.parse.TraceInput;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** The event arrays the benchmarks replay, built once at setup. */
public final class Workloads {

    /** The real traces bundled in the jar (examples/traces). */
    public static final List<String> TRACES = List.of("long_user_basic.trace", "long_user_many_pages.trace",
            "long_user_memslot.trace", "long_kernel_emulated.trace", "real_io.trace", "pae32_kernel_fails.trace");

    private Workloads() {
    }

    /**
     * One real trace through the product path: the real parser + ingest (VM identity, seq) and the Avro → model
     * adapter. Fails on a dead letter (the bundled traces have none).
     */
    public static ModelEvent[] realTrace(String name) {
        return realTraceEvents(name).stream().map(ModelEvents::of).toArray(ModelEvent[]::new);
    }

    /** One real trace through the real parser + ingest, as the Avro records ingest writes. */
    public static List<TraceEvent> realTraceEvents(String name) {
        List<TraceEvent> out = new ArrayList<>();
        EventSink events = new EventSink() {
            @Override
            public void accept(TraceEvent e) {
                out.add(e);
            }

            @Override
            public void close() {
            }
        };
        DeadLetterSink dead = new DeadLetterSink() {
            @Override
            public void accept(DeadLetter d) {
                throw new IllegalStateException(name + ": bad line " + d);
            }

            @Override
            public void close() {
            }
        };
        try (InputStream in = Workloads.class.getResourceAsStream("/traces/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no bundled trace " + name);
            }
            Ingest ingest = new Ingest(IngestOptions.defaults(), events, dead, ProgressListener.NONE);
            try (TraceInput input = TraceInput.of(name, in, -1)) {
                ingest.ingest(input);
            }
            IngestReport r = ingest.report();
            if (r.byVm().size() != 1) {
                throw new IllegalStateException(name + ": expected one VM, got " + r.byVm());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** Every bundled real trace, in {@link #TRACES} order. */
    public static ModelEvent[][] realTraces() {
        ModelEvent[][] t = new ModelEvent[TRACES.size()][];
        for (int i = 0; i < t.length; i++) {
            t[i] = realTrace(TRACES.get(i));
        }
        return t;
    }

    private static ShadowPageInfo sp(long gfn, int level) {
        return new ShadowPageInfo(0, gfn, level, false, 0, false, 7, false, true, false, ModelEvent.UNKNOWN_INT, 0,
                false);
    }

    /**
     * A 4-level 64-bit guest (CR3 gfn 1) touching {@code pages} distinct 4 KiB pages for the first time, reads from
     * user mode, as the recording host traces it: per page a guest walk ({@code kvm_mmu_pagetable_walk} + 4
     * {@code kvm_mmu_paging_element}, A bits already set), then the recorded effects — {@code kvm_mmu_get_page}
     * for a new last-level shadow page every 512 pages (and the upper ones at the start),
     * {@code kvm_mmu_spte_requested} and {@code kvm_mmu_set_spte} (a present user r-x 4 KiB leaf, {@code ...a25}).
     * 7 events per page (+ 1 every 512). Guest page tables at gfn 0x100000+, data pages at gfn 0x200000+,
     * host pfns at 0x1000000+.
     */
    public static ModelEvent[] firstTouch(int pages) {
        List<ModelEvent> ev = new ArrayList<>(pages * 7 + pages / 512 + 8);
        long seq = 0;
        ev.add(new ModelEvent.GetPage(seq++, 0, sp(1, 4), true));
        for (int i = 0; i < pages; i++) {
            long va = 0x40000000L + (long) i * 4096;
            long ptGfn = 0x100000L + (i >>> 9);
            long dataGfn = 0x200000L + i;
            long pfn = 0x1000000L + i;
            ev.add(new ModelEvent.PageTableWalk(seq++, 0, va, 4));
            ev.add(new ModelEvent.PagingElement(seq++, 0, 0x2027, 4));
            ev.add(new ModelEvent.PagingElement(seq++, 0, 0x3027, 3));
            ev.add(new ModelEvent.PagingElement(seq++, 0, (ptGfn << 12) | 0x27, 2));
            ev.add(new ModelEvent.PagingElement(seq++, 0, (dataGfn << 12) | 0x27, 1));
            if (i == 0) {
                ev.add(new ModelEvent.GetPage(seq++, 0, sp(2, 3), true));
                ev.add(new ModelEvent.GetPage(seq++, 0, sp(3, 2), true));
            }
            if ((i & 511) == 0) {
                ev.add(new ModelEvent.GetPage(seq++, 0, sp(ptGfn, 1), true));
            }
            ev.add(new ModelEvent.SpteRequested(seq++, 0, dataGfn, pfn, 1));
            ev.add(new ModelEvent.SetSpte(seq++, 0, dataGfn, (pfn << 12) | 0xa25, "r-xu", 1, (i & 511) * 8L));
        }
        return ev.toArray(ModelEvent[]::new);
    }

    /** The conformance of a workload (the benchmarks check at setup that they replay the explained path). */
    public static ConformanceReport conformance(String name, ModelEvent[] events) {
        Conformance c = new Conformance(name);
        for (ModelEvent e : events) {
            c.accept(e);
        }
        return c.report();
    }

    /** Throws unless every recorded effect of the workload is explained or learned (no mismatch, nothing missed). */
    public static void requireExplained(String name, ModelEvent[] events) {
        ConformanceReport r = conformance(name, events);
        if (r.mismatched() != 0 || r.missed() != 0) {
            throw new IllegalStateException("workload " + name + " is not explained by the model: " + r.toText());
        }
    }
}
