package dev.mmureplay.replayer.ingest;

import dev.mmureplay.replayer.parse.ParsedLine;
import dev.mmureplay.replayer.parse.TraceInput;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which VM a line belongs to, and each VM's dense seq counter. The rules (also in {@link Ingest}):
 *
 * <ul>
 *   <li>{@link SplitMode#NONE}: every line of an input belongs to one VM, id = --vm, else the input's file name
 *       without directory and without ".gz" and then ".trace" / ".txt" / ".dat" ("stdin" for "-"). With --vm, all
 *       inputs share that one VM and its seq continues from input to input.</li>
 *   <li>{@link SplitMode#TGID}: a line whose record-tgid column names its thread group belongs to VM
 *       {@code <base>-<tgid>} — one VM per VMM process; on current kernels KVM's worker threads (the NX-recovery
 *       "kvm-nx-lpage-re" vhost task) are in the VMM's thread group, so they need nothing more.</li>
 *   <li>An <em>unattributed</em> line — the tgid is unknown ("(-------)" or no column), or the task is a kernel
 *       thread by name ({@code kvm-*}, {@code kworker/*}, ...; see TaskInfo) with tgid == pid, as the NX-recovery
 *       kthread of older kernels — joins, among the VMs already seen in the same input: the only one; else the
 *       one whose VMM tgid is the largest tgid &lt;= the line's pid (KVM creates its worker threads from the VMM,
 *       after it, so they get higher pids); else a VM of its own, {@code <base>-<tgid or pid>}.</li>
 * </ul>
 * Decisions are made in input order (streaming): a kernel-thread line seen before any VMM line cannot be moved.
 */
final class VmAssigner {

    /** A VM and its seq counter. */
    static final class Vm {
        final String id;
        long nextSeq;

        Vm(String id) {
            this.id = id;
        }
    }

    private final IngestOptions options;
    private final Map<String, Vm> byId = new HashMap<>();
    private final List<Vm> order = new ArrayList<>();
    private final TreeMap<Integer, Vm> vmmByTgid = new TreeMap<>();
    private String base;
    private Vm inputVm;
    private int lastTgid;
    private Vm lastVm;
    private long unknownTgid;

    VmAssigner(IngestOptions options) {
        this.options = options;
    }

    void startInput(String inputName) {
        base = options.vm() != null ? options.vm() : baseName(inputName);
        inputVm = null;
        vmmByTgid.clear();
        lastVm = null;
        unknownTgid = 0;
    }

    /** Event lines of the current input that had no known tgid (TGID mode only). */
    long unknownTgidLines() {
        return unknownTgid;
    }

    Vm vmFor(ParsedLine line) {
        if (options.splitBy() == SplitMode.NONE) {
            if (inputVm == null) {
                inputVm = vm(base);
            }
            return inputVm;
        }
        boolean attributed = line.hasTgid() && !(line.tgid() == line.pid() && line.task().kernelThread());
        if (attributed) {
            int tgid = line.tgid();
            if (lastVm != null && tgid == lastTgid) {
                return lastVm;
            }
            Vm v = vmmByTgid.get(tgid);
            if (v == null) {
                v = vm(base + "-" + tgid);
                vmmByTgid.put(tgid, v);
            }
            lastTgid = tgid;
            lastVm = v;
            return v;
        }
        if (!line.hasTgid()) {
            unknownTgid++;
        }
        if (vmmByTgid.size() == 1) {
            return vmmByTgid.firstEntry().getValue();
        }
        Map.Entry<Integer, Vm> owner = vmmByTgid.floorEntry(line.pid());
        if (owner != null) {
            return owner.getValue();
        }
        return vm(base + "-" + (line.hasTgid() ? line.tgid() : line.pid()));
    }

    private Vm vm(String id) {
        Vm v = byId.get(id);
        if (v == null) {
            v = new Vm(id);
            byId.put(id, v);
            order.add(v);
        }
        return v;
    }

    List<Vm> vms() {
        return order;
    }

    /** "traces/run1.trace.gz" → "run1"; "-" → "stdin". */
    static String baseName(String inputName) {
        if (TraceInput.STDIN.equals(inputName)) {
            return "stdin";
        }
        String n = inputName;
        int slash = Math.max(n.lastIndexOf('/'), n.lastIndexOf('\\'));
        if (slash >= 0) {
            n = n.substring(slash + 1);
        }
        String full = n;
        if (n.endsWith(".gz")) {
            n = n.substring(0, n.length() - 3);
        }
        for (String ext : new String[] {".trace", ".txt", ".dat"}) {
            if (n.endsWith(ext)) {
                n = n.substring(0, n.length() - ext.length());
                break;
            }
        }
        return n.isEmpty() ? full : n;
    }
}
