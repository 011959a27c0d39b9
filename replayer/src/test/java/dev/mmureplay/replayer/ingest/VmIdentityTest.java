package dev.mmureplay.replayer.ingest;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.testutil.MemorySinks;
import dev.mmureplay.replayer.testutil.Traces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * (f) VM identity and order: one VM per input by default; with --split-by tgid one VM per VMM thread group, with
 * kernel-thread lines attached to the VM they work for; seq dense per VM; gzip input equals plain input.
 */
class VmIdentityTest {

    /**
     * Two VMMs interleaved on a host with options/record-tgid, payloads taken from the real traces:
     * VMM A = tgid 1000 (threads 1000 "qemu-a", 1003 "CPU 0/KVM", 1004 "CPU 1/KVM"),
     * VMM B = tgid 2000 (threads 2000 "qemu-b", 2002 "CPU 0/KVM"); kernel threads: an old-kernel NX-recovery kthread
     * of A (pid 1010, its own tgid), a new-kernel NX-recovery vhost task of B (pid 2011 in B's thread group), a
     * kworker with an unknown tgid (pid 2500), and a kthread seen before... see {@link #EARLY_KTHREAD}.
     */
    private static final String MIX = String.join("\n",
            "# tracer: nop",
            "          qemu-a-1000    (   1000) [000] ...1.   569.264748: tracing_mark_write: kvmrec start 0",
            "       CPU 0/KVM-1003    (   1000) [000] ...1.   569.264840: kvm_mmu_get_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync new",
            "          qemu-b-2000    (   2000) [001] ...1.   569.264841: tracing_mark_write: kvmrec start 0",
            "       CPU 0/KVM-1003    (   1000) [000] .....   569.264855: kvm_mmu_pagetable_walk: addr 10000 pferr 14 U|F",
            "       CPU 0/KVM-2002    (   2000) [001] .....   569.264856: kvm_mmu_pagetable_walk: addr 10000 pferr 14 U|F",
            "       CPU 1/KVM-1004    (   1000) [000] .....   569.264857: kvm_mmu_paging_element: pte 2007 level 4",
            "       CPU 0/KVM-2002    (   2000) [001] .....   569.264858: kvm_mmu_paging_element: pte 2007 level 4",
            " kvm-nx-lpage-re-1010    (   1010) [000] ...1.   569.266047: kvm_mmu_prepare_zap_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync",
            " kvm-nx-lpage-re-2011    (   2000) [001] ...1.   569.266048: kvm_mmu_prepare_zap_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync",
            "     kworker/1:2-2500    (-------) [001] .....   569.266049: kvm_unmap_hva_range: mmu notifier unmap range: 0x007f117a700000 -- 0x007f117a720000",
            "          qemu-a-1000    (   1000) [000] ...1.   569.266050: tracing_mark_write: kvmrec end (hlt) 0",
            "");

    /** A kernel thread whose pid is below every VMM tgid: no VM to attach it to, so it gets one of its own. */
    private static final String EARLY_KTHREAD =
            " kvm-nx-lpage-re-500     (    500) [000] ...1.   569.266051: kvm_mmu_prepare_zap_page: sp gen 0 gfn 1 l4 8-byte q0 wux nxe ad root 0 sync\n";

    @TempDir
    Path tmp;

    private Path write(String name, String text) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private static Map<String, List<Long>> seqsByVm(List<TraceEvent> events) {
        Map<String, List<Long>> m = new LinkedHashMap<>();
        for (TraceEvent e : events) {
            m.computeIfAbsent(e.getVm(), k -> new java.util.ArrayList<>()).add(e.getSeq());
        }
        return m;
    }

    private static List<String> vmOfEachLine(List<TraceEvent> events) {
        return events.stream().map(TraceEvent::getVm).toList();
    }

    @Test
    void splitByTgidGivesOneVmPerVmmAndAttachesKernelThreads() throws Exception {
        Path mix = write("mix.trace", MIX);

        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults().withSplitBy(SplitMode.TGID), List.of(mix.toString()));

