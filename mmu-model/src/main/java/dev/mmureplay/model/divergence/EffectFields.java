package dev.mmureplay.model.divergence;

import dev.mmureplay.model.Field;
import dev.mmureplay.model.FieldClass;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.event.ShadowPageInfo;
import dev.mmureplay.model.mmu.Spte;

import java.util.ArrayList;
import java.util.List;

/**
 * The compared (EXACT) field values of one effect, rendered as the trace prints them, in {@link Field} order.
 * LEARNED and IGNORED fields (host pfns, sptep addresses, the MMIO memslot generation) are never returned, so they
 * can never make two profiles diverge. The class of every field comes from {@link Field}, the one table.
 */
public final class EffectFields {

    /** One compared field of an effect. */
    public record Value(Field field, String value) {
    }

    private EffectFields() {
    }

    /** The EXACT fields of {@code e} (empty for kinds the model does not predict). */
    public static List<Value> exact(ModelEvent e) {
        List<Value> out = new ArrayList<>(6);
        switch (e.kind()) {
            case SET_ACCESSED_BIT -> add(out, Field.SET_ACCESSED_GPA, hex(((ModelEvent.SetAccessedBit) e).gpa()));
            case SET_DIRTY_BIT -> add(out, Field.SET_DIRTY_GPA, hex(((ModelEvent.SetDirtyBit) e).gpa()));
            case WALKER_ERROR -> {
                // walker error codes are compared on their low 32 bits, as MmuStateMachine.compare does
                long pferr = ((ModelEvent.WalkerError) e).pferr();
                add(out, Field.WALKER_ERROR_PFERR, pferr == ModelEvent.UNKNOWN ? "?" : hex(pferr & 0xffffffffL));
            }
            case INJECTED_EXCEPTION -> {
                ModelEvent.InjectedException i = (ModelEvent.InjectedException) e;
                add(out, Field.INJ_VECTOR, Integer.toString(i.vector()));
                add(out, Field.INJ_ERROR_CODE, hex(i.errorCode()));
            }
            case GET_PAGE -> {
                ModelEvent.GetPage g = (ModelEvent.GetPage) e;
                sp(out, g.sp());
                add(out, Field.GET_PAGE_CREATED, g.created() ? "new" : "existing");
            }
            case SYNC_PAGE -> sp(out, ((ModelEvent.SyncPage) e).sp());
            case UNSYNC_PAGE -> sp(out, ((ModelEvent.UnsyncPage) e).sp());
            case PREPARE_ZAP_PAGE -> sp(out, ((ModelEvent.PrepareZapPage) e).sp());
            case SPTE_REQUESTED -> {
                ModelEvent.SpteRequested r = (ModelEvent.SpteRequested) e;
                add(out, Field.SPTE_REQ_GFN, hex(r.gfn()));
                add(out, Field.SPTE_REQ_LEVEL, Integer.toString(r.level()));
                add(out, Field.SPTE_REQ_PFN, hex(r.pfn()));   // LEARNED: dropped by add()
            }
            case SET_SPTE -> {
                ModelEvent.SetSpte s = (ModelEvent.SetSpte) e;
                add(out, Field.SET_SPTE_GFN, hex(s.gfn()));
                // the pfn field is LEARNED (Field.SET_SPTE_PFN): every other SPTE bit is compared
                add(out, Field.SET_SPTE_BITS, s.spte() == ModelEvent.UNKNOWN ? "?"
                        : hex(s.spte() & ~Spte.SPTE_BASE_ADDR_MASK));
                add(out, Field.SET_SPTE_PERMS, s.perms());
                add(out, Field.SET_SPTE_LEVEL, Integer.toString(s.level()));
                add(out, Field.SET_SPTE_INDEX, s.sptep() == ModelEvent.UNKNOWN ? "?" : hex(s.sptep() & 0xfff));
                add(out, Field.SET_SPTE_SPTEP, hex(s.sptep()));   // IGNORED: dropped by add()
            }
            case ZAP_ALL_FAST -> {
                ModelEvent.ZapAllFast z = (ModelEvent.ZapAllFast) e;
                add(out, Field.ZAP_ALL_FAST_GEN, Long.toString(z.gen()));
                add(out, Field.ZAP_ALL_FAST_USED, hex(z.usedPages()));
            }
            case CHECK_MMIO_SPTE -> {
                ModelEvent.CheckMmioSpte c = (ModelEvent.CheckMmioSpte) e;
                add(out, Field.CHECK_MMIO_SPTE, hex(c.spte()));
                add(out, Field.CHECK_MMIO_KVM_GEN, hex(c.kvmGen()));   // LEARNED: dropped by add()
                add(out, Field.CHECK_MMIO_SPTE_GEN, hex(c.spteGen()));
            }
            case HANDLE_MMIO_PAGE_FAULT -> {
                ModelEvent.HandleMmioPageFault h = (ModelEvent.HandleMmioPageFault) e;
                add(out, Field.HANDLE_MMIO_ADDR, hex(h.addr()));
                add(out, Field.HANDLE_MMIO_GFN, hex(h.gfn()));
                add(out, Field.HANDLE_MMIO_ACCESS, hex(h.access()));
            }
            case MARK_MMIO_SPTE -> {
                ModelEvent.MarkMmioSpte m = (ModelEvent.MarkMmioSpte) e;
                add(out, Field.MARK_MMIO_GFN, hex(m.gfn()));
                add(out, Field.MARK_MMIO_ACCESS, hex(m.access()));
                add(out, Field.MARK_MMIO_GEN, Long.toString(m.gen()));   // LEARNED: dropped by add()
            }
            case TDP_MMU_SPTE_CHANGED -> {
                ModelEvent.TdpMmuSpteChanged c = (ModelEvent.TdpMmuSpteChanged) e;
                add(out, Field.TDP_AS_ID, Integer.toString(c.asId()));
                add(out, Field.TDP_GFN, hex(c.gfn()));
                add(out, Field.TDP_LEVEL, Integer.toString(c.level()));
                add(out, Field.TDP_OLD_SPTE, hex(c.oldSpte() & ~Spte.SPTE_BASE_ADDR_MASK));
                add(out, Field.TDP_NEW_SPTE, hex(c.newSpte() & ~Spte.SPTE_BASE_ADDR_MASK));
            }
            case SPLIT_HUGE_PAGE -> {
                ModelEvent.SplitHugePage sp = (ModelEvent.SplitHugePage) e;
                add(out, Field.SPLIT_GFN, hex(sp.gfn()));
                add(out, Field.SPLIT_SPTE, hex(sp.spte() & ~Spte.SPTE_BASE_ADDR_MASK));
                add(out, Field.SPLIT_LEVEL, Integer.toString(sp.level()));
                add(out, Field.SPLIT_ERRNO, Integer.toString(sp.errno()));
            }
            case STALE_TLB_WINDOW -> {
                ModelEvent.StaleTlbWindow w = (ModelEvent.StaleTlbWindow) e;
                add(out, Field.STALE_TLB_GFN, hex(w.gfn()));
                add(out, Field.STALE_TLB_LEVEL, Integer.toString(w.level()));
                add(out, Field.STALE_TLB_PENDING_GFN, hex(w.staleGfn()));
                add(out, Field.STALE_TLB_PENDING_LEVEL, Integer.toString(w.staleLevel()));
                add(out, Field.STALE_TLB_PROGRESS, Boolean.toString(w.progress()));
            }
            case USERSPACE_EXIT -> {
                ModelEvent.UserspaceExit x = (ModelEvent.UserspaceExit) e;
                add(out, Field.USERSPACE_EXIT_REASON, x.reason());
                add(out, Field.USERSPACE_EXIT_CODE, Integer.toString(x.code()));
            }
            case PAGE_FAULT_OUTCOME -> {
                ModelEvent.PageFaultOutcome o = (ModelEvent.PageFaultOutcome) e;
                add(out, Field.FAULT_OUTCOME_GFN, hex(o.gfn()));
                add(out, Field.FAULT_OUTCOME_ERROR_CODE, hex(o.errorCode()));
                add(out, Field.FAULT_OUTCOME_PRIVATE, Boolean.toString(o.isPrivate()));
                add(out, Field.FAULT_OUTCOME_RESULT, o.outcome());
            }
            default -> {
            }
        }
        return out;
    }

