package dev.mmureplay.model;

import dev.mmureplay.model.event.EventKind;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.event.ShadowPageInfo;
import dev.mmureplay.model.mmu.CrState;
import dev.mmureplay.model.mmu.Digest;
import dev.mmureplay.model.mmu.FaultAccess;
import dev.mmureplay.model.mmu.FaultEntry;
import dev.mmureplay.model.mmu.GuestPagingMode;
import dev.mmureplay.model.mmu.GuestWalker;
import dev.mmureplay.model.mmu.LongIntMap;
import dev.mmureplay.model.mmu.MemslotGeneration;
import dev.mmureplay.model.mmu.MmuPageRole;
import dev.mmureplay.model.mmu.MmuTrace;
import dev.mmureplay.model.mmu.PageFault;
import dev.mmureplay.model.mmu.PageFaultErrorCode;
import dev.mmureplay.model.mmu.PrivateMemory;
import dev.mmureplay.model.mmu.ShadowMmu;
import dev.mmureplay.model.mmu.ShadowPage;
import dev.mmureplay.model.mmu.Spte;
import dev.mmureplay.model.mmu.TdpMmu;
import dev.mmureplay.model.mmu.VcpuMmu;
import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A deterministic model of the Linux KVM x86 shadow MMU (tdp_mmu=N) that replays a trace of {@link ModelEvent}s
 * (DESIGN §4): stimuli produce predicted effects, recorded effects are checked against them.
 *
 * <pre>
 * MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, ModelConfig.DEFAULT);
 * ReplayStep step = m.apply(event);   // in seq order, one VM per machine
 * long digest = m.digest();           // order-sensitive hash of the whole state
 * </pre>
 *
 * <p>Pure and single-threaded: no clocks, no randomness, no static mutable state, no iteration over hash order.
 * The same events give the same steps and digests on every run and machine.
 */
public final class MmuStateMachine {

    private static final int QUEUE_INIT = 64;
    private static final long ADDR_MASK = Spte.SPTE_BASE_ADDR_MASK;

    private final Profile profile;
    private final ModelConfig config;
    private final Spte.Masks masks;
    private final ShadowMmu mmu;
    private final Sink sink = new Sink();
    // the TDP MMU (host tdp=true; null on a shadow-paging host) and what it traces
    private final TdpMmu tdp;
    private final TdpSink tdpSink = new TdpSink();
    // per-apply scratch: model-derived effects appended after the step's predicted effects (stale-TLB windows);
    // reused lists, emptied at the start of every apply (no list allocated per event)
    private final ArrayList<ModelEvent> stepDerived = new ArrayList<>();

    // expectation queue (ring of pooled objects)
    private Expected[] ring = new Expected[QUEUE_INIT];
    private int qHead;
    private int qSize;

    // learned host fact: pfns seen mapped without host write access (the shared zero page, KSM pages); any other
    // pfn's writability is unknown until it is mapped (kept small: one entry per read-only pfn, not per pfn)
    private final LongIntMap pfnReadOnly = new LongIntMap(-1);
    // per-vCPU pending #PF injection after a walker error (vector<<40 | code), -1 none
    private long[] pendingInj = new long[1];
    // learned PAE roots counter for PAE guests
    private int learnedPaeIndex;
    // learned host fact: the memslot generation (kvm_memslots()->generation & MMIO gen mask) from mark_mmio_spte /
    // check_mmio_spte; memslot ioctls are not traced. -1 unknown
    private long mmioGen = -1;
    // profile mmio-gen-bit11: the first MMU_PRESENT series' MMIO generation layout (bits 3-11 + 52-62)
    private final boolean genBit11;
    // profile pae-root-default-pdpte: PAE roots are one ordinary level-3 shadow page (MmuPageRole.PAE_ROOT)
    private final boolean paeRootPage;

    // step accumulation: per-apply scratch, reset at the start of every apply (not snapshot state); reused lists,
    // copied into the step only when non-empty (see effects)
    private final ArrayList<ModelEvent> stepPredicted = new ArrayList<>();
    private final ArrayList<ModelEvent> stepMissed = new ArrayList<>();
    private String stepNote;
    // set and cleared again within one operation (learnRoot, an untraced zap), always 0 between apply calls
    private int learnNextGetPage;
    private long events;

    private MmuStateMachine(Profile profile, ModelConfig config) {
        this(profile, config, masksFor(config), null, null);
    }

    /** A machine over {@code mmu} (a fresh one when null) whose masks are {@code masks}. */
    private MmuStateMachine(Profile profile, ModelConfig config, Spte.Masks masks, ShadowMmu mmu, TdpMmu tdp) {
        this.profile = profile;
        this.config = config;
        this.masks = masks;
        this.genBit11 = profile.has(Profile.Switch.MMIO_GEN_BIT11);
        this.paeRootPage = profile.has(Profile.Switch.PAE_ROOT_DEFAULT_PDPTE);
        this.mmu = mmu != null ? mmu : new ShadowMmu(masks, config.nxHugePages(), config.guestMaxPhyAddr(),
                config.guestGbPages(), config.guestAmd());
        this.tdp = tdp != null ? tdp : config.tdp() ? new TdpMmu(masks, isEpt(config), config.nxHugePages()) : null;
        for (int i = 0; i < ring.length; i++) {
            ring[i] = new Expected();
        }
        java.util.Arrays.fill(pendingInj, -1);
    }

    private static Spte.Masks masksFor(ModelConfig config) {
        if (isEpt(config)) {
            // kvm_mmu_set_ept_masks(enable_ept_ad_bits, cpu_has_vmx_ept_execute_only())
            return Spte.Masks.ept(true, true, config.mmioCaching());
        }
        return Spte.Masks.nonEpt(config.hostMaxPhyAddr(), config.mmioCaching());
    }

    private static boolean isEpt(ModelConfig config) {
        return config.tdp() && config.tdpEncoding() == ModelConfig.TdpEncoding.EPT;
    }

    /** A fresh VM under the given profile and host/guest configuration. */
    public static MmuStateMachine create(Profile profile, ModelConfig config) {
        return new MmuStateMachine(profile, config);
    }

    /** A fresh VM with the upstream profile and the default (recording host) configuration. */
    public static MmuStateMachine create() {
        return create(Profile.UPSTREAM, ModelConfig.DEFAULT);
    }

    public Profile profile() {
        return profile;
    }

    public ModelConfig config() {
        return config;
    }

    /** The shadow MMU state (read access for tests and tools). */
    public ShadowMmu mmu() {
        return mmu;
    }

    public Spte.Masks masks() {
        return masks;
    }

    /** The TDP MMU state (host tdp=true), or null on a shadow-paging host. */
    public TdpMmu tdp() {
        return tdp;
    }

    /**
     * Writes the whole model state as a versioned binary snapshot (first byte = format version; see
     * {@link ModelSnapshot} for the format, its guarantees and how it evolves). Self-contained (profile and config
     * by value) and deterministic: equal states give equal bytes.
     */
    public void writeSnapshot(java.io.DataOutput out) throws java.io.IOException {
        ModelSnapshot.write(this, out);
    }

    /**
     * Restores a model written by {@link #writeSnapshot}; replaying the remaining events on it gives the same steps
     * and digests as an uninterrupted run. Reads exactly the snapshot's bytes, nothing after them. An unknown format
     * version, a truncated or corrupt stream, or a restored state whose digest differs from the stored one is an
     * {@link java.io.IOException} naming the cause (and the section being read).
     */
    public static MmuStateMachine readSnapshot(java.io.DataInput in) throws java.io.IOException {
        return ModelSnapshot.read(in);
    }

    // ============================================================================================ snapshot (v2)

    /**
     * Snapshot (format v2), section "machine": the replay engine's own state. Order: events applied, mmioGen,
     * learnedPaeIndex (zig-zag), the pending #PF injections (slot count, then each slot zig-zag, -1 = none; the slot
     * count is state: the digest covers every slot), the learned read-only pfns ({@link LongIntMap#writeTo}), then
     * the prediction queue: its kind table (count, enum names in order of first appearance), its length and the
     * entries oldest first ({@link Expected#writeTo}).
     *
     * <p>Not written: profile and config (section "config"), the derived {@code masks}, {@code genBit11} and
     * {@code paeRootPage} (from the profile), the
     * stateless sink, the ring's capacity and head position (the queue is restored from index 0), and the per-apply
     * scratch {@code stepPredicted}, {@code stepMissed}, {@code stepNote}, {@code stepDerived} (reset at the start of
     * every apply) and {@code learnNextGetPage} (0 between apply calls). The TDP MMU ({@code tdp}) has its own
     * section ({@link TdpMmu#writeTo}); {@code tdpSink} is stateless.
     */
    void writeTo(SnapshotOutput out) {
        out.uvarint(events);
        out.svarint(mmioGen);
        out.svarint(learnedPaeIndex);
        out.uvarint(pendingInj.length);
        for (long p : pendingInj) {
            out.svarint(p);
        }
        pfnReadOnly.writeTo(out);
        // the queue: its kinds (names, in order of first appearance), then the entries oldest first
        List<EventKind> kinds = new ArrayList<>();
        for (int i = 0; i < qSize; i++) {
            if (!kinds.contains(at(i).kind)) {
                kinds.add(at(i).kind);
            }
        }
        out.uvarint(kinds.size());
        for (EventKind k : kinds) {
            out.string(k.name());
        }
        out.uvarint(qSize);
        for (int i = 0; i < qSize; i++) {
            at(i).writeTo(out, kinds.indexOf(at(i).kind));
        }
    }

