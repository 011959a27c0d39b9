package dev.mmureplay.model;

import dev.mmureplay.model.event.EventKind;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.event.ShadowPageInfo;
import dev.mmureplay.model.mmu.MmuPageRole;
import dev.mmureplay.model.mmu.Spte;
import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;

/**
 * One predicted effect waiting for its recorded counterpart. Pooled and reused (no allocation per prediction);
 * fields are interpreted per kind:
 * <ul>
 *   <li>SET_ACCESSED_BIT / SET_DIRTY_BIT: a = gpa (-1 unknown)</li>
 *   <li>WALKER_ERROR: a = pferr</li>
 *   <li>INJECTED_EXCEPTION: a = vector, b = error code</li>
 *   <li>GET_PAGE / SYNC / UNSYNC / PREPARE_ZAP: a = gen, b = gfn, c = role word, d = root count, e = unsync | created&lt;&lt;1</li>
 *   <li>SPTE_REQUESTED: a = gfn, c = level</li>
 *   <li>SET_SPTE: a = gfn, b = spte, c = level, d = alternative spte, e = access (prefetch)</li>
 *   <li>ZAP_ALL_FAST: a = gen, b = used pages</li>
 *   <li>MARK_MMIO_SPTE: a = gfn, b = printed access, c = gen, d = access for make_mmio_spte</li>
 *   <li>CHECK_MMIO_SPTE: a = spte, b = spte gen, c = fault addr, d = gfn, e = mmio access</li>
 *   <li>HANDLE_MMIO_PAGE_FAULT: a = addr, b = gfn, c = access</li>
 *   <li>TDP_MMU_SPTE_CHANGED: a = gfn, b = old spte, c = level, d = new spte, e = as id</li>
 *   <li>SPLIT_HUGE_PAGE: a = gfn, b = huge spte, c = level</li>
 *   <li>USERSPACE_EXIT (predicted -errno of KVM_RUN after a TDP fault): a = errno</li>
 * </ul>
 */
final class Expected {

    static final int OPTIONAL = 1;
    /** Prefetch of a guest PTE the model never saw: any set_spte at this SPTE offset, adopted (learned). */
    static final int WILDCARD = 2;
    static final int PREFETCH = 4;
    /** The whole effect is learned (its trigger is not in the trace): adopt, do not count as a prediction. */
    static final int LEARNED = 8;
    /** spte_requested level not predicted exactly (possible host huge mapping). */
    static final int LEVEL_LEARNED = 16;
    /** set_spte of the fault itself (host writability may be learned through the alternative). */
    static final int FAULT_SPTE = 32;
    /** Host writability of the pfn unknown: the alternative SPTE is acceptable (and learned). */
    static final int ALT_OK = 64;
    /** The root gfn/role of a get_page is learned (untraced CR3 / role change). */
    static final int GFN_LEARNED = 128;
    /** A TDP MMU prediction (spId = TdpMmu page id; SPTE_REQUESTED: d = fault error code). */
    static final int TDP = 256;
    /** A TDP fault without memslot (MMIO caching on): spte_requested's map installs an MMIO SPTE. */
    static final int NOSLOT = 512;

    EventKind kind;
    int flags;
    int vcpu;
    long a;
    long b;
    long c;
    long d;
    long e;
    int spId;
    int index;
    String note;

    void clear() {
        kind = null;
        flags = 0;
        vcpu = -1;
        a = b = c = d = e = 0;
        spId = -1;
        index = -1;
        note = null;
    }

    boolean has(int f) {
        return (flags & f) != 0;
    }

    /**
     * Snapshot (format v2) of a queued prediction: kind (as its index in the queue's kind table, which the machine
     * writes by enum name so reordering {@link EventKind} does not change the format), flags, vcpu (zig-zag), a, b,
     * c, d, e ({@link SnapshotOutput#word}: gfns, -1 sentinels and SPTEs alike), spId, index (zig-zag), note
     * (nullable string). Only queued entries are written; the pooled entries outside the queue are scratch
     * ({@code push} clears them).
     */
    void writeTo(SnapshotOutput out, int kindIndex) {
        out.uvarint(kindIndex);
        out.uvarint(flags & 0xffffffffL);
        out.svarint(vcpu);
        out.word(a);
        out.word(b);
        out.word(c);
        out.word(d);
        out.word(e);
        out.svarint(spId);
        out.svarint(index);
        out.nullableString(note);
    }

