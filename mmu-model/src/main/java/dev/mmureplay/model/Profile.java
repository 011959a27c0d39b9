package dev.mmureplay.model;

import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A named set of behaviour switches that differ between kernel versions / patches (DESIGN §4). {@link #UPSTREAM}
 * (current mainline) has none; {@link #BUILT_IN} lists it and the five seed profiles. Users compose their own in a
 * profile file ({@link ProfileFile}). Immutable.
 *
 * <p>Every switch is documented here, in one place: the kernel behaviour it selects, the discussion it comes from,
 * and whether this model implements it ({@link Switch#modelled()}). A switch that is not modelled is accepted (so
 * profiles can be named and composed today) but changes nothing yet — every listing ({@code mmu-replay profiles},
 * {@link #notModelled()}, the README) says so; it is never a silent no-op.
 *
 * @param name     profile name
 * @param base     the profile this one was composed from ({@code null} for the built-in ones)
 * @param switches behaviour switches
 */
public record Profile(String name, String base, Set<Switch> switches) {

    /** Kernel behaviours a profile can switch. Each constant: id, modelled?, behaviour, source discussion. */
    public enum Switch {
        /** MMIO SPTE generation in bits 3-11 (overlapping MMU-present bit 11), before the 2021 fix. */
        MMIO_GEN_BIT11("mmio-gen-bit11", true,
                "MMIO SPTE generation uses SPTE bits 3-11 and 52-62 (20 bits), overlapping the MMU-present bit 11:"
                        + " MMIO SPTEs whose generation has bit 8 set look shadow-present (get_mmio_spte 'detect"
                        + " reserved bits', then a __pte_list_remove BUG)",
                "2021 MMU_PRESENT series (SPTE_MMU_PRESENT_MASK = bit 11), first version, before the fix that moved"
                        + " the generation to bits 3-10 / 52-62 (19 bits)",
                "modelled with MMIO caching on (ModelConfig.mmioCaching): mark_mmio_spte stores the SPTE in this"
                        + " layout (MmuStateMachine.afterMatch), get_mmio_spte sees a generation with bit 8 set as"
                        + " MMU-present with reserved bits → -EINVAL, no check_mmio_spte"
                        + " (MmuStateMachine.handleMmioPageFault)"),
        /**
         * NX-recovery zap of one TDP shadow page may yield with a pending flush: the behaviour before commit
         * 33a3164161fc ("KVM: x86/mmu: Don't allow TDP MMU to yield when recovering NX pages", Sean Christopherson,
         * March 2021, 5.12-rc5), where kvm_recover_nx_lpages zapped a TDP page through
         * kvm_tdp_mmu_zap_gfn_range(kvm, sp->gfn, end) with can_yield=true and no knowledge of the caller's flush.
         */
        TDP_ZAP_SP_MAY_YIELD("tdp-zap-sp-may-yield", true,
                "kvm_tdp_mmu_zap_sp during NX huge-page recovery zaps with can_yield=true: it may drop mmu_lock"
                        + " while a TLB flush from an earlier recovered page is still pending (stale-TLB window)",
                "commit 33a3164161fc 'KVM: x86/mmu: Don't allow TDP MMU to yield when recovering NX pages' (2021,"
                        + " 5.12-rc5; seed 001), which made kvm_tdp_mmu_zap_sp pass can_yield=false",
                "modelled with tdp=true and nxHugePages=true (TdpMmu.recoverNxHugePages): each page after the first"
                        + " is zapped through TdpMmu.zapGfnRange with yielding allowed and the previous page's flush"
                        + " pending → a stale_tlb_window effect appended to the recovery step's predictions; its"
                        + " progress field is tdp_mmu_iter_cond_resched's forward-progress rule (false under the"
                        + " write lock, as the fix's message explains)"),
        /**
         * PAE roots as ordinary shadow pages with default PDPTEs — seed 002, the 2021/22 RFC series on kvm@ making PAE
         * roots shadow pages (role.pae_root, role.guest_pae_root for the guest's PDPT, sp->pae_off, the guest PAE page
         * write-protected; thread e.g. lkml.iu.edu/hypermail/linux/kernel/2204.1/09767.html; review: hardware needs no
         * present PDPTEs, only no reserved bits in present ones). Upstream (arch/x86/kvm/mmu/mmu.c) keeps
         * mmu->pae_root, four special entries filled by mmu_alloc_direct_roots / mmu_alloc_shadow_roots, each a
         * level-2 root page of its own.
         */
        PAE_ROOT_DEFAULT_PDPTE("pae-root-default-pdpte", true,
                "PAE roots allocated as ordinary shadow pages (a pae_root role bit) whose unused entries hold a"
                        + " default PDPTE present to the CPU but not MMU-present, pointing at a zero page",
                "2021/22 RFC making PAE roots normal shadow pages (seed 002); upstream keeps special-cased pae_root",
                "root loads of non-paging and PAE guests (ShadowMmu.loadRoots/allocPaeRootPage): one level-3"
                        + " kvm_mmu_get_page (direct gfn 0, or the PAE guest's PDPT = CR3 gfn, write-tracked) instead"
                        + " of four level-2 roots; level-2 pages allocated by the fault path as ordinary children"
                        + " (root 0); the root page survives CR3 writes (fast_pgd_switch keeps roots with a shadow page);"
                        + " 2-level guests keep the upstream quadrant roots"),
        /** CR4.PAE not part of the MMU role: toggling it with paging on keeps the old context. */
        NO_RESET_ON_PAE_TOGGLE("no-reset-on-pae-toggle", true,
                "CR4.PAE missing from the extended MMU role: a guest toggling CR4.PAE while CR0.PG=1 gets no"
                        + " kvm_mmu_reset_context and keeps its stale roots",
                "2019 regression and its fix restoring cr4_pae in kvm_mmu_extended_role (seed 003)",
                "kvm_cr write of CR4 (MmuStateMachine.onCr): PAE is left out of the role-change test"),
        /**
         * Fault path before the 2024 "KVM: x86/mmu: Page fault and MMIO cleanups" series (Sean Christopherson, v6.10;
         * seed 004), whose patches each give one rule of {@link dev.mmureplay.model.mmu.FaultEntry}: "KVM: x86/mmu:
         * Exit to userspace with -EFAULT if private fault hits emulation", "KVM: x86/mmu: Pass full 64-bit error code
         * when handling page faults", "KVM: x86: Use synthetic page fault error code to indicate private faults"
         * (PFERR_PRIVATE_ACCESS, bit 49), "KVM: x86/mmu: WARN if upper 32 bits of legacy #PF error code are
         * nonzero", "KVM: x86: Move synthetic PFERR_* sanity checks to SVM's #NPF handler", "KVM: x86/mmu: WARN and
         * skip MMIO cache on private, reserved page faults", "KVM: x86/mmu: Move private vs. shared check above slot
         * validity checks", "KVM: x86/mmu: Explicitly disallow private accesses to emulated MMIO", "KVM: x86/mmu:
         * Handle no-slot faults at the beginning of kvm_faultin_pfn()" (merged for 6.10 through kvm-x86 mmu).
         */
        PRE_6_10_FAULT_PATH("pre-6.10-fault-path", true,
                "page-fault handling before the 6.10 cleanups: fault->is_private is the gfn's attribute (no"
                        + " private/shared mismatch exit), reserved-bit private faults consult the MMIO SPTE / cache"
                        + " and are emulated, a private access to a gfn without memslot is emulated MMIO, the"
                        + " APIC-page emulation check runs before the private check (a private fault can hit"
                        + " emulation), the #NPF / legacy #PF error code reaches the fault path unsanitised",
                "2024 'KVM: x86/mmu: Page fault and MMIO cleanups' series (6.10, seed 004)",
                "modelled on the TDP MMU (tdp=true; private memory needs it): MmuStateMachine.onTdpPageFault runs"
                        + " the mmu.FaultEntry rules of the profile's version per kvm_page_fault — map"
                        + " (spte_requested ...), MMIO SPTE check, or a predicted kvm_userspace_exit -EFAULT — with"
                        + " the VM type, memslots and memory attributes from 'mmu-replay:' markers"
                        + " (mmu.PrivateMemory) and the raw error code from the kvm_exit before the fault; the"
                        + " decision is the model-derived page_fault_outcome effect");

        private final String id;
        private final boolean modelled;
        private final String behaviour;
        private final String source;
        private final String status;

        Switch(String id, boolean modelled, String behaviour, String source, String status) {
            this.id = id;
            this.modelled = modelled;
            this.behaviour = behaviour;
            this.source = source;
            this.status = status;
        }

        /** The switch name used in profile names and profile files. */
        public String id() {
            return id;
        }

        /** Whether this model implements the switch (others are accepted and listed as "not yet modelled"). */
        public boolean modelled() {
            return modelled;
        }

        /** The kernel behaviour the switch selects (versus upstream). */
        public String behaviour() {
            return behaviour;
        }

        /** The kernel discussion / patch series it comes from. */
        public String source() {
            return source;
        }

        /** Where the model implements it, or why it does not yet. */
        public String status() {
            return status;
        }

        /** "modelled" or "not yet modelled". */
        public String statusWord() {
            return modelled ? "modelled" : "not yet modelled";
        }

        /** The switch with this id (or enum name, any case, '_' for '-'), or null. */
        public static Switch byId(String s) {
            String t = s.trim();
            String k = t.toLowerCase(java.util.Locale.ROOT).replace('_', '-');
            for (Switch w : values()) {
                if (w.id.equals(k) || w.name().equalsIgnoreCase(t)) {
                    return w;
                }
            }
            return null;
        }
    }

    /** Current mainline: no switch. */
    public static final Profile UPSTREAM = new Profile("upstream", null, EnumSet.noneOf(Switch.class));

    /** {@code upstream} and the five seed profiles, in that order; each seed profile is upstream plus one switch. */
    public static final List<Profile> BUILT_IN;

    static {
        List<Profile> l = new ArrayList<>();
        l.add(UPSTREAM);
        for (Switch s : Switch.values()) {
            l.add(of(s));
        }
        BUILT_IN = Collections.unmodifiableList(l);
    }

    public Profile {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("profile name must not be blank");
        }
        switches = Collections.unmodifiableSet(switches.isEmpty() ? EnumSet.noneOf(Switch.class)
                : EnumSet.copyOf(switches));
    }

    /** A profile with no recorded base. */
    public Profile(String name, Set<Switch> switches) {
        this(name, null, switches);
    }

    public boolean has(Switch s) {
        return switches.contains(s);
    }

    /** Switches of this profile the model does not implement yet (in enum order). */
    public List<Switch> notModelled() {
        List<Switch> out = new ArrayList<>();
        for (Switch s : switches) {
            if (!s.modelled()) {
                out.add(s);
            }
        }
        return out;
    }

    /** The profile of the given switch ({@code upstream} plus that switch), named after it. */
    public static Profile of(Switch s) {
        return new Profile(s.id(), UPSTREAM.name(), EnumSet.of(s));
    }

    /** The built-in profile with this name, or null. */
    public static Profile builtIn(String name) {
        for (Profile p : BUILT_IN) {
            if (p.name.equals(name)) {
                return p;
            }
        }
        return null;
    }

    /**
     * Snapshot (format v2): the profile by value — name, base (nullable), the number of switches and each switch's
     * id ({@link Switch#id()}, in enum order). Self-contained: a user profile restores without its profile file.
     */
    void writeTo(SnapshotOutput out) {
        out.string(name);
        out.nullableString(base);
        out.uvarint(switches.size());
        for (Switch s : switches) {
            out.string(s.id());
        }
    }

    /**
     * Reads a profile written by {@link #writeTo}: the built-in instance when the value equals a built-in profile
     * (so identity comparisons with {@link #UPSTREAM} or {@link #BUILT_IN} entries hold after a restore), else a new
     * equal profile. An unknown switch id is an IOException.
     */
    static Profile readFrom(SnapshotInput in) throws IOException {
        String name = in.string();
        String base = in.nullableString();
        int n = in.count(1, "profile switches");
        EnumSet<Switch> set = EnumSet.noneOf(Switch.class);
        for (int i = 0; i < n; i++) {
            String id = in.string();
            Switch s = null;
            for (Switch w : Switch.values()) {
                if (w.id.equals(id)) {
                    s = w;
                }
            }
            if (s == null) {
                throw in.corrupt("profile '" + name + "' names switch '" + id + "', unknown to this model");
            }
            set.add(s);
        }
        if (name.isBlank()) {
            throw in.corrupt("blank profile name");
        }
        Profile p = new Profile(name, base, set);
        Profile builtIn = builtIn(name);
        return p.equals(builtIn) ? builtIn : p;
    }
}