    /**
     * Rebuilds a machine from its snapshot sections (see {@link ModelSnapshot}): the "machine" section of
     * {@link #writeTo} and the four {@link ShadowMmu} sections. The caller checks each section's end.
     */
    static MmuStateMachine readFrom(Profile profile, ModelConfig config, SnapshotInput machine, SnapshotInput mmuState,
                                    SnapshotInput pages, SnapshotInput vcpus, SnapshotInput guestMemory,
                                    SnapshotInput tdpState)
            throws IOException {
        Spte.Masks masks = masksFor(config);
        ShadowMmu mmu = ShadowMmu.readFrom(masks, config.nxHugePages(), config.guestMaxPhyAddr(),
                config.guestGbPages(), config.guestAmd(), mmuState, pages, vcpus, guestMemory);
        TdpMmu t = tdpState == null ? null : TdpMmu.readFrom(masks, isEpt(config), config.nxHugePages(), tdpState);
        if (config.tdp() != (t != null)) {
            throw machine.corrupt("tdp section " + (t == null ? "missing" : "present") + " with tdp=" + config.tdp());
        }
        MmuStateMachine m = new MmuStateMachine(profile, config, masks, mmu, t);
        m.events = machine.ulong("event count");
        m.mmioGen = machine.svarint();
        m.learnedPaeIndex = machine.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, "learned PAE root index");
        int n = machine.count(1, "pending injections");
        if (n < 1) {
            throw machine.corrupt("no pending-injection slot");
        }
        m.pendingInj = new long[n];
        for (int i = 0; i < n; i++) {
            m.pendingInj[i] = machine.svarint();
        }
        m.pfnReadOnly.readFrom(machine, "read-only pfns");
        int nk = machine.count(2, "prediction kinds");
        EventKind[] kinds = new EventKind[nk];
        for (int i = 0; i < nk; i++) {
            String k = machine.string();
            try {
                kinds[i] = EventKind.valueOf(k);
            } catch (IllegalArgumentException ex) {
                throw machine.corrupt("unknown event kind '" + k + "' in the prediction queue");
            }
        }
        int q = machine.count(11, "queued predictions");   // an entry is at least 11 bytes
        if (q > 0 && nk == 0) {
            throw machine.corrupt("queued predictions without a kind table");
        }
        int cap = QUEUE_INIT;
        while (cap < q) {
            cap <<= 1;
        }
        if (cap > m.ring.length) {
            m.ring = new Expected[cap];
            for (int i = 0; i < cap; i++) {
                m.ring[i] = new Expected();
            }
        }
        for (int i = 0; i < q; i++) {
            m.ring[i].readFrom(machine, kinds);
        }
        m.qHead = 0;
        m.qSize = q;
        return m;
    }

    /** Number of events applied. */
    public long eventCount() {
        return events;
    }

    // ============================================================================================ apply

    /**
     * Applies one event: a stimulus updates the state and queues the effects it predicts; a recorded effect is
     * checked against the queued predictions (or, when its trigger is not in the trace, against the state).
     */
    public ReplayStep apply(ModelEvent e) {
        events++;
        stepPredicted.clear();
        stepMissed.clear();
        stepNote = null;
        stepDerived.clear();
        if (tdp != null && e instanceof ModelEvent.KvmPageFault f) {
            return onTdpPageFault(f);
        }
        if (e instanceof ModelEvent.PagingElement p) {
            return onElement(p);   // the most frequent event: a class check instead of the kind() interface call
        }
        EventKind kind = e.kind();   // once per event; passed down (an interface call on a many-class hierarchy)
        ReplayStep step;
        switch (kind) {
            case PAGETABLE_WALK -> step = onWalk((ModelEvent.PageTableWalk) e);
            case PAGING_ELEMENT -> step = onElement((ModelEvent.PagingElement) e);
            case KVM_PAGE_FAULT -> step = onKvmPageFault((ModelEvent.KvmPageFault) e);
            case KVM_CR -> step = onCr((ModelEvent.KvmCr) e);
            case MEMSLOT_CHANGE -> step = onMemslot((ModelEvent.MemslotChange) e);
            case USERSPACE_EXIT -> {
                if (tdp != null && find(e, kind) >= 0) {
                    step = onEffect(e, kind);   // the exit a fault's -EFAULT predicted (FaultEntry)
                } else {
                    boundary(e.vcpuOrZero(), true);
                    step = stimulusStep();
                }
            }
            case KVM_EXIT -> {
                boundary(e.vcpuOrZero(), true);
                if (tdp != null) {
                    ModelEvent.KvmExit x = (ModelEvent.KvmExit) e;
                    tdp.memory().exit(x.vcpuOrZero(), x.reason(), x.info1());   // raw error code for the fault
                }
                step = stimulusStep();
            }
            case EMULATE_INSN, MMIO, PIO -> {
                boundary(e.vcpuOrZero(), true);
                step = stimulusStep();
            }
            case UNMAP_HVA_RANGE -> {
                // host MMU notifier: no guest entry implied; the zapped SPTEs are untraced (see README)
                boundary(e.vcpuOrZero(), false);
                step = stimulusStep();
            }
            case MARKER, OTHER -> {
                boundary(e.vcpuOrZero(), false);
                if (e instanceof ModelEvent.Marker mk && MemslotGeneration.isUpdate(mk.text())) {
                    onMemslotUpdate();   // mmu-replay: memslot-update (MemslotGeneration)
                } else if (tdp != null && e instanceof ModelEvent.Marker mk) {
                    stepNote = tdp.memory().apply(mk.text());   // mmu-replay: vm / memslot / attr (PrivateMemory)
                }
                step = stepPredicted.isEmpty() && stepMissed.isEmpty() && stepNote == null ? ReplayStep.CONTEXT
                        : new ReplayStep(ReplayStep.Outcome.CONTEXT, null, List.of(), effects(stepPredicted),
                        effects(stepMissed), stepNote);
            }
            default -> step = onEffect(e, kind);
        }
        return step;
    }

    /**
     * An immutable copy of a scratch effect list. The usual zero to two effects become {@code List.of(..)} directly
     * (no intermediate array), which {@link ReplayStep}'s {@code List.copyOf} then keeps as it is.
     */
    private static List<ModelEvent> effects(ArrayList<ModelEvent> l) {
        return switch (l.size()) {
            case 0 -> List.of();
            case 1 -> List.of(l.get(0));
            case 2 -> List.of(l.get(0), l.get(1));
            default -> List.copyOf(l);
        };
    }

    private ReplayStep stimulusStep() {
        if (stepPredicted.isEmpty() && stepMissed.isEmpty() && stepNote == null) {
            return ReplayStep.STIMULUS;
        }
        return new ReplayStep(ReplayStep.Outcome.STIMULUS, null, List.of(), effects(stepPredicted),
                effects(stepMissed), stepNote);
    }

    /**
     * A new stimulus: predictions still queued lapse (non-optional ones are reported missed), the vCPU's armed
     * fault lapses, and a vCPU stimulus proves the vCPU entered the guest (pending requests were serviced).
     */
    private void boundary(int vcpu, boolean vcpuStimulus) {
        flushQueue();
        VcpuMmu v = mmu.vcpu(vcpu);
        lapseFault(v);
        if (vcpuStimulus && hasPendingRequests(v)) {
            enterGuest(v);
            flushQueue();
        }
    }

    private void lapseFault(VcpuMmu v) {
        PageFault f = v.fault();
        if (f.stage() == PageFault.Stage.ARMED && FaultAccess.indirect(f) && FaultAccess.write(f)) {
            // the write walk was not a page fault that KVM fixed: the emulator performs the write
            mmu.trackWrite(v, (f.gfn() << 12) | (FaultAccess.addr(f) & 0xfff));
        }
        if (f.stage() != PageFault.Stage.NONE) {
            resetFault(f);
        }
    }

    // ============================================================================================ stimuli

    private ReplayStep onWalk(ModelEvent.PageTableWalk w) {
        int vid = w.vcpuOrZero();
        boundary(vid, true);
        VcpuMmu v = mmu.vcpu(vid);
        missInjection(vid);
        if (!v.paging() || v.mode() == null) {
            // a guest walk proves paging is on: assume the configured default (long mode) until a root says more
            setPagingMode(v, 4, false, false);
        }
        v.walker().begin(v.mode(), w.addr(), w.pferr(), v.cr3Gfn());
        return ReplayStep.STIMULUS;
    }

    private ReplayStep onElement(ModelEvent.PagingElement p) {
        VcpuMmu v = mmu.vcpu(p.vcpuOrZero());
        GuestWalker wk = v.walker();
        if (!wk.active()) {
            return ReplayStep.CONTEXT;
        }
        int r = wk.feed(p.pte(), p.level(), v.permissions(), false, 0, mmu.guestMemory());
        if (r == GuestWalker.UNEXPECTED) {
            // the element's level tells the real paging mode (first element of the walk)
            int lvl = p.level();
            if (lvl >= 2 && lvl <= 5) {
                setPagingMode(v, lvl, lvl == 2, lvl == 3);
                wk.begin(v.mode(), wk.addr(), wk.access(), v.cr3Gfn());
                r = wk.feed(p.pte(), p.level(), v.permissions(), false, 0, mmu.guestMemory());
                stepNote = "learned: guest paging level " + lvl + " from the walk";
            }
            if (r == GuestWalker.UNEXPECTED) {
                wk.reset();
                return ReplayStep.CONTEXT;
            }
        }
        if (r == GuestWalker.DONE) {
            walkDone(v, p.vcpu());
        }
        return stimulusStep();
    }

    /** Queues the outcome of a completed guest walk and arms the fault path. */
    private void walkDone(VcpuMmu v, int vcpu) {
        GuestWalker wk = v.walker();
        if (wk.failed()) {
            Expected x = push(EventKind.WALKER_ERROR, vcpu);
            x.a = wk.errorCode();
            pendingInjection(v.id(), PageFaultErrorCode.PF_VECTOR, wk.errorCode());
            return;
        }
        for (int i = 0; i < wk.adCount(); i++) {
            Expected x = push(wk.adIsDirty(i) ? EventKind.SET_DIRTY_BIT : EventKind.SET_ACCESSED_BIT, vcpu);
            x.a = wk.adGpa(i);
        }
        armIndirectFault(v);
    }

    private ReplayStep onKvmPageFault(ModelEvent.KvmPageFault f) {
        int vid = f.vcpuOrZero();
        boundary(vid, true);
        VcpuMmu v = mmu.vcpu(vid);
        if (!v.paging() && v.modeKnown()) {
            armDirectFault(v, f.addr(), f.errorCode());
        } else if ((f.errorCode() & PageFaultErrorCode.RSVD) != 0 && masks.mmioCachingEnabled() && v.hasRoot()) {
            // kvm_mmu_page_fault (6.10+): a private RSVD fault WARNs, -EFAULT, no MMIO cache (FaultEntry)
            if (FaultEntry.kvmMmuPageFaultRsvd(f.errorCode(), false) == FaultEntry.Outcome.EFAULT) {
                stepNote = "kvm_mmu_page_fault: RSVD with PFERR_PRIVATE_ACCESS → WARN, -EFAULT (no MMIO cache)";
                return stimulusStep();
            }
            handleMmioPageFault(v, f.addr());
            return stimulusStep();
        }
        return ReplayStep.STIMULUS;
    }

    /**
     * handle_mmio_page_fault() (RSVD fault, shadow paging): get_mmio_spte walks the shadow table; reserved bits on
     * an MMU-present SPTE → -EINVAL (nothing traced); an MMIO SPTE → check_mmio_spte, then (generation valid)
     * handle_mmio_page_fault + emulation, or (stale) RET_PF_INVALID → the full fault path; otherwise RETRY.
     */
    private void handleMmioPageFault(VcpuMmu v, long addr) {
        long spte = mmu.mmioWalkSpte(v, addr);
        if (Spte.isShadowPresent(spte)) {
            if (Spte.rsvdAddrBitsSet(spte, config.hostMaxPhyAddr())) {
                // get_mmio_spte: "detect reserved bits" on an MMU-present SPTE (an MMIO SPTE whose generation
                // overlaps bit 11 under mmio-gen-bit11) → -EINVAL, no check_mmio_spte
                stepNote = "get_mmio_spte: reserved bits on an MMU-present SPTE " + Long.toHexString(spte)
                        + " → -EINVAL";
            }
            return;
        }
        if (!Spte.isMmio(masks, spte)) {
            return;   // the SPTE changed under the fault: RET_PF_RETRY
        }
        Expected x = push(EventKind.CHECK_MMIO_SPTE, v.id());
        x.a = spte;
        x.b = Spte.mmioGeneration(spte, genBit11);
        x.c = addr;
        x.d = Spte.pfn(spte & ~masks.mmioValue());   // get_mmio_spte_gfn: the gpa bits without the mmio value
        x.e = spte & masks.mmioAccessMask();
        x.note = "check_mmio_spte";
        predicted(x);
    }

    /** kvm_cr: CR0/CR3/CR4 writes as kvm_set_cr0/3/4 + kvm_post_set_cr0/4 handle them under shadow paging. */
    private ReplayStep onCr(ModelEvent.KvmCr c) {
        int vid = c.vcpuOrZero();
        boundary(vid, true);
        if (!c.write()) {
            return ReplayStep.STIMULUS;
        }
        VcpuMmu v = mmu.vcpu(vid);
        long val = c.value();
        CrState s = CrState.of(v);
        switch (c.cr()) {
            case 0 -> {
                boolean pg = (val & (1L << 31)) != 0;
                boolean wp = (val & (1L << 16)) != 0;
                boolean roleChange = pg != s.pg || wp != s.wp;
                s.pg = pg;
                s.wp = wp;
                s.known |= VcpuMmu.KNOWN_PG | VcpuMmu.KNOWN_WP;
                s.apply(v);
                if (roleChange) {
                    resetContext(v);
                }
            }
            case 3 -> {
                long gfn = (val & GuestPagingMode.PT64_BASE_ADDR_MASK) >>> 12;
                boolean changed = gfn != v.cr3Gfn();
                CrState.setCr3(v, gfn);
                // kvm_mmu_new_pgd also runs with paging off: fast_pgd_switch frees a current root without a shadow
                // page (the special PAE root of a non-paging guest); a pae-root-default-pdpte root page is kept
                if (changed && (v.paging() || v.hasRoot())) {
                    if (!mmu.newPgd(v, gfn, sink)) {
                        CrState.requestReload(v);
                    }
                }
                CrState.requestSync(v);
            }
            case 4 -> {
                boolean pae = (val & (1L << 5)) != 0;
                boolean pse = (val & (1L << 4)) != 0;
                boolean smep = (val & (1L << 20)) != 0;
                boolean smap = (val & (1L << 21)) != 0;
                boolean pke = (val & (1L << 22)) != 0;
                boolean la57 = (val & (1L << 12)) != 0;
                boolean pge = (val & (1L << 7)) != 0;
                boolean paeRole = !profile.has(Profile.Switch.NO_RESET_ON_PAE_TOGGLE);
                boolean roleChange = (paeRole && pae != s.pae) || pse != s.pse || smep != s.smep || smap != s.smap
                        || pke != s.pke || la57 != s.la57;
                boolean pgeToggle = s.cr4 >= 0 && (((s.cr4 >>> 7) & 1) != 0) != pge;
                s.pae = pae;
                if (!pae) {
                    // kvm_is_valid_cr4/kvm_set_cr4: CR4.PAE cannot be clear in long mode, so EFER.LMA=0
                    s.lma = false;
                    s.la57 = false;
                    s.known |= VcpuMmu.KNOWN_LMA;
                }
                s.pse = pse;
                s.smep = smep;
                s.smap = smap;
                s.pke = pke;
                s.la57 = la57;
                s.cr4 = val;
                s.known |= VcpuMmu.KNOWN_PAE | VcpuMmu.KNOWN_SMEP | VcpuMmu.KNOWN_SMAP | VcpuMmu.KNOWN_PKE
                        | VcpuMmu.KNOWN_PSE;
                s.apply(v);
                if (roleChange) {
                    resetContext(v);
                } else {
                    mmu.refresh(v);
                }
                if (pgeToggle) {
                    CrState.requestSync(v);   // KVM_REQ_TLB_FLUSH_GUEST → kvm_mmu_sync_roots
                }
            }
            default -> {
            }
        }
        return stimulusStep();
    }

    /** kvm_mmu_reset_context(): unload every root now, rebuild the context, reload on the next entry. */
    private void resetContext(VcpuMmu v) {
        mmu.unload(v, sink);
        mmu.refresh(v);
        CrState.requestReload(v);
    }

    private ReplayStep onMemslot(ModelEvent.MemslotChange m) {
        boundary(m.vcpuOrZero(), false);
        if ("DELETE".equals(m.change()) || "MOVE".equals(m.change())) {
            // kvm_arch_flush_shadow_memslot → kvm_mmu_zap_all_fast (KVM_X86_QUIRK_SLOT_ZAP_ALL)
            mmu.zapAllFast(sink);
        }
        return stimulusStep();
    }

    /**
     * A memslot update marker (kvm_swap_active_memslots → kvm_arch_memslots_updated → kvm_mmu_invalidate_mmio_sptes):
     * the generation advances by the number of address spaces, masked to the layout's MMIO generation bits; a masked
     * generation of 0 is the MMIO generation wraparound → kvm_mmu_zap_all_fast (shadow: trace, toggle mmu_valid_gen,
     * KVM_REQ_MMU_FREE_OBSOLETE_ROOTS, obsolete pages zapped; the vCPU frees its obsolete roots and reloads on its
     * next entry. TDP: trace, roots invalidated). Unknown generation (no MMIO SPTE seen yet): nothing predicted.
     */
    private void onMemslotUpdate() {
        if (mmioGen < 0) {
            stepNote = "memslot update: generation unknown (learned from the next mark/check_mmio_spte)";
            return;
        }
        mmioGen = MemslotGeneration.advance(mmioGen, genBit11);
        if (!MemslotGeneration.wrapped(mmioGen, genBit11)) {
            return;
        }
        stepNote = "memslot update: MMIO generation wrapped → kvm_mmu_zap_all_fast";
        if (tdp != null) {
            Expected x = push(EventKind.ZAP_ALL_FAST, -1);
            x.a = tdp.zapAllFast();   // the generation before the toggle; roots invalidated
            x.b = 0;                  // n_used_mmu_pages: TDP MMU pages are not counted there
            predicted(x);
        } else {
            mmu.zapAllFast(sink);
        }
    }

    // ============================================================================================ faults

    /** Arms the fault path after a successful walk: FNAME(page_fault) up to FNAME(fetch). */
    private void armIndirectFault(VcpuMmu v) {
        GuestWalker wk = v.walker();
        PageFault f = v.fault();
        FaultAccess.arm(f, wk, v);
    }

    private void armDirectFault(VcpuMmu v, long addr, long errorCode) {
        FaultAccess.armDirect(v.fault(), addr, errorCode);
    }

    private void resetFault(PageFault f) {
        FaultAccess.reset(f);
    }

    /**
     * First half of FNAME(fetch) / direct_map: the indirect shadow levels (get_page chain, syncing unsync children
     * of existing pages), then the hugepage adjust and trace_kvm_mmu_spte_requested.
     *
     * @return false when the fault cannot proceed in the model (no root)
     */
    private boolean fireFault(VcpuMmu v) {
        PageFault f = v.fault();
        long addr = FaultAccess.addr(f);
        ShadowPage sp;
        int level;
        if (v.paeRootActive()) {
            sp = mmu.page(v.paeRoots()[(int) ((addr >>> 30) & 3)]);
            level = 2;
        } else {
            sp = mmu.page(v.rootSp());
            level = sp == null ? 0 : sp.level();
        }
        if (sp == null) {
            resetFault(f);
            return false;
        }
        boolean indirect = FaultAccess.indirect(f);
        if (indirect) {
            GuestWalker wk = v.walker();
            // page_fault_handle_page_track: a present write fault on a write-tracked gfn is emulated
            if (FaultAccess.present(f) && FaultAccess.write(f) && mmu.isWriteTracked(f.gfn())) {
                resetFault(f);
                return false;
            }
            while (level > wk.walkerLevel()) {
                int idx = spteIndex(addr, level);
                long tableGfn = wk.tableGfn(level - 1);
                int access = wk.ptAccess(level - 1);
                int child = mmu.getChildSp(v, sp, idx, tableGfn, false, access, sink);
                if (child != ShadowMmu.EEXIST) {
                    ShadowPage c = mmu.page(child);
                    if (c.unsyncChildren() > 0) {
                        mmu.syncChildren(v, c, sink);
                    }
                    if (level - 1 == 1) {
                        FaultAccess.readPrefetchPtes(f, wk, mmu.guestMemory());
                    }
                    mmu.linkShadowPage(sp, idx, c);
                } else if (level - 1 == 1) {
                    FaultAccess.readPrefetchPtes(f, wk, mmu.guestMemory());
                }
                sp = mmu.childOf(sp.spte(idx));
                level--;
            }
        }
        FaultAccess.setCursor(f, sp.id(), level);
        // kvm_mmu_hugepage_adjust(): huge only if lpage allowed and the host maps huge (not in the trace)
        int maxLevel = FaultAccess.maxLevel(f);
        int allowed = maxLevel > 1 ? mmu.maxMappingLevel(f.gfn(), maxLevel) : 1;
        FaultAccess.setGoal(f, 1, allowed == 1);
        Expected x = push(EventKind.SPTE_REQUESTED, v.id());
        x.a = f.gfn();
        x.c = 1;
        if (allowed > 1) {
            x.flags |= Expected.LEVEL_LEARNED;
        }
        FaultAccess.setStage(f, PageFault.Stage.REQUESTED);
        return true;
    }

    /**
     * Second half of FNAME(fetch) / direct_map once the host pfn is known: direct levels down to the goal level
     * (validate_direct_spte + get_page), mmu_set_spte, then PTE prefetch.
     */
    private void completeFault(VcpuMmu v, long pfn, int goalLevel) {
        PageFault f = v.fault();
        FaultAccess.setGoal(f, goalLevel, f.goalExact());
        long addr = FaultAccess.addr(f);
        ShadowPage sp = mmu.page(FaultAccess.cursorSp(f));
        int level = FaultAccess.cursorLevel(f);
        if (sp == null) {
            resetFault(f);
            return;
        }
        int directAccess = FaultAccess.directAccess(f);
        boolean indirect = FaultAccess.indirect(f);
        while (level > goalLevel) {
            long baseGfn = f.gfn() & ~((1L << (9 * (level - 1))) - 1);
            int idx = spteIndex(addr, level);
            if (indirect) {
                mmu.validateDirectSpte(sp, idx, directAccess);
            }
            int child = mmu.getChildSp(v, sp, idx, baseGfn, true, directAccess, sink);
            if (child != ShadowMmu.EEXIST) {
                mmu.linkShadowPage(sp, idx, mmu.page(child));
            }
            sp = mmu.childOf(sp.spte(idx));
            level--;
        }
        long span = (1L << (9 * (level - 1))) - 1;
        long baseGfn = f.gfn() & ~span;
        int idx = spteIndex(addr, level);
        if (isNoSlotPfn(pfn)) {
            // kvm_handle_noslot_fault → mmu_set_spte → mark_mmio_spte (MMIO caching on only)
            if (masks.mmioCachingEnabled()) {
                // mark_mmio_spte traces spte & ACC_ALL: (pte access & mmio access mask) | the mmio value's low bits
                int access = FaultAccess.pteAccess(f) & (int) masks.mmioAccessMask();
                int before = qSize;
                sink.markMmioSpte(baseGfn, (int) ((access | masks.mmioValue()) & Spte.ACC_ALL), ModelEvent.UNKNOWN);
                if (qSize > before) {
                    Expected last = at(qSize - 1);
                    last.spId = sp.id();
                    last.index = idx;
                    last.d = access;
                }
            }
            resetFault(f);
            return;
        }
        long mapPfn = pfn & ~span;
        boolean write = FaultAccess.write(f);
        boolean readOnly = pfnReadOnly.containsKey(mapPfn);
        boolean hwKnown = write || readOnly;
        boolean hw = write || !readOnly;
        int before = qSize;
        boolean changed = mmu.mmuSetSpte(sp, idx, FaultAccess.pteAccess(f), baseGfn, mapPfn, false, hw, hwKnown,
                sink);
        if (changed && qSize > before) {
            Expected last = at(qSize - 1);
            if (last.kind == EventKind.SET_SPTE) {
                last.flags |= Expected.FAULT_SPTE | (hwKnown ? 0 : Expected.ALT_OK);
                last.spId = sp.id();
                last.index = idx;
            }
        }
        if (changed) {
            prefetch(v, f, sp, idx);
        }
        FaultAccess.setStage(f, PageFault.Stage.DONE);
    }

    private static boolean isNoSlotPfn(long pfn) {
        return pfn < 0 || (pfn >>> 52) != 0;
    }

    /** FNAME(pte_prefetch) / __direct_pte_prefetch: candidates the recording may or may not confirm. */
    private void prefetch(VcpuMmu v, PageFault f, ShadowPage sp, int idx) {
        if (sp.level() > 1 || MmuPageRole.adDisabled(sp.role())) {
            return;
        }
        int base = idx & ~(ShadowMmu.PTE_PREFETCH_NUM - 1);
        if (sp.direct()) {
            for (int i = 0; i < ShadowMmu.PTE_PREFETCH_NUM; i++) {
                int j = base + i;
                if (j == idx || Spte.isShadowPresent(sp.spte(j))) {
                    continue;
                }
                int access = MmuPageRole.access(sp.role());
                long gfn = sp.gfnAt(j);
                long spte = Spte.makeSpte(masks, 1, access, 0, 0, true, false, true, false, config.nxHugePages(),
                        mmu.prefetchDecision(), gfn, null);
                sink.prefetchCandidate(sp, j, gfn, access, spte);
            }
            return;
        }
        GuestPagingMode mode = v.mode();
        if (mode == null) {
            return;
        }
        for (int i = 0; i < ShadowMmu.PTE_PREFETCH_NUM; i++) {
            int j = base + i;
            if (j == idx || Spte.isShadowPresent(sp.spte(j))) {
                continue;
            }
            if (!FaultAccess.prefetchKnown(f, i)) {
                sink.prefetchCandidate(sp, j, -1, -1, 0);
                continue;
            }
            long gpte = FaultAccess.prefetchPte(f, i);
            if (mmu.prefetchInvalidGpte(v, gpte)) {
                break;
            }
            long gfn = mode.tableGfn(gpte);
            int access = MmuPageRole.access(sp.role()) & GuestPagingMode.gpteAccess(gpte, mode.fourByte());
            access = GuestWalker.protectCleanGpte(access, gpte);
            long spte = Spte.makeSpte(masks, 1, access, 0, 0, true, false, true, false, config.nxHugePages(),
                    mmu.prefetchDecision(), gfn, null);
            sink.prefetchCandidate(sp, j, gfn, access, spte);
        }
    }

    /** SPTE_INDEX(addr, level). */
    static int spteIndex(long addr, int level) {
        return (int) ((addr >>> (12 + 9 * (level - 1))) & 511);
    }

    // ============================================================================================ roots / requests

    private static boolean hasPendingRequests(VcpuMmu v) {
        return CrState.pending(v);
    }

    /** vcpu_enter_guest(): free obsolete roots, sync roots, then kvm_mmu_reload (load + sync when no root). */
    private void enterGuest(VcpuMmu v) {
        if (CrState.takeFreeObsolete(v)) {
            mmu.freeObsoleteRoots(v, sink);
        }
        if (CrState.takeSync(v) && v.hasRoot()) {
            mmu.syncRoots(v, sink);
        }
        boolean reload = CrState.takeReload(v);
        // kvm_mmu_load's root shape depends on CR0.PG: with paging never seen (no CR0 write, no root) it is unknown
        if (!v.hasRoot() && (reload || v.modeKnown()) && (v.knownBits() & VcpuMmu.KNOWN_PG) != 0) {
            mmu.loadRoots(v, null, paeRootPage, sink);
        }
    }

    /** Switches the vCPU's paging format (learned from a root or a walk). */
    private void setPagingMode(VcpuMmu v, int level, boolean fourByte, boolean pae) {
        CrState s = CrState.of(v);
        s.pg = true;
        s.lma = level >= 4;
        s.la57 = level == 5;
        s.pae = !fourByte;
        s.known |= VcpuMmu.KNOWN_PG;   // a guest page walk happens only with CR0.PG=1
        s.apply(v);
        mmu.refresh(v);
    }

    /**
     * A root kvm_mmu_get_page whose trigger is not in the trace (a CR0/CR3/CR4/EFER change or the first load):
     * adopt the paging mode and the role the page shows, switch roots the way the kernel would, and let the
     * recorded page be the one loaded (learned).
     */
    private boolean learnRoot(VcpuMmu v, ModelEvent.GetPage g) {
        ShadowPageInfo info = g.sp();
        int lvl = info.level();
        if (info.invalid() || lvl < 2) {
            return false;
        }
        // pae-root-default-pdpte: a level-3 root is the RFC's pae_root page (non-paging or PAE guest)
        boolean paeStyle = lvl == 2 || (paeRootPage && lvl == 3);
        if (!paeStyle && lvl < 4) {
            return false;
        }
        long gfn = info.gfn();
        int prevRootRole = v.hasRoot() ? currentRootRole(v) : 0;
        boolean hadRoot = v.hasRoot();
        CrState s = CrState.of(v);
        if (info.direct()) {
            s.pg = false;
        } else if (lvl >= 4) {
            s.pg = true;
            s.lma = true;
            s.pae = true;
            s.la57 = lvl == 5;
        } else {
            s.pg = true;
            s.lma = false;
            s.pae = !info.fourByte();
        }
        s.known |= VcpuMmu.KNOWN_PG;
        if (!info.direct()) {
            // root role efer_nx (printed nxe / !nxe): a !nxe root means the role follows the guest's EFER.NX
            Boolean guestNx = v.learnRootNx(info.nxe());
            if (guestNx != null) {
                s.nx = guestNx;
                s.known |= VcpuMmu.KNOWN_NX;
            }
        }
        s.apply(v);
        mmu.refresh(v);
        int printedRole = MmuPageRole.fromPrinted(info);
        boolean sameGfn = hadRoot && gfn != ModelEvent.UNKNOWN && gfn == currentRootGfn(v);
        boolean modeChanged = hadRoot && ((prevRootRole ^ printedRole)
                & (MmuPageRole.LEVEL_MASK | MmuPageRole.DIRECT | MmuPageRole.HAS_4_BYTE_GPTE)) != 0;
        // hidden role bits: choose the existing page the recording refers to, or infer a CR0.WP flip
        int target = MmuPageRole.withQuadrant(MmuPageRole.withLevel(v.rootRoleWord(), lvl), info.quadrant());
        if (gfn != ModelEvent.UNKNOWN) {
            int[] cands = mmu.validPagesFor(gfn);
            int chosen = -1;
            for (int id : cands) {
                ShadowPage c = mmu.page(id);
                if (MmuPageRole.matchesPrinted(c.role(), info) && c.level() == lvl) {
                    boolean current = id == v.rootSp();
                    if (chosen < 0 || (!current && (chosen == v.rootSp()))) {
                        chosen = id;
                    }
                }
            }
            if (!g.created() && chosen > 0) {
                adoptHiddenBits(v, mmu.page(chosen).role());
            } else if (g.created() && chosen > 0 && mmu.page(chosen).role() == target) {
                // the recorded page is new although one with this exact role exists: a hidden bit changed
                CrState t = CrState.of(v);
                t.wp = !t.wp;
                t.known |= VcpuMmu.KNOWN_WP;
                t.apply(v);
                mmu.refresh(v);
                stepNote = "learned: CR0.WP=" + (t.wp ? 1 : 0) + " (new root with an unchanged printed role)";
            }
        }
        // free the old root(s) the way the kernel's path would
        if (hadRoot) {
            if (sameGfn || modeChanged || v.paeRootActive()) {
                mmu.unload(v, sink);
            } else if (!info.direct()) {
                mmu.newPgd(v, gfn, sink);
                if (v.hasRoot()) {
                    mmu.freeRoots(v, true, 0, sink);
                }
            }
        }
        // mmu_alloc_shadow_roots: a 4- or 5-level root and the four 4-byte quadrant roots shadow CR3's gfn; an 8-byte
        // PAE root shadows a PDPTE's page directory, which says nothing about CR3
        if (!info.direct() && gfn != ModelEvent.UNKNOWN && (lvl >= 4 || info.fourByte() || lvl == 3)) {
            CrState.setCr3(v, gfn);
        }
        CrState.clearRequests(v);
        learnNextGetPage = Expected.LEARNED | Expected.GFN_LEARNED;
        if (lvl >= 4) {
            int id = mmu.allocRoot(v, gfn, 0, lvl, sink);
            CrState.setRoot(v, id, gfn);
            mmu.syncRoots(v, sink);
        } else if (lvl == 3 && !info.direct()) {
            // pae-root-default-pdpte: a PAE guest's pae_root page shadows its PDPT page (CR3's gfn)
            int id = mmu.allocPaeRootPage(v, gfn, sink);
            CrState.setRoot(v, id, gfn);
            mmu.syncRoots(v, sink);
        } else if (info.direct() || info.fourByte()) {
            mmu.loadRoots(v, null, paeRootPage, sink);
        } else {
            // PAE guest: PDPTEs are not traced; each root is learned as it appears
            int i = hadRoot && v.paeRootActive() ? ++learnedPaeIndex : (learnedPaeIndex = 0);
            int id = mmu.allocRoot(v, gfn, 0, 2, sink);
            CrState.setPaeRoot(v, i & 3, id);
        }
        learnNextGetPage = 0;
        if (stepNote == null) {
            stepNote = "learned: root load (" + (hadRoot ? "untraced CR/EFER change" : "first load") + ")";
        }
        return true;
    }

    private int currentRootRole(VcpuMmu v) {
        ShadowPage sp = v.rootSp() > 0 ? mmu.page(v.rootSp()) : null;
        if (sp == null && v.paeRootActive()) {
            for (int id : v.paeRoots()) {
                if (id > 0 && mmu.page(id) != null) {
                    sp = mmu.page(id);
                    break;
                }
            }
        }
        return sp == null ? 0 : sp.role();
    }

    private long currentRootGfn(VcpuMmu v) {
        ShadowPage sp = v.rootSp() > 0 ? mmu.page(v.rootSp()) : null;
        return sp == null ? -2 : sp.gfn();
    }

    private void adoptHiddenBits(VcpuMmu v, int role) {
        CrState s = CrState.of(v);
        boolean wp = MmuPageRole.cr0Wp(role);
        if (wp != s.wp) {
            stepNote = "learned: CR0.WP=" + (wp ? 1 : 0) + " from the reused root";
        }
        s.wp = wp;
        s.known |= VcpuMmu.KNOWN_WP;
        s.apply(v);
        mmu.refresh(v);
    }

    // ============================================================================================ effects

    private ReplayStep onEffect(ModelEvent e, EventKind k) {
        int vid = e.vcpuOrZero();
        switch (k) {
            case HANDLE_MMIO_PAGE_FAULT, CHECK_MMIO_SPTE -> {
                if (find(e, k) < 0) {
                    return ReplayStep.UNMODELLED;   // MMIO caching off, or a TDP / untraced-fault path
                }
            }
            case FAST_PAGE_FAULT -> {
                return ReplayStep.UNMODELLED;
            }
            case TDP_MMU_SPTE_CHANGED, SPLIT_HUGE_PAGE -> {
                if (tdp == null) {
                    return ReplayStep.UNMODELLED;   // a TDP MMU effect on a host configured tdp=false
                }
            }
            default -> {
            }
        }
        int at = find(e, k);
        if (at < 0) {
            at = trigger(e, k, vid);
        }
        if (at < 0) {
            if (k == EventKind.INJECTED_EXCEPTION) {
                return onInjection((ModelEvent.InjectedException) e);
            }
            return mismatch(null, List.of(), "not predicted: no rule of the model produces this effect here");
        }
        Expected x = at(at);
        dropBefore(at);
        ReplayStep step = verdict(x, e, k);
        popHead();
        return step;
    }

    /** Tries the rules whose trigger the trace does not show; returns the queue index that now matches, or -1. */
    private int trigger(ModelEvent e, EventKind k, int vid) {
        if (tdp != null) {
            return tdpTrigger(e, k);
        }
        VcpuMmu v = mmu.vcpu(vid);
        // 1. the armed fault: the walk was a page fault after all
        PageFault f = v.fault();
        if (f.stage() == PageFault.Stage.ARMED && isChainKind(k)) {
            flushQueue();
            if (fireFault(v)) {
                int at = find(e, k);
                if (at >= 0) {
                    return at;
                }
            }
        }
        // a direct (non-paging) fault shows up first as spte_requested
        if (k == EventKind.SPTE_REQUESTED && !v.paging() && v.hasRoot() && f.stage() == PageFault.Stage.NONE) {
            ModelEvent.SpteRequested r = (ModelEvent.SpteRequested) e;
            flushQueue();
            armDirectFault(v, r.gfn() << 12, 0);
            if (fireFault(v)) {
                stepNote = "learned: direct fault at gfn " + Long.toHexString(r.gfn());
                int at = find(e, k);
                if (at >= 0) {
                    return at;
                }
            }
        }
        // 2. pending vCPU requests are serviced on the next entry
        if (hasPendingRequests(v) && (k == EventKind.GET_PAGE || k == EventKind.PREPARE_ZAP_PAGE
                || k == EventKind.SYNC_PAGE)) {
            flushQueue();
            enterGuest(v);
            int at = find(e, k);
            if (at >= 0) {
                return at;
            }
        }
        switch (k) {
            case ZAP_ALL_FAST -> {
                flushQueue();
                mmu.zapAllFast(sink);
                stepNote = "memslot update (not traced) → kvm_mmu_zap_all_fast";
                return find(e, k);
            }
            case GET_PAGE -> {
                flushQueue();
                if (learnRoot(v, (ModelEvent.GetPage) e)) {
                    return find(e, k);
                }
            }
            case PREPARE_ZAP_PAGE -> {
                ShadowPageInfo info = ((ModelEvent.PrepareZapPage) e).sp();
                int head = mmu.activeHead();
                ShadowPage hp = mmu.page(head);
                if (hp != null && spMatches(hp, info)) {
                    flushQueue();
                    teardown();
                    stepNote = "VM teardown (not traced) → kvm_mmu_zap_all, then vCPU roots freed";
                    return find(e, k);
                }
                ShadowPage sp = findPage(info);
                if (sp != null) {
                    flushQueue();
                    learnNextGetPage = Expected.LEARNED;
                    mmu.prepareZap(sp, sink);
                    mmu.commitZap();
                    learnNextGetPage = 0;
                    stepNote = "learned: zap of a page for an untraced reason";
                    return find(e, k);
                }
            }
            case SYNC_PAGE -> {
                ShadowPageInfo info = ((ModelEvent.SyncPage) e).sp();
                ShadowPage sp = findPage(info);
                if (sp != null && sp.unsync()) {
                    flushQueue();
                    if (v.hasRoot()) {
                        mmu.syncRoots(v, sink);
                        stepNote = "guest TLB flush / CR3 load (not traced) → kvm_mmu_sync_roots";
                    }
                    int at = find(e, k);
                    if (at >= 0) {
                        return at;
                    }
                    flushQueue();
                    mmu.syncChildren(v, sp, sink);
                    return find(e, k);
                }
            }
            default -> {
            }
        }
        return -1;
    }

    private static boolean isChainKind(EventKind k) {
        return k == EventKind.GET_PAGE || k == EventKind.SPTE_REQUESTED || k == EventKind.PREPARE_ZAP_PAGE
                || k == EventKind.SYNC_PAGE || k == EventKind.UNSYNC_PAGE || k == EventKind.SET_SPTE
                || k == EventKind.MARK_MMIO_SPTE;
    }

    /** kvm_destroy_vm: kvm_mmu_zap_all, then each vCPU's kvm_mmu_unload (free roots → zap invalid ones). */
    private void teardown() {
        mmu.zapAll(sink);
        for (int i = 0; i < mmu.vcpuCount(); i++) {
            VcpuMmu v = mmu.vcpu(i);
            mmu.unload(v, sink);
            CrState.clearRequests(v);
        }
    }

    private ShadowPage findPage(ShadowPageInfo info) {
        if (info.gfn() == ModelEvent.UNKNOWN) {
            for (int id : mmu.activePages()) {
                ShadowPage sp = mmu.page(id);
                if (spMatches(sp, info)) {
                    return sp;
                }
            }
            return null;
        }
        for (int id : mmu.allPagesFor(info.gfn())) {
            ShadowPage sp = mmu.page(id);
            if (sp != null && spMatches(sp, info)) {
                return sp;
            }
        }
        return null;
    }

    private static boolean spMatches(ShadowPage sp, ShadowPageInfo info) {
        return (info.gfn() == ModelEvent.UNKNOWN || info.gfn() == sp.gfn())
                && (info.gen() == ModelEvent.UNKNOWN || info.gen() == sp.mmuValidGen())
                && MmuPageRole.matchesPrinted(sp.role(), info) && info.rootCount() == sp.rootCount()
                && info.unsync() == sp.unsync();
    }

    private ReplayStep onInjection(ModelEvent.InjectedException inj) {
        int vid = inj.vcpuOrZero();
        long p = vid < pendingInj.length ? pendingInj[vid] : -1;
        if (p < 0) {
            if (inj.vector() != PageFaultErrorCode.PF_VECTOR) {
                return ReplayStep.UNMODELLED;
            }
            return mismatch(null, List.of(), "#PF injected without a walker error");
        }
        pendingInj[vid] = -1;
        int vector = (int) (p >>> 40);
        long code = p & 0xffffffffffL;
        ModelEvent expected = config.detailedSteps() ? new ModelEvent.InjectedException(ModelEvent.PREDICTED,
                inj.vcpu(), vector, code) : null;
        List<FieldDiff> diffs = new ArrayList<>(0);
        if (inj.vector() != vector) {
            diffs.add(new FieldDiff(Field.INJ_VECTOR, Integer.toString(vector), Integer.toString(inj.vector())));
        }
        if (inj.errorCode() != ModelEvent.UNKNOWN && (inj.errorCode() & 0xffffffffL) != (code & 0xffffffffL)) {
            diffs.add(new FieldDiff(Field.INJ_ERROR_CODE, hex(code), hex(inj.errorCode())));
        }
        if (diffs.isEmpty()) {
            return expected == null ? ReplayStep.EXPLAINED : new ReplayStep(ReplayStep.Outcome.EXPLAINED, expected,
                    List.of(), List.of(), List.of(), null);
        }
        return mismatch(expected == null ? new ModelEvent.InjectedException(ModelEvent.PREDICTED, inj.vcpu(),
                vector, code) : expected, diffs, null);
    }

    private void pendingInjection(int vid, int vector, long code) {
        if (vid >= pendingInj.length) {
            int old = pendingInj.length;
            pendingInj = java.util.Arrays.copyOf(pendingInj, vid + 1);
            java.util.Arrays.fill(pendingInj, old, pendingInj.length, -1);
        }
        pendingInj[vid] = ((long) vector << 40) | (code & 0xffffffffffL);
    }

    private void missInjection(int vid) {
        if (vid < pendingInj.length && pendingInj[vid] >= 0) {
            long p = pendingInj[vid];
            pendingInj[vid] = -1;
            addMissed(new ModelEvent.InjectedException(ModelEvent.PREDICTED, vid, (int) (p >>> 40),
                    p & 0xffffffffffL));
        }
    }

    // ============================================================================================ compare

    /** Finds the queued prediction a recorded effect answers: skips optional predictions; -1 if none. */
    private int find(ModelEvent e) {
        return find(e, e.kind());
    }

    private int find(ModelEvent e, EventKind k) {
        for (int i = 0; i < qSize; i++) {
            Expected x = at(i);
            if (x.kind == k) {
                if (!x.has(Expected.OPTIONAL)) {
                    return i;
                }
                if (k == EventKind.SET_SPTE && prefetchMatches(x, (ModelEvent.SetSpte) e)) {
                    return i;
                }
                continue;
            }
            if (!x.has(Expected.OPTIONAL)) {
                return -1;
            }
        }
        return -1;
    }

    private static boolean prefetchMatches(Expected x, ModelEvent.SetSpte s) {
        if (s.sptep() != ModelEvent.UNKNOWN) {
            return ((s.sptep() & 0xfff) >>> 3) == x.index;
        }
        return x.has(Expected.WILDCARD) || x.a == s.gfn();
    }

    private ReplayStep verdict(Expected x, ModelEvent e, EventKind k) {
        List<FieldDiff> diffs = compare(x, e, k);
        boolean learned = x.has(Expected.LEARNED) || x.has(Expected.WILDCARD)
                || ((k == EventKind.SET_ACCESSED_BIT || k == EventKind.SET_DIRTY_BIT) && x.a < 0);
        afterMatch(x, e, k, diffs.isEmpty());
        appendDerived();
        ModelEvent expected = config.detailedSteps() || !diffs.isEmpty() ? x.toEvent(masks) : null;
        if (learned) {
            return new ReplayStep(ReplayStep.Outcome.LEARNED, expected, List.of(), effects(stepPredicted),
                    effects(stepMissed), stepNote != null ? stepNote : x.note);
        }
        if (!diffs.isEmpty()) {
            return mismatch(expected, diffs, stepNote);
        }
        if (expected == null && stepPredicted.isEmpty() && stepMissed.isEmpty() && stepNote == null) {
            return ReplayStep.EXPLAINED;
        }
        return new ReplayStep(ReplayStep.Outcome.EXPLAINED, expected, List.of(), effects(stepPredicted),
                effects(stepMissed), stepNote);
    }

    private ReplayStep mismatch(ModelEvent expected, List<FieldDiff> diffs, String note) {
        return new ReplayStep(ReplayStep.Outcome.MISMATCH, expected, diffs, effects(stepPredicted),
                effects(stepMissed), note != null ? note : stepNote);
    }

    private List<FieldDiff> compare(Expected x, ModelEvent e, EventKind k) {
        List<FieldDiff> d = null;
        switch (k) {
            case SET_ACCESSED_BIT -> {
                long gpa = ((ModelEvent.SetAccessedBit) e).gpa();
                if (x.a >= 0 && gpa != x.a) {
                    d = diff(d, Field.SET_ACCESSED_GPA, hex(x.a), hex(gpa));
                }
            }
            case SET_DIRTY_BIT -> {
                long gpa = ((ModelEvent.SetDirtyBit) e).gpa();
                if (x.a >= 0 && gpa != x.a) {
                    d = diff(d, Field.SET_DIRTY_GPA, hex(x.a), hex(gpa));
                }
            }
            case WALKER_ERROR -> {
                long pferr = ((ModelEvent.WalkerError) e).pferr();
                if ((pferr & 0xffffffffL) != (x.a & 0xffffffffL)) {
                    d = diff(d, Field.WALKER_ERROR_PFERR, hex(x.a) + " " + PageFaultErrorCode.format(x.a),
                            hex(pferr) + " " + PageFaultErrorCode.format(pferr));
                }
            }
            case GET_PAGE -> {
                ModelEvent.GetPage g = (ModelEvent.GetPage) e;
                if (!x.has(Expected.LEARNED)) {
                    d = compareSp(d, x, g.sp());
                    boolean created = (x.e & 2) != 0;
                    if (g.created() != created) {
                        d = diff(d, Field.GET_PAGE_CREATED, created ? "new" : "existing",
                                g.created() ? "new" : "existing");
                    }
                }
            }
            case SYNC_PAGE -> d = x.has(Expected.LEARNED) ? null : compareSp(d, x, ((ModelEvent.SyncPage) e).sp());
            case UNSYNC_PAGE -> d = compareSp(d, x, ((ModelEvent.UnsyncPage) e).sp());
            case PREPARE_ZAP_PAGE -> d = x.has(Expected.LEARNED) ? null
                    : compareSp(d, x, ((ModelEvent.PrepareZapPage) e).sp());
            case SPTE_REQUESTED -> {
                ModelEvent.SpteRequested r = (ModelEvent.SpteRequested) e;
                if (r.gfn() != x.a) {
                    d = diff(d, Field.SPTE_REQ_GFN, hex(x.a), hex(r.gfn()));
                }
                if (!x.has(Expected.LEVEL_LEARNED) && r.level() != x.c) {
                    d = diff(d, Field.SPTE_REQ_LEVEL, Long.toString(x.c), Integer.toString(r.level()));
                }
            }
            case SET_SPTE -> {
                if (!x.has(Expected.WILDCARD)) {
                    d = compareSetSpte(d, x, (ModelEvent.SetSpte) e);
                }
            }
            case ZAP_ALL_FAST -> {
                ModelEvent.ZapAllFast z = (ModelEvent.ZapAllFast) e;
                if (z.gen() != x.a) {
                    d = diff(d, Field.ZAP_ALL_FAST_GEN, Long.toString(x.a), Long.toString(z.gen()));
                }
                if (z.usedPages() != x.b) {
                    d = diff(d, Field.ZAP_ALL_FAST_USED, hex(x.b), hex(z.usedPages()));
                }
            }
            case CHECK_MMIO_SPTE -> {
                ModelEvent.CheckMmioSpte c = (ModelEvent.CheckMmioSpte) e;
                if (c.spte() != x.a) {
                    d = diff(d, Field.CHECK_MMIO_SPTE, hex(x.a), hex(c.spte()));
                }
                if (c.spteGen() != x.b) {
                    d = diff(d, Field.CHECK_MMIO_SPTE_GEN, hex(x.b), hex(c.spteGen()));
                }
                // check_mmio_spte: valid = (kvm_gen == spte_gen), kvm_gen learned from this very record
                boolean valid = c.kvmGen() == x.b;
                if (c.valid() != valid) {
                    d = diff(d, Field.CHECK_MMIO_VALID, valid ? "1" : "0", c.valid() ? "1" : "0");
                }
            }
            case HANDLE_MMIO_PAGE_FAULT -> {
                ModelEvent.HandleMmioPageFault h = (ModelEvent.HandleMmioPageFault) e;
                if (h.addr() != x.a) {
                    d = diff(d, Field.HANDLE_MMIO_ADDR, hex(x.a), hex(h.addr()));
                }
                if (h.gfn() != x.b) {
                    d = diff(d, Field.HANDLE_MMIO_GFN, hex(x.b), hex(h.gfn()));
                }
                if (h.access() != x.c) {
                    d = diff(d, Field.HANDLE_MMIO_ACCESS, hex(x.c), hex(h.access()));
                }
            }
            case TDP_MMU_SPTE_CHANGED -> d = compareTdpSpteChanged(d, x, (ModelEvent.TdpMmuSpteChanged) e);
            case USERSPACE_EXIT -> {
                ModelEvent.UserspaceExit u = (ModelEvent.UserspaceExit) e;
                if (!"error".equals(u.reason())) {
                    d = diff(d, Field.USERSPACE_EXIT_REASON, "error", String.valueOf(u.reason()));
                }
                if (u.code() != x.a) {
                    d = diff(d, Field.USERSPACE_EXIT_CODE, Long.toString(x.a), Integer.toString(u.code()));
                }
            }
            case SPLIT_HUGE_PAGE -> {
                ModelEvent.SplitHugePage sp = (ModelEvent.SplitHugePage) e;
                if (sp.gfn() != x.a) {
                    d = diff(d, Field.SPLIT_GFN, hex(x.a), hex(sp.gfn()));
                }
                if ((sp.spte() & ~ADDR_MASK) != (x.b & ~ADDR_MASK)) {
                    d = diff(d, Field.SPLIT_SPTE, hex(x.b & ~ADDR_MASK), hex(sp.spte() & ~ADDR_MASK));
                }
                if (sp.level() != x.c) {
                    d = diff(d, Field.SPLIT_LEVEL, Long.toString(x.c), Integer.toString(sp.level()));
                }
                if (sp.errno() != 0) {
                    d = diff(d, Field.SPLIT_ERRNO, "0", Integer.toString(sp.errno()));
                }
            }
            case MARK_MMIO_SPTE -> {
                ModelEvent.MarkMmioSpte m = (ModelEvent.MarkMmioSpte) e;
                if (m.gfn() != x.a) {
                    d = diff(d, Field.MARK_MMIO_GFN, hex(x.a), hex(m.gfn()));
                }
                if (m.access() != x.b) {
                    d = diff(d, Field.MARK_MMIO_ACCESS, hex(x.b), hex(m.access()));
                }
            }
            default -> {
            }
        }
        return d == null ? List.of() : d;
    }

    private List<FieldDiff> compareSetSpte(List<FieldDiff> d, Expected x, ModelEvent.SetSpte s) {
        if (s.gfn() != x.a) {
            d = diff(d, Field.SET_SPTE_GFN, hex(x.a), hex(s.gfn()));
        }
        long rec = s.spte() & ~ADDR_MASK;
        long pred = x.b & ~ADDR_MASK;
        long alt = x.d & ~ADDR_MASK;
        boolean bitsOk = rec == pred || (x.has(Expected.ALT_OK) && rec == alt);
        if (!bitsOk) {
            d = diff(d, Field.SET_SPTE_BITS, hex(x.b & ~ADDR_MASK) + " (w/o pfn)", hex(rec) + " (w/o pfn)");
        }
        String letters = Spte.permissionLetters(masks, rec == alt && x.has(Expected.ALT_OK) ? x.d : x.b);
        if (s.perms() != null && !s.perms().equals(letters)) {
            d = diff(d, Field.SET_SPTE_PERMS, letters, s.perms());
        }
        if (s.level() != x.c) {
            d = diff(d, Field.SET_SPTE_LEVEL, Long.toString(x.c), Integer.toString(s.level()));
        }
        if (s.sptep() != ModelEvent.UNKNOWN && x.index >= 0 && ((s.sptep() & 0xfff) >>> 3) != x.index) {
            d = diff(d, Field.SET_SPTE_INDEX, hex(x.index * 8L), hex(s.sptep() & 0xfff));
        }
        return d;
    }

    private List<FieldDiff> compareSp(List<FieldDiff> d, Expected x, ShadowPageInfo sp) {
        int role = (int) x.c;
        if (sp.gen() != ModelEvent.UNKNOWN && sp.gen() != x.a) {
            d = diff(d, Field.SP_GEN, Long.toString(x.a), Long.toString(sp.gen()));
        }
        if (sp.gfn() != ModelEvent.UNKNOWN && sp.gfn() != x.b && !x.has(Expected.GFN_LEARNED)) {
            d = diff(d, Field.SP_GFN, hex(x.b), hex(sp.gfn()));
        }
        if (!MmuPageRole.matchesPrinted(role, sp)) {
            d = diff(d, Field.SP_ROLE, MmuPageRole.describe(role), sp.toString());
        }
        if (sp.rootCount() != x.d) {
            d = diff(d, Field.SP_ROOT_COUNT, Long.toString(x.d), Integer.toString(sp.rootCount()));
        }
        if (sp.unsync() != ((x.e & 1) != 0)) {
            d = diff(d, Field.SP_UNSYNC, (x.e & 1) != 0 ? "unsync" : "sync", sp.unsync() ? "unsync" : "sync");
        }
        return d;
    }

    private static List<FieldDiff> diff(List<FieldDiff> d, Field f, String exp, String act) {
        if (d == null) {
            d = new ArrayList<>(2);
        }
        d.add(new FieldDiff(f, exp, act));
        return d;
    }

    static String hex(long v) {
        return Long.toHexString(v);
    }

    /** What a matched recorded effect teaches the model (learned fields) and what it triggers next. */
    private void afterMatch(Expected x, ModelEvent e, EventKind k, boolean exact) {
        switch (k) {
            case MARK_MMIO_SPTE -> {
                ModelEvent.MarkMmioSpte m = (ModelEvent.MarkMmioSpte) e;
                if (m.gen() != ModelEvent.UNKNOWN) {
                    mmioGen = m.gen();   // learned: the memslot generation the SPTE was made in
                }
                if (x.has(Expected.TDP)) {
                    return;   // the TDP SPTE (with its generation) was learned from the spte_changed before
                }
                ShadowPage sp = mmu.page(x.spId);
                if (sp != null && mmioGen >= 0) {
                    mmu.setMmioSpte(sp, x.index, Spte.makeMmioSpte(masks, m.gfn(), (int) x.d, mmioGen, genBit11));
                }
            }
            case CHECK_MMIO_SPTE -> {
                ModelEvent.CheckMmioSpte c = (ModelEvent.CheckMmioSpte) e;
                if (c.kvmGen() != ModelEvent.UNKNOWN) {
                    mmioGen = c.kvmGen();   // learned: the current memslot generation
                }
                if (c.kvmGen() == x.b) {
                    // generation valid → handle_mmio_page_fault traces addr, gfn, access, then emulation
                    Expected h = push(EventKind.HANDLE_MMIO_PAGE_FAULT, x.vcpu);
                    h.a = x.c;
                    h.b = x.d;
                    h.c = x.e;
                    predicted(h);
                }
            }
            case SPTE_REQUESTED -> {
                ModelEvent.SpteRequested r = (ModelEvent.SpteRequested) e;
                if (x.has(Expected.TDP)) {
                    tdpMap(x, r);
                    return;
                }
                VcpuMmu v = mmu.vcpu(x.vcpu < 0 ? 0 : x.vcpu);
                if (v.fault().stage() == PageFault.Stage.REQUESTED) {
                    int goal = x.has(Expected.LEVEL_LEARNED) ? Math.max(1, r.level()) : (int) x.c;
                    completeFault(v, r.pfn(), goal);
                }
            }
            case TDP_MMU_SPTE_CHANGED -> {
                if (tdp != null && x.has(Expected.TDP)) {
                    // learned: the host's table address / pfn in the recorded value
                    tdp.learnSpte(x.spId, x.index, ((ModelEvent.TdpMmuSpteChanged) e).newSpte());
                }
            }
            case SET_SPTE -> {
                if (x.has(Expected.TDP)) {
                    return;
                }
                ModelEvent.SetSpte s = (ModelEvent.SetSpte) e;
                ShadowPage sp = mmu.page(x.spId);
                if (sp == null) {
                    return;
                }
                long pfn = Spte.pfn(s.spte());
                if (x.has(Expected.FAULT_SPTE)) {
                    boolean hw = (s.spte() & masks.hostWritable()) != 0;
                    if (hw) {
                        pfnReadOnly.remove(pfn);
                    } else {
                        pfnReadOnly.put(pfn, 1);
                    }
                    if (!exact || (s.spte() & ~ADDR_MASK) != (x.b & ~ADDR_MASK)) {
                        // adopt the recorded value (alternative host writability, or a mismatch)
                        mmu.setLeafSpte(sp, x.index, s.spte());
                    }
                } else if (x.has(Expected.WILDCARD)) {
                    long spte = s.spte();
                    int access = (Spte.isExecutable(masks, spte) ? Spte.ACC_EXEC_MASK : 0)
                            | ((spte & Spte.PT_WRITABLE_MASK) != 0 ? Spte.ACC_WRITE_MASK : 0)
                            | ((spte & Spte.PT_USER_MASK) != 0 ? Spte.ACC_USER_MASK : 0);
                    mmu.installPrefetched(sp, x.index, s.gfn(), access, spte);
                } else if (x.has(Expected.PREFETCH)) {
                    long spte = exact ? Spte.withPfn(x.b, pfn) : s.spte();
                    mmu.installPrefetched(sp, x.index, x.a, (int) x.e, spte);
                }
            }
            default -> {
            }
        }
    }

    // ============================================================================================ queue

    private Expected at(int i) {
        return ring[(qHead + i) & (ring.length - 1)];
    }

    private Expected push(EventKind kind, int vcpu) {
        if (qSize == ring.length) {
            Expected[] n = new Expected[ring.length * 2];
            for (int i = 0; i < qSize; i++) {
                n[i] = at(i);
            }
            for (int i = qSize; i < n.length; i++) {
                n[i] = new Expected();
            }
            ring = n;
            qHead = 0;
        }
        Expected x = ring[(qHead + qSize) & (ring.length - 1)];
        qSize++;
        x.clear();
        x.kind = kind;
        x.vcpu = vcpu;
        return x;
    }

    private void popHead() {
        qHead = (qHead + 1) & (ring.length - 1);
        qSize--;
    }

    /** Drops the predictions before index {@code at} (all optional by construction of {@link #find}). */
    private void dropBefore(int at) {
        for (int i = 0; i < at; i++) {
            popHead();
        }
    }

    /** Lapses every queued prediction; non-optional ones are reported as missed. */
    private void flushQueue() {
        while (qSize > 0) {
            Expected x = at(0);
            if (!x.has(Expected.OPTIONAL)) {
                addMissed(x.toEvent(masks));
            }
            popHead();
        }
    }

    private void addMissed(ModelEvent ev) {
        stepMissed.add(ev);
    }

    private void predicted(Expected x) {
        if (config.detailedSteps()) {
            stepPredicted.add(x.toEvent(masks));
        }
    }

    /** The queued predictions, oldest first (for tools and tests). */
    public List<ModelEvent> pendingPredictions() {
        List<ModelEvent> out = new ArrayList<>(qSize);
        for (int i = 0; i < qSize; i++) {
            out.add(at(i).toEvent(masks));
        }
        return out;
    }

    /** Receives what {@link ShadowMmu} would trace and queues it as predictions. */
    private final class Sink implements MmuTrace {

        private Expected sp(EventKind k, ShadowPage sp) {
            Expected x = push(k, -1);
            x.a = sp.mmuValidGen();
            x.b = sp.gfn();
            x.c = sp.role();
            x.d = sp.rootCount();
            x.e = sp.unsync() ? 1 : 0;
            x.spId = sp.id();
            return x;
        }

        @Override
        public void getPage(ShadowPage page, boolean created) {
            Expected x = sp(EventKind.GET_PAGE, page);
            x.e |= created ? 2 : 0;
            if (learnNextGetPage != 0) {
                x.flags |= learnNextGetPage;
                learnNextGetPage = 0;
            }
            predicted(x);
        }

        @Override
        public void prepareZapPage(ShadowPage page) {
            Expected x = sp(EventKind.PREPARE_ZAP_PAGE, page);
            if (learnNextGetPage == Expected.LEARNED) {
                x.flags |= Expected.LEARNED;
                learnNextGetPage = 0;
            }
            predicted(x);
        }

        @Override
        public void syncPage(ShadowPage page) {
            predicted(sp(EventKind.SYNC_PAGE, page));
        }

        @Override
        public void unsyncPage(ShadowPage page) {
            predicted(sp(EventKind.UNSYNC_PAGE, page));
        }

        @Override
        public void setSpte(ShadowPage page, int index, long gfn, long spte, long altSpte) {
            Expected x = push(EventKind.SET_SPTE, -1);
            x.a = gfn;
            x.b = spte;
            x.c = page.level();
            x.d = altSpte;
            x.spId = page.id();
            x.index = index;
            predicted(x);
        }

        @Override
        public void prefetchCandidate(ShadowPage page, int index, long gfn, int access, long spte) {
            Expected x = push(EventKind.SET_SPTE, -1);
            x.flags = Expected.OPTIONAL | Expected.PREFETCH | (gfn < 0 ? Expected.WILDCARD : 0);
            x.a = gfn;
            x.b = spte;
            x.c = page.level();
            x.d = spte;
            x.e = access;
            x.spId = page.id();
            x.index = index;
        }

        @Override
        public void zapAllFast(int gen, int usedPages) {
            Expected x = push(EventKind.ZAP_ALL_FAST, -1);
            x.a = gen;
            x.b = usedPages;
            predicted(x);
        }

        @Override
        public void markMmioSpte(long gfn, int access, long gen) {
            Expected x = push(EventKind.MARK_MMIO_SPTE, -1);
            x.a = gfn;
            x.b = access;
            x.c = gen;
            predicted(x);
        }
    }

    // ============================================================================================ TDP MMU
    // (host tdp=true: kvm_tdp_mmu_map, NX huge-page recovery, zap-all-fast; the state lives in mmu.TdpMmu)

    /**
     * kvm_page_fault on a TDP host (#NPF / EPT violation): the fault entry (kvm_mmu_page_fault, kvm_faultin_pfn,
     * kvm_mmu_do_page_fault; {@link FaultEntry}, per kernel version: profile {@code pre-6.10-fault-path}) decides
     * whether the fault maps, emulates, consults the MMIO SPTE, retries or exits to userspace (-EFAULT, traced as
     * {@code kvm_userspace_exit: reason error (14)}, predicted and checked). A fault that maps goes on to
     * kvm_tdp_page_fault → kvm_tdp_mmu_map, whose first effect is trace_kvm_mmu_spte_requested.
     * kvm_mmu_hugepage_adjust(): an exec fault with the NX huge-page mitigation keeps goal level 4K
     * (huge_page_disallowed), exact; a no-slot (MMIO) fault 4K; otherwise the goal is the host mapping level
     * (THP/hugetlb backing is not traced: learned). The decision itself is a model-derived
     * {@code page_fault_outcome} effect (detailed mode).
     */
    private ReplayStep onTdpPageFault(ModelEvent.KvmPageFault f) {
        int vid = f.vcpuOrZero();
        boundary(vid, true);
        PrivateMemory pm = tdp.memory();
        boolean pre610 = profile.has(Profile.Switch.PRE_6_10_FAULT_PATH);
        long gfn = f.addr() >>> 12;
        boolean gfnPrivate = pm.isPrivate(gfn);
        int exitKind = pm.takeExit(vid);
        // kvm_handle_page_fault / npf_interception / kvm_mmu_page_fault: the error code the fault path works with
        long code = FaultEntry.faultPathErrorCode(exitKind, pm.exitInfo1(), f.errorCode(),
                pm.vmType() == PrivateMemory.SNP, pre610);
        // kvm_mmu_page_fault (6.10+): a SW-protected VM's PRIVATE_ACCESS comes from the gfn's attribute
        code = FaultEntry.kvmMmuPageFaultErrorCode(code, pm.vmType() == PrivateMemory.SW_PROTECTED, gfnPrivate,
                pre610);
        // fault->is_private: the synthetic bit (6.10+) or the attribute (6.8/6.9)
        boolean isPrivate = FaultEntry.isPrivate(code, gfnPrivate, pre610);
        // the RSVD shortcut: private → WARN, -EFAULT (6.10+); else handle_mmio_page_fault (MMIO SPTE / cache)
        FaultEntry.Outcome r = FaultEntry.kvmMmuPageFaultRsvd(code, pre610);
        if (r == FaultEntry.Outcome.HANDLE_MMIO_PAGE_FAULT) {
            r = tdpHandleMmioPageFault(vid, gfn);   // RET_PF_EMULATE goes straight to emulation, no do_page_fault
        } else if (r == FaultEntry.Outcome.RET_PF_INVALID) {
            // kvm_mmu_do_page_fault → kvm_tdp_page_fault → kvm_faultin_pfn (order per version)
            boolean slot = pm.hasSlot(gfn);
            r = FaultEntry.kvmMmuFaultinPfn(isPrivate, gfnPrivate, slot, false, pm.slotGmem(gfn),
                    pm.slotEmulates(gfn), masks.mmioCachingEnabled(), pre610);
            if (r == FaultEntry.Outcome.RET_PF_CONTINUE) {
                tdpSpteRequested(f, gfn, code, !slot);
                if (!slot) {
                    r = FaultEntry.Outcome.RET_PF_EMULATE;   // an MMIO SPTE installed: the access is emulated
                }
            }
            // kvm_mmu_do_page_fault (6.10+): a private fault that ends in emulation → KVM_EXIT_MEMORY_FAULT
            r = FaultEntry.kvmMmuDoPageFaultResult(r, isPrivate, pre610);
        }
        if (r == FaultEntry.Outcome.MEMORY_FAULT_EXIT || r == FaultEntry.Outcome.EFAULT) {
            // KVM_RUN returns -EFAULT (with KVM_EXIT_MEMORY_FAULT information or, after a WARN, without)
            Expected x = push(EventKind.USERSPACE_EXIT, f.vcpu());
            x.a = 14;
            x.note = "fault entry: " + r + " → KVM_RUN -EFAULT";
            predicted(x);
        }
        if (config.detailedSteps()) {
            // the error code less the PFERR_PRIVATE_ACCESS of a private fault (that is the private field): what
            // hardware bits reach the fault path, comparable across versions
            long shown = isPrivate ? code & ~PageFaultErrorCode.PRIVATE_ACCESS : code;
            stepPredicted.add(new ModelEvent.PageFaultOutcome(ModelEvent.PREDICTED, f.vcpu(), gfn, shown, isPrivate,
                    r.name()));
        }
        if (r != FaultEntry.Outcome.RET_PF_CONTINUE) {
            stepNote = (stepNote == null ? "" : stepNote + "; ") + "fault entry" + (pre610 ? " (pre-6.10)" : "")
                    + ": gfn " + hex(gfn) + (isPrivate ? " private" : " shared") + " → " + r;
        }
        return stimulusStep();
    }

    /** kvm_tdp_mmu_map's first effect: trace_kvm_mmu_spte_requested (the rest once the pfn is known). */
    private void tdpSpteRequested(ModelEvent.KvmPageFault f, long gfn, long code, boolean noSlot) {
        if (tdp.root() == 0) {
            tdp.allocRoot(tdp.rootLevel(), null);   // first root load before the trace started: learned
            stepNote = "learned: TDP root (loaded before the trace)";
        }
        boolean exec = (code & PageFaultErrorCode.FETCH) != 0;
        Expected x = push(EventKind.SPTE_REQUESTED, f.vcpu());
        x.flags |= Expected.TDP;
        x.a = gfn;
        x.d = code;
        if (noSlot) {
            x.flags |= Expected.NOSLOT;
            x.c = 1;   // kvm_mmu_hugepage_adjust: nothing to adjust for a noslot pfn, goal 4K
        } else if (exec && config.nxHugePages()) {
            x.c = 1;   // huge_page_disallowed: the goal stays PG_LEVEL_4K
        } else {
            x.c = tdp.hostLevel();
            x.flags |= Expected.LEVEL_LEARNED;
        }
        predicted(x);
    }

    /**
     * handle_mmio_page_fault() on the TDP MMU (direct: addr 0): get_mmio_spte's walk (kvm_tdp_mmu_get_walk) → an
     * MMIO SPTE → check_mmio_spte (then, generation valid, handle_mmio_page_fault and emulation); otherwise the
     * SPTE changed under the fault → RET_PF_RETRY. A stale generation (RET_PF_INVALID, the full fault path) is
     * seen only at the check: its re-fault is not predicted on TDP.
     */
    private FaultEntry.Outcome tdpHandleMmioPageFault(int vid, long gfn) {
        long spte = tdp.leafSpte(gfn);
        if (Spte.isShadowPresent(spte) || !Spte.isMmio(masks, spte)) {
            return FaultEntry.Outcome.RET_PF_RETRY;
        }
        Expected x = push(EventKind.CHECK_MMIO_SPTE, vid);
        x.a = spte;
        x.b = Spte.mmioGeneration(spte, genBit11);
        x.c = 0;                                      // handle_mmio_page_fault: addr = 0 when direct
        x.d = Spte.pfn(spte & ~masks.mmioValue());    // get_mmio_spte_gfn
        x.e = spte & masks.mmioAccessMask();
        x.note = "check_mmio_spte";
        predicted(x);
        return FaultEntry.Outcome.RET_PF_EMULATE;
    }

    /** The rest of kvm_tdp_mmu_map once the host pfn (and, if learned, the level) is known. */
    private void tdpMap(Expected x, ModelEvent.SpteRequested r) {
        if (x.has(Expected.NOSLOT)) {
            if (!tdp.rootObsolete()) {
                // make_mmio_spte(gfn, ACC_ALL) with the memslot generation learned so far
                tdp.mapMmio(r.gfn(), Spte.makeMmioSpte(masks, r.gfn(), Spte.ACC_ALL, Math.max(mmioGen, 0),
                        genBit11), tdpSink);
            }
            return;
        }
        boolean exec = (x.d & PageFaultErrorCode.FETCH) != 0;
        int goal = (int) x.c;
        if (x.has(Expected.LEVEL_LEARNED) && r.level() >= 1) {
            goal = r.level();
            tdp.learnHostLevel(r.level());
        }
        if (tdp.rootObsolete()) {
            return;
        }
        long pfn = r.pfn();
        boolean hostWritable = !pfnReadOnly.containsKey(pfn & ~((1L << (9 * (goal - 1))) - 1));
        tdp.map(r.gfn(), goal, pfn, exec, hostWritable, tdpSink);
    }

    /** TDP effects whose trigger is not in the trace; returns the queue index that now matches, or -1. */
    private int tdpTrigger(ModelEvent e, EventKind k) {
        switch (k) {
            case GET_PAGE -> {
                ShadowPageInfo info = ((ModelEvent.GetPage) e).sp();
                if (info.direct() && info.level() >= 4 && !info.invalid() && tdp.rootObsolete()) {
                    flushQueue();
                    boolean first = tdp.root() == 0;
                    // kvm_mmu_load on entry: kvm_tdp_mmu_alloc_root (after the obsolete root was freed)
                    tdpSink.learn = first;
                    tdp.allocRoot(info.level(), tdpSink);
                    tdpSink.learn = false;
                    stepNote = first ? "learned: first TDP root load"
                            : "kvm_mmu_load: new TDP root after the obsolete one was freed";
                    return find(e, k);
                }
            }
            case TDP_MMU_SPTE_CHANGED -> {
                ModelEvent.TdpMmuSpteChanged c = (ModelEvent.TdpMmuSpteChanged) e;
                boolean tableZapped = Spte.isShadowPresent(c.oldSpte()) && !Spte.isLast(c.oldSpte(), c.level())
                        && !Spte.isShadowPresent(c.newSpte()) && c.level() >= 2;
                if (tableZapped && config.nxHugePages() && config.nxRecoveryRatio() > 0
                        && !tdp.possibleNxHugePages().isEmpty()) {
                    flushQueue();
                    // tdp-zap-sp-may-yield: the pre-33a3164161fc zap may yield with the caller's flush pending
                    boolean mayYield = profile.has(Profile.Switch.TDP_ZAP_SP_MAY_YIELD);
                    int n = tdp.recoverNxHugePages(config.nxRecoveryRatio(), mayYield, tdpSink);
                    String note = "NX recovery period (not traced) → kvm_recover_nx_huge_pages: "
                            + n + " page(s), oldest first";
                    stepNote = stepNote == null ? note : note + "; " + stepNote;
                    return find(e, k);
                }
                if (tdp.hasInvalidRoot()) {
                    return learnEffect(e, k, "kvm_tdp_mmu_zap_invalidated_roots (not predicted)");
                }
            }
            case PREPARE_ZAP_PAGE -> {
                if (tdp.hasInvalidRoot()) {
                    return learnEffect(e, k, "kvm_tdp_mmu_zap_invalidated_roots (not predicted)");
                }
            }
            case ZAP_ALL_FAST -> {
                flushQueue();
                Expected x = push(EventKind.ZAP_ALL_FAST, -1);
                x.a = tdp.zapAllFast();   // the generation before the toggle; roots invalidated
                x.b = 0;                  // n_used_mmu_pages: TDP MMU pages are not counted there
                predicted(x);
                stepNote = "memslot update (not traced) → kvm_mmu_zap_all_fast: TDP roots invalidated";
                return find(e, k);
            }
            default -> {
            }
        }
        return -1;
    }

    /** Adopts a recorded effect nothing predicts but the state explains as untraced work (LEARNED). */
    private int learnEffect(ModelEvent e, EventKind k, String why) {
        flushQueue();
        Expected x = push(k, e.vcpu());
        x.flags |= Expected.LEARNED;
        x.note = "learned: " + why;
        return 0;
    }

    private List<FieldDiff> compareTdpSpteChanged(List<FieldDiff> d, Expected x, ModelEvent.TdpMmuSpteChanged c) {
        if (x.has(Expected.LEARNED)) {
            return d;
        }
        if (c.asId() != x.e) {
            d = diff(d, Field.TDP_AS_ID, Long.toString(x.e), Integer.toString(c.asId()));
        }
        if (c.gfn() != x.a) {
            d = diff(d, Field.TDP_GFN, hex(x.a), hex(c.gfn()));
        }
        if (c.level() != x.c) {
            d = diff(d, Field.TDP_LEVEL, Long.toString(x.c), Integer.toString(c.level()));
        }
        if ((c.oldSpte() & ~ADDR_MASK) != (x.b & ~ADDR_MASK)) {
            d = diff(d, Field.TDP_OLD_SPTE, hex(x.b & ~ADDR_MASK), hex(c.oldSpte() & ~ADDR_MASK));
        }
        if ((c.newSpte() & ~ADDR_MASK) != (x.d & ~ADDR_MASK)) {
            d = diff(d, Field.TDP_NEW_SPTE, hex(x.d & ~ADDR_MASK), hex(c.newSpte() & ~ADDR_MASK));
        }
        return d;
    }

    /** Appends the step's model-derived effects (stale-TLB windows) after its predicted effects (detailed mode). */
    private void appendDerived() {
        if (stepDerived.isEmpty()) {
            return;   // the usual case: ArrayList.addAll would still allocate its argument's (empty) array
        }
        if (config.detailedSteps()) {
            stepPredicted.addAll(stepDerived);
        }
        stepDerived.clear();
    }

    /** Receives what {@link TdpMmu} would trace and queues it as predictions. */
    private final class TdpSink implements TdpMmu.Trace {

        // per-operation: the next get_page is a learned root load (always false between apply calls)
        boolean learn;

        private Expected page(EventKind k, TdpMmu.Page p) {
            Expected x = push(k, -1);
            x.flags |= Expected.TDP;
            x.a = 0;            // sp->mmu_valid_gen: not used (stays 0) for TDP MMU pages
            x.b = p.gfn();
            x.c = p.role();
            x.d = 0;            // root_count: TDP roots count references in tdp_mmu_root_count
            x.spId = p.id();
            return x;
        }

        @Override
        public void getPage(TdpMmu.Page p) {
            Expected x = page(EventKind.GET_PAGE, p);
            x.e = 2;   // new
            if (learn) {
                x.flags |= Expected.LEARNED | Expected.GFN_LEARNED;
                learn = false;
            }
            predicted(x);
        }

        @Override
        public void spteChanged(int asId, long gfn, int level, long oldSpte, long newSpte, int pageId, int index) {
            Expected x = push(EventKind.TDP_MMU_SPTE_CHANGED, -1);
            x.flags |= Expected.TDP;
            x.a = gfn;
            x.b = oldSpte;
            x.c = level;
            x.d = newSpte;
            x.e = asId;
            x.spId = pageId;
            x.index = index;
            if (mmioGen < 0 && Spte.isMmio(masks, newSpte)) {
                x.flags |= Expected.LEARNED;   // the MMIO SPTE's memslot generation is not known yet
                x.note = "learned: MMIO SPTE generation";
            }
            predicted(x);
        }

        @Override
        public void markMmioSpte(long gfn, long spte, int pageId, int index) {
            Expected x = push(EventKind.MARK_MMIO_SPTE, -1);
            x.flags |= Expected.TDP;
            x.a = gfn;
            x.b = spte & Spte.ACC_ALL;   // trace_mark_mmio_spte: access = spte & ACC_ALL
            x.c = mmioGen;
            x.d = Spte.ACC_ALL;
            x.spId = pageId;
            x.index = index;
            predicted(x);
        }

        @Override
        public void prepareZap(TdpMmu.Page p) {
            predicted(page(EventKind.PREPARE_ZAP_PAGE, p));
        }

        @Override
        public void setSpte(long gfn, long spte, int level, int index, int pageId) {
            Expected x = push(EventKind.SET_SPTE, -1);
            x.flags |= Expected.TDP;
            x.a = gfn;
            x.b = spte;
            x.c = level;
            x.d = spte;
            x.spId = pageId;
            x.index = index;
            predicted(x);
        }

        @Override
        public void splitHugePage(long gfn, long spte, int level) {
            Expected x = push(EventKind.SPLIT_HUGE_PAGE, -1);
            x.flags |= Expected.TDP;
            x.a = gfn;
            x.b = spte;
            x.c = level;
            predicted(x);
        }

        @Override
        public void staleTlbWindow(long gfn, int level, long staleGfn, int staleLevel, boolean progress) {
            stepDerived.add(new ModelEvent.StaleTlbWindow(ModelEvent.PREDICTED, -1, gfn, level, staleGfn, staleLevel,
                    progress));
            String note = "stale-TLB window: zap of gfn " + hex(gfn) + " (level " + level + ") may yield while the"
                    + " flush for gfn " + hex(staleGfn) + " (level " + staleLevel + ") is pending"
                    + (progress ? "" : " (no forward progress yet: yield held back by tdp_mmu_iter_cond_resched)");
            stepNote = stepNote == null ? note : stepNote + "; " + note;
        }
    }

    // ============================================================================================ digest

    /**
     * An order-sensitive 64-bit hash of the whole state (shadow pages with every SPTE, hash/active-list links,
     * tracking counts, vCPU roots and control bits, observed guest PTEs, learned host facts, queued predictions).
     * Identical across runs, JVMs and machines for the same event sequence.
     */
    public long digest() {
        Digest d = new Digest();
        mmu.digestInto(d);
        if (tdp != null) {
            tdp.digestInto(d);
        }
        for (long k : pfnReadOnly.sortedKeys()) {
            d.add(k);
        }
        d.add(mmioGen);
        for (long p : pendingInj) {
            d.add(p);
        }
        d.add(qSize);
        for (int i = 0; i < qSize; i++) {
            Expected x = at(i);
            d.add(x.kind.ordinal()).add(x.flags).add(x.a).add(x.b).add(x.c).add(x.d).add(x.e).add(x.index);
        }
        return d.value();
    }

    /** {live present SPTEs, approximate heap bytes of the model state}. */
    public long[] footprint() {
        return mmu.footprint();
    }

}