    /** Reads a prediction written by {@link #writeTo} into this pooled entry; {@code kinds} is the kind table. */
    void readFrom(SnapshotInput in, EventKind[] kinds) throws IOException {
        clear();
        kind = kinds[in.uint(kinds.length - 1, "prediction kind index")];
        long f = in.uvarint();
        if (f < 0 || f > 0xffffffffL) {
            throw in.corrupt("prediction flags " + Long.toUnsignedString(f));
        }
        flags = (int) f;
        vcpu = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "prediction vcpu");
        a = in.word();
        b = in.word();
        c = in.word();
        d = in.word();
        e = in.word();
        spId = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "prediction page id");
        index = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "prediction SPTE index");
        note = in.nullableString();
    }

    /** The prediction as a ModelEvent (seq = -1), for reports. */
    ModelEvent toEvent(Spte.Masks masks) {
        long s = ModelEvent.PREDICTED;
        return switch (kind) {
            case SET_ACCESSED_BIT -> new ModelEvent.SetAccessedBit(s, vcpu, a);
            case SET_DIRTY_BIT -> new ModelEvent.SetDirtyBit(s, vcpu, a);
            case WALKER_ERROR -> new ModelEvent.WalkerError(s, vcpu, a);
            case INJECTED_EXCEPTION -> new ModelEvent.InjectedException(s, vcpu, (int) a, b);
            case GET_PAGE -> new ModelEvent.GetPage(s, vcpu, spInfo(), (e & 2) != 0);
            case SYNC_PAGE -> new ModelEvent.SyncPage(s, vcpu, spInfo());
            case UNSYNC_PAGE -> new ModelEvent.UnsyncPage(s, vcpu, spInfo());
            case PREPARE_ZAP_PAGE -> new ModelEvent.PrepareZapPage(s, vcpu, spInfo());
            case SPTE_REQUESTED -> new ModelEvent.SpteRequested(s, vcpu, a, ModelEvent.UNKNOWN, (int) c);
            case SET_SPTE -> new ModelEvent.SetSpte(s, vcpu, a, b, has(WILDCARD) ? "????"
                    : Spte.permissionLetters(masks, b), (int) c, index < 0 ? ModelEvent.UNKNOWN : index * 8L);
            case ZAP_ALL_FAST -> new ModelEvent.ZapAllFast(s, vcpu, a, b);
            case MARK_MMIO_SPTE -> new ModelEvent.MarkMmioSpte(s, vcpu, ModelEvent.UNKNOWN, a, (int) b, c);
            case CHECK_MMIO_SPTE -> new ModelEvent.CheckMmioSpte(s, vcpu, a, ModelEvent.UNKNOWN, b, false);
            case HANDLE_MMIO_PAGE_FAULT -> new ModelEvent.HandleMmioPageFault(s, vcpu, a, b, (int) c);
            case TDP_MMU_SPTE_CHANGED -> new ModelEvent.TdpMmuSpteChanged(s, vcpu, (int) e, a, (int) c, b, d);
            case SPLIT_HUGE_PAGE -> new ModelEvent.SplitHugePage(s, vcpu, a, b, (int) c, 0);
            case USERSPACE_EXIT -> new ModelEvent.UserspaceExit(s, vcpu, "error", (int) a);
            default -> new ModelEvent.Other(s, vcpu, kind.tracepoint(), "");
        };
    }

    ShadowPageInfo spInfo() {
        int role = (int) c;
        return new ShadowPageInfo(a, b, MmuPageRole.level(role), MmuPageRole.has4ByteGpte(role),
                MmuPageRole.quadrant(role), MmuPageRole.direct(role), MmuPageRole.access(role),
                MmuPageRole.invalid(role), MmuPageRole.eferNx(role), MmuPageRole.adDisabled(role),
                MmuPageRole.cr0Wp(role) ? 1 : 0, (int) d, (e & 1) != 0);
    }
}
