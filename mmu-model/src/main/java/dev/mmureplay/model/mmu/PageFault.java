package dev.mmureplay.model.mmu;

import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;

/**
 * {@code struct kvm_page_fault} for the fault in progress on one vCPU, plus the shadow-walk cursor between the two
 * halves of FNAME(fetch) / direct_map (before and after the host pfn is known from kvm_mmu_spte_requested).
 */
public final class PageFault {

    public enum Stage { NONE, ARMED, REQUESTED, DONE }

    Stage stage = Stage.NONE;
    long addr;
    long errorCode;
    boolean write;
    boolean user;
    boolean exec;
    boolean present;
    /** Shadow paging (walk) fault vs. direct (non-paging) fault. */
    boolean indirect;
    long gfn;
    /** Guest leaf level (walker.level) or max level for direct faults. */
    int maxLevel;
    int goalLevel;
    /** True when the goal level was predicted exactly (not a host-mapping-level guess). */
    boolean goalExact;
    int pteAccess;
    int directAccess;
    /** Shadow-walk cursor: the page and level reached by the first loop. */
    int cursorSp;
    int cursorLevel;
    long pfn;
    /** gw->prefetch_ptes: the 8 guest PTEs of the leaf group, valid bits in prefetchKnown. */
    final long[] prefetchPtes = new long[8];
    int prefetchKnown;
    boolean prefetchRead;

    public Stage stage() {
        return stage;
    }

    public long gfn() {
        return gfn;
    }

    public int goalLevel() {
        return goalLevel;
    }

    public boolean goalExact() {
        return goalExact;
    }

    void reset() {
        stage = Stage.NONE;
        prefetchKnown = 0;
        prefetchRead = false;
    }

    // ============================================================================================ snapshot (v2)

    private static final int F_WRITE = 1;
    private static final int F_USER = 2;
    private static final int F_EXEC = 4;
    private static final int F_PRESENT = 8;
    private static final int F_INDIRECT = 16;
    private static final int F_GOAL_EXACT = 32;
    private static final int F_PREFETCH_READ = 64;
    private static final int F_ALL = 127;

    /** Stage codes of the snapshot format (explicit, not the enum ordinal). */
    private static int stageCode(Stage s) {
        return switch (s) {
            case NONE -> 0;
            case ARMED -> 1;
            case REQUESTED -> 2;
            case DONE -> 3;
        };
    }

    /**
     * Snapshot (format v2): the fault in progress survives between events (armed by a walk, fired by a later
     * effect), so every field is written. Order: stage code (NONE 0, ARMED 1, REQUESTED 2, DONE 3), addr, errorCode,
     * flags (write 1, user 2, exec 4, present 8, indirect 16, goalExact 32, prefetchRead 64), gfn, maxLevel,
     * goalLevel, pteAccess, directAccess, cursorSp, cursorLevel, pfn (all zig-zag), prefetchKnown (8-bit mask), then
     * the prefetch PTEs whose bit is set (bits64) — the others are never read.
     */
    void writeTo(SnapshotOutput out) {
        out.uvarint(stageCode(stage));
        out.svarint(addr);
        out.svarint(errorCode);
        out.uvarint((write ? F_WRITE : 0) | (user ? F_USER : 0) | (exec ? F_EXEC : 0) | (present ? F_PRESENT : 0)
                | (indirect ? F_INDIRECT : 0) | (goalExact ? F_GOAL_EXACT : 0)
                | (prefetchRead ? F_PREFETCH_READ : 0));
        out.svarint(gfn);
        out.svarint(maxLevel);
        out.svarint(goalLevel);
        out.svarint(pteAccess);
        out.svarint(directAccess);
        out.svarint(cursorSp);
        out.svarint(cursorLevel);
        out.svarint(pfn);
        out.uvarint(prefetchKnown & 0xff);
        for (int i = 0; i < prefetchPtes.length; i++) {
            if ((prefetchKnown & (1 << i)) != 0) {
                out.bits64(prefetchPtes[i]);
            }
        }
    }

    /** Reads the fields written by {@link #writeTo} into this (fresh) fault. */
    void readFrom(SnapshotInput in) throws IOException {
        int st = in.uint(3, "fault stage");
        stage = switch (st) {
            case 0 -> Stage.NONE;
            case 1 -> Stage.ARMED;
            case 2 -> Stage.REQUESTED;
            default -> Stage.DONE;
        };
        addr = in.svarint();
        errorCode = in.svarint();
        int f = in.uint(F_ALL, "fault flags");
        write = (f & F_WRITE) != 0;
        user = (f & F_USER) != 0;
        exec = (f & F_EXEC) != 0;
        present = (f & F_PRESENT) != 0;
        indirect = (f & F_INDIRECT) != 0;
        goalExact = (f & F_GOAL_EXACT) != 0;
        prefetchRead = (f & F_PREFETCH_READ) != 0;
        gfn = in.svarint();
        maxLevel = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "fault max level");
        goalLevel = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "fault goal level");
        pteAccess = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "fault pte access");
        directAccess = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "fault direct access");
        cursorSp = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "fault cursor page");
        cursorLevel = in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "fault cursor level");
        pfn = in.svarint();
        prefetchKnown = in.uint(0xff, "fault prefetch mask");
        for (int i = 0; i < prefetchPtes.length; i++) {
            prefetchPtes[i] = (prefetchKnown & (1 << i)) != 0 ? in.bits64() : 0;
        }
    }
}