    private static void sp(List<Value> out, ShadowPageInfo sp) {
        add(out, Field.SP_GEN, sp.gen() == ModelEvent.UNKNOWN ? "?" : Long.toString(sp.gen()));
        add(out, Field.SP_GFN, sp.gfn() == ModelEvent.UNKNOWN ? "?" : hex(sp.gfn()));
        add(out, Field.SP_ROLE, "l" + sp.level() + " " + (sp.fourByte() ? 4 : 8) + "-byte q" + sp.quadrant()
                + (sp.direct() ? " direct" : "") + " " + ShadowPageInfo.accessString(sp.access())
                + (sp.invalid() ? " invalid" : "") + (sp.nxe() ? " nxe" : " !nxe") + (sp.adDisabled() ? " !ad" : " ad")
                + (sp.cr0Wp() == ModelEvent.UNKNOWN_INT ? "" : sp.cr0Wp() == 1 ? " wp" : " !wp"));
        add(out, Field.SP_ROOT_COUNT, Integer.toString(sp.rootCount()));
        add(out, Field.SP_UNSYNC, sp.unsync() ? "unsync" : "sync");
    }

    private static void add(List<Value> out, Field f, String v) {
        if (f.cls() == FieldClass.EXACT) {
            out.add(new Value(f, v));
        }
    }

    private static String hex(long v) {
        return v == ModelEvent.UNKNOWN ? "?" : Long.toHexString(v);
    }
}