        assertEquals(List.of(
                "mix-1000", "mix-1000", "mix-2000", "mix-1000", "mix-2000", "mix-1000", "mix-2000",
                "mix-1000",   // kvm-nx-lpage-re-1010, a kthread (tgid == pid): the VMM with the largest tgid <= 1010
                "mix-2000",   // kvm-nx-lpage-re-2011 in tgid 2000 (vhost task on new kernels): its tgid says it
                "mix-2000",   // kworker-2500 with an unknown tgid: largest VMM tgid <= 2500
                "mix-1000"), vmOfEachLine(run.events()));
        assertEquals(Map.of("mix-1000", 6L, "mix-2000", 5L), run.report().byVm());
    }

    @Test
    void linesWithoutAKnownTgidAreReportedAsAWarning() throws Exception {
        Path mix = write("mix.trace", MIX);

        IngestReport r = MemorySinks.ingest(IngestOptions.defaults().withSplitBy(SplitMode.TGID), List.of(mix.toString())).report();

        assertEquals(List.of(mix + ": 1 event lines have no known tgid (no record-tgid column, or \"(-------)\");"
                + " they were attached to a VM by their pid"), r.warnings());
    }

    @Test
    void seqIsDenseFromZeroPerVmInInputOrder() throws Exception {
        Path mix = write("mix.trace", MIX);

        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults().withSplitBy(SplitMode.TGID), List.of(mix.toString()));

        assertEquals(Map.of("mix-1000", List.of(0L, 1L, 2L, 3L, 4L, 5L), "mix-2000", List.of(0L, 1L, 2L, 3L, 4L)),
                new HashMap<>(seqsByVm(run.events())));
    }

    @Test
    void vcpuComesFromTheQemuThreadName() throws Exception {
        Path mix = write("mix.trace", MIX);

        List<TraceEvent> events = MemorySinks.ingest(IngestOptions.defaults().withSplitBy(SplitMode.TGID),
                List.of(mix.toString())).events();

        assertEquals(List.of(-1, 0, -1, 0, 0, 1, 0, -1, -1, -1, -1), events.stream().map(TraceEvent::getVcpu).toList());
        assertEquals(1000, events.get(1).getSource().getTgid());
        assertEquals(null, events.get(9).getSource().getTgid(), "(-------) is an unknown tgid");
    }

    @Test
    void aKernelThreadBeforeAnyMatchingVmmGetsAVmOfItsOwn() throws Exception {
        Path mix = write("mix.trace", MIX + EARLY_KTHREAD);

        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults().withSplitBy(SplitMode.TGID), List.of(mix.toString()));

        assertEquals("mix-500", run.events().get(run.events().size() - 1).getVm());
        assertEquals(0L, run.events().get(run.events().size() - 1).getSeq());
    }

    @Test
    void withASingleVmEveryKernelThreadJoinsIt() throws Exception {
        String onlyA = MIX.lines().filter(l -> !l.contains("(   2000)")).reduce("", (a, b) -> a + b + "\n") + EARLY_KTHREAD;
        Path p = write("a.trace", onlyA);

        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults().withSplitBy(SplitMode.TGID), List.of(p.toString()));

        assertEquals(Map.of("a-1000", 8L), run.report().byVm());
    }

    @Test
    void theVmOptionNamesTheBaseOfTgidVms() throws Exception {
        Path mix = write("mix.trace", MIX);

        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults().withSplitBy(SplitMode.TGID).withVm("host7"),
                List.of(mix.toString()));

        assertEquals(List.of("host7-1000", "host7-2000"), List.copyOf(run.report().byVm().keySet()));
    }

    @Test
    void withoutSplitTheWholeInputIsOneVmNamedAfterTheFile() throws Exception {
        Path mix = write("mix.trace", MIX);

        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults(), List.of(mix.toString()));

        assertEquals(Map.of("mix", 11L), run.report().byVm());
    }

    @Test
    void eachInputIsItsOwnVmWithItsOwnSeq() throws Exception {
        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults(),
                List.of(Traces.path("real_io.trace").toString(), Traces.path("pae32_kernel_fails.trace").toString()));

        assertEquals(Map.of("real_io", 26L, "pae32_kernel_fails", 3L), run.report().byVm());
        assertEquals(Map.of("real_io", range(26), "pae32_kernel_fails", range(3)), new HashMap<>(seqsByVm(run.events())));
    }

    @Test
    void theVmOptionMakesAllInputsOneVmWhoseSeqContinues() throws Exception {
        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults().withVm("one"),
                List.of(Traces.path("real_io.trace").toString(), Traces.path("pae32_kernel_fails.trace").toString()));

        assertEquals(Map.of("one", range(29)), seqsByVm(run.events()));
        assertEquals("pae32_kernel_fails.trace", Path.of(run.events().get(28).getSource().getOrigin()).getFileName().toString());
        assertEquals(15L, run.events().get(28).getSource().getLine());
    }

    @Test
    void standardInputIsTheVmStdin() throws Exception {
        InputStream saved = System.in;
        try {
            System.setIn(new ByteArrayInputStream(Files.readAllBytes(Traces.path("real_io.trace"))));
            MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults(), List.of("-"));
            assertEquals(Map.of("stdin", 26L), run.report().byVm());
            assertEquals("-", run.events().get(0).getSource().getOrigin());
        } finally {
            System.setIn(saved);
        }
    }

    @Test
    void vmIdsDropDirectoryAndTraceExtensions() {
        assertEquals("run1", VmAssigner.baseName("/data/traces/run1.trace.gz"));
        assertEquals("run1", VmAssigner.baseName("run1.txt"));
        assertEquals("run1", VmAssigner.baseName("run1.dat"));
        assertEquals("run1.log", VmAssigner.baseName("run1.log"));
        assertEquals("stdin", VmAssigner.baseName("-"));
    }

    @Test
    void gzipInputEqualsPlainInputRecordForRecord() throws Exception {
        for (String text : List.of(MIX, Files.readString(Traces.path("long_user_memslot.trace")))) {
            Path plain = write("same.trace", text);
            Path gz = tmp.resolve("same.trace.gz");
            try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
                out.write(text.getBytes(StandardCharsets.UTF_8));
            }
            IngestOptions options = IngestOptions.defaults().withSplitBy(SplitMode.TGID);

            MemorySinks.Run a = MemorySinks.ingest(options, List.of(plain.toString()));
            MemorySinks.Run b = MemorySinks.ingest(options, List.of(gz.toString()));

            assertEquals(a.events().size(), b.events().size());
            for (int i = 0; i < a.events().size(); i++) {
                TraceEvent x = a.events().get(i);
                TraceEvent y = b.events().get(i);
                y.getSource().setOrigin(x.getSource().getOrigin());
                assertEquals(x, y);
            }
            assertEquals(a.report().byType(), b.report().byType());
            assertEquals(a.report().byVm(), b.report().byVm());
        }
    }

    private static List<Long> range(int n) {
        return java.util.stream.LongStream.range(0, n).boxed().toList();
    }
}
