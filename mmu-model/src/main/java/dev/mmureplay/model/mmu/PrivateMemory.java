package dev.mmureplay.model.mmu;

import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the fault entry needs to know about a VM with private memory that no tracepoint says: the VM type
 * (KVM_CREATE_VM), its memslots (KVM_SET_USER_MEMORY_REGION2, with or without guest_memfd) and the gfns' memory
 * attributes (KVM_SET_MEMORY_ATTRIBUTES), plus the raw error code of the last #NPF / #PF exit ({@code kvm_exit}
 * info1), which is what a kernel before 6.10 hands to the fault path. The VMM writes the ioctls as
 * {@code tracing_mark_write} markers, one line each ({@link #apply}):
 *
 * <pre>
 * mmu-replay: vm type=snp|sw-protected|default
 * mmu-replay: memslot gfn=0x100000 npages=0x1000 [gmem=1] [apic=1]   (apic=1: the APIC access page memslot, APICv inhibited)
 * mmu-replay: memslot-delete gfn=0x100000
 * mmu-replay: attr gfn=0x80003 npages=1 private=1|0
 * </pre>
 *
 * Numbers are 0x-hex or decimal. Until the first {@code memslot} marker every gfn counts as backed by a memslot
 * (hosts that do not write them, e.g. the synth nx-recovery scenario); afterwards a gfn outside every declared slot
 * has none. Deterministic (sorted maps), single-threaded, no static mutable state.
 */
public final class PrivateMemory {

    /** The marker prefix. */
    public static final String PREFIX = "mmu-replay: ";

    /** KVM_CREATE_VM type: 0 default, {@link #SW_PROTECTED}, {@link #SNP}. */
    public static final int DEFAULT = 0;
    public static final int SW_PROTECTED = 1;
    public static final int SNP = 2;

    static final long SLOT_GMEM = 1;
    static final long SLOT_APIC = 2;

    private int vmType;
    // private attribute ranges: start gfn -> end gfn (exclusive), disjoint (overlaps merged)
    private final TreeMap<Long, Long> privateRanges = new TreeMap<>();
    // memslots: start gfn -> {end gfn (exclusive), flags}
    private final TreeMap<Long, long[]> slots = new TreeMap<>();
    private boolean slotsDeclared;
    // the last kvm_exit of an #NPF / legacy #PF (vcpu, 1 = npf / 2 = PF excp, info1); exitKind 0 = none
    private int exitVcpu;
    private int exitKind;
    private long exitInfo1;

    public int vmType() {
        return vmType;
    }

    /** Whether the VM can have private memory (KVM_X86_SW_PROTECTED_VM or SEV-SNP). */
    public boolean hasPrivateMemory() {
        return vmType != DEFAULT;
    }

    /** kvm_mem_is_private(): the gfn's KVM_MEMORY_ATTRIBUTE_PRIVATE. */
    public boolean isPrivate(long gfn) {
        Map.Entry<Long, Long> e = privateRanges.floorEntry(gfn);
        return e != null && gfn < e.getValue();
    }

    /** Whether a memslot covers the gfn (always, until memslots are declared). */
    public boolean hasSlot(long gfn) {
        return !slotsDeclared || slotFlags(gfn) >= 0;
    }

    /** The slot's flags (gmem / apic) or -1 when no declared slot covers the gfn. */
    private long slotFlags(long gfn) {
        Map.Entry<Long, long[]> e = slots.floorEntry(gfn);
        return e != null && gfn < e.getValue()[0] ? e.getValue()[1] : -1;
    }

    /** kvm_slot_can_be_private(): the slot has guest_memfd (undeclared slots: whenever the VM has private memory). */
    public boolean slotGmem(long gfn) {
        if (!slotsDeclared) {
            return hasPrivateMemory();
        }
        long f = slotFlags(gfn);
        return f >= 0 && (f & SLOT_GMEM) != 0;
    }

    /** The APIC access page memslot with APICv inhibited: __kvm_faultin_pfn emulates. */
    public boolean slotEmulates(long gfn) {
        long f = slotFlags(gfn);
        return slotsDeclared && f >= 0 && (f & SLOT_APIC) != 0;
    }

    /** Records a kvm_exit; an #NPF ("npf") or legacy #PF ("PF excp") exit keeps its info1 for the next fault. */
    public void exit(int vcpu, String reason, long info1) {
        String r = reason == null ? "" : reason.trim();
        exitKind = r.equals("npf") ? 1 : r.equals("PF excp") ? 2 : 0;
        exitVcpu = vcpu;
        exitInfo1 = info1;
    }

    /** Consumes the exit of {@code vcpu}: 1 = #NPF, 2 = legacy #PF, 0 none; its info1 is {@link #exitInfo1()}. */
    public int takeExit(int vcpu) {
        int k = exitVcpu == vcpu ? exitKind : 0;
        exitKind = 0;
        return k;
    }

    public long exitInfo1() {
        return exitInfo1;
    }

    /**
     * Applies one marker text; returns a note for the step, or null when the text is not an mmu-replay command.
     *
     * @throws IllegalArgumentException never: a malformed command returns a note saying it was ignored
     */
    public String apply(String text) {
        if (text == null || !text.startsWith(PREFIX)) {
            return null;
        }
        String[] t = text.substring(PREFIX.length()).trim().split("\\s+");
        try {
            switch (t[0]) {
                case "vm" -> {
                    String type = arg(t, "type").toLowerCase(Locale.ROOT);
                    vmType = switch (type) {
                        case "snp" -> SNP;
                        case "sw-protected" -> SW_PROTECTED;
                        case "default" -> DEFAULT;
                        default -> throw new IllegalArgumentException("vm type " + type);
                    };
                    return "KVM_CREATE_VM type " + type;
                }
                case "memslot" -> {
                    long gfn = num(arg(t, "gfn"));
                    long n = num(arg(t, "npages"));
                    long flags = (flag(t, "gmem") ? SLOT_GMEM : 0) | (flag(t, "apic") ? SLOT_APIC : 0);
                    slots.put(gfn, new long[] {gfn + n, flags});
                    slotsDeclared = true;
                    return "memslot gfn " + Long.toHexString(gfn) + " +" + Long.toHexString(n);
                }
                case "memslot-delete" -> {
                    long gfn = num(arg(t, "gfn"));
                    slots.remove(gfn);
                    return "memslot at gfn " + Long.toHexString(gfn) + " deleted";
                }
                case "attr" -> {
                    long gfn = num(arg(t, "gfn"));
                    long n = num(arg(t, "npages"));
                    boolean priv = flag(t, "private");
                    setAttribute(gfn, gfn + n, priv);
                    return "KVM_SET_MEMORY_ATTRIBUTES gfn " + Long.toHexString(gfn) + " +" + Long.toHexString(n)
                            + (priv ? " private" : " shared");
                }
                default -> {
                    return "mmu-replay marker ignored (unknown command): " + text;
                }
            }
        } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException ex) {
            return "mmu-replay marker ignored (" + ex.getMessage() + "): " + text;
        }
    }

    private static String arg(String[] t, String key) {
        for (int i = 1; i < t.length; i++) {
            if (t[i].startsWith(key + "=")) {
                return t[i].substring(key.length() + 1);
            }
        }
        throw new IllegalArgumentException("missing " + key);
    }

    private static boolean flag(String[] t, String key) {
        for (int i = 1; i < t.length; i++) {
            if (t[i].startsWith(key + "=")) {
                return num(t[i].substring(key.length() + 1)) != 0;
            }
        }
        return false;
    }

    private static long num(String s) {
        return s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
    }

    /** Sets [start, end) private or shared, keeping the ranges disjoint (overlaps merged). */
    private void setAttribute(long start, long end, boolean priv) {
        if (end <= start) {
            return;
        }
        long s = start;
        long e = end;
        Map.Entry<Long, Long> lo = privateRanges.floorEntry(start);
        if (lo != null && lo.getValue() >= start) {
            privateRanges.remove(lo.getKey());
            if (lo.getKey() < start) {
                if (priv) {
                    s = lo.getKey();
                } else {
                    privateRanges.put(lo.getKey(), start);
                }
            }
            if (lo.getValue() > end) {
                if (priv) {
                    e = lo.getValue();
                } else {
                    privateRanges.put(end, lo.getValue());
                }
            }
        }
        while (true) {
            Map.Entry<Long, Long> in = privateRanges.ceilingEntry(start);
            if (in == null || in.getKey() >= end) {
                break;
            }
            privateRanges.remove(in.getKey());
            if (in.getValue() > end) {
                if (priv) {
                    e = in.getValue();
                } else {
                    privateRanges.put(end, in.getValue());
                }
            }
        }
        if (priv) {
            privateRanges.put(s, e);
        }
    }

    /** Order-sensitive digest. */
    public void digestInto(Digest d) {
        d.add(vmType).add(slotsDeclared).add(exitVcpu).add(exitKind).add(exitInfo1).add(privateRanges.size());
        for (Map.Entry<Long, Long> e : privateRanges.entrySet()) {
            d.add(e.getKey()).add(e.getValue());
        }
        d.add(slots.size());
        for (Map.Entry<Long, long[]> e : slots.entrySet()) {
            d.add(e.getKey()).add(e.getValue()[0]).add(e.getValue()[1]);
        }
    }

    /**
     * Snapshot (part of the "tdp" section, after {@link TdpMmu}'s own fields): vmType, slotsDeclared, exitVcpu,
     * exitKind, exitInfo1 (word), the private ranges (count, start, end), the memslots (count, start, end,
     * flags), each map in ascending key order. Everything is state; nothing is derived.
     */
    void writeTo(SnapshotOutput out) {
        out.uvarint(vmType);
        out.bool(slotsDeclared);
        out.uvarint(exitVcpu);
        out.uvarint(exitKind);
        out.word(exitInfo1);
        out.uvarint(privateRanges.size());
        for (Map.Entry<Long, Long> e : privateRanges.entrySet()) {
            out.word(e.getKey());
            out.word(e.getValue());
        }
        out.uvarint(slots.size());
        for (Map.Entry<Long, long[]> e : slots.entrySet()) {
            out.word(e.getKey());
            out.word(e.getValue()[0]);
            out.uvarint(e.getValue()[1]);
        }
    }

    static PrivateMemory readFrom(SnapshotInput in) throws IOException {
        PrivateMemory p = new PrivateMemory();
        p.vmType = in.uint(SNP, "vm type");
        p.slotsDeclared = in.bool();
        p.exitVcpu = in.uint(Integer.MAX_VALUE, "exit vcpu");
        p.exitKind = in.uint(2, "exit kind");
        p.exitInfo1 = in.word();
        int n = in.count(2, "private ranges");
        for (int i = 0; i < n; i++) {
            long s = in.word();
            p.privateRanges.put(s, in.word());
        }
        int m = in.count(3, "memslots");
        for (int i = 0; i < m; i++) {
            long s = in.word();
            long e = in.word();
            p.slots.put(s, new long[] {e, in.uint(3, "memslot flags")});
        }
        return p;
    }
}
