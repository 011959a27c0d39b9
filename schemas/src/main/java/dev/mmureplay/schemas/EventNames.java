package dev.mmureplay.schemas;

import dev.mmureplay.avro.CheckMmioSpte;
import dev.mmureplay.avro.FastPageFault;
import dev.mmureplay.avro.GenericEvent;
import dev.mmureplay.avro.HandleMmioPageFault;
import dev.mmureplay.avro.KvmCr;
import dev.mmureplay.avro.KvmEmulateInsn;
import dev.mmureplay.avro.KvmExit;
import dev.mmureplay.avro.KvmInjException;
import dev.mmureplay.avro.KvmMmio;
import dev.mmureplay.avro.KvmMmuGetPage;
import dev.mmureplay.avro.KvmMmuPagetableWalk;
import dev.mmureplay.avro.KvmMmuPagingElement;
import dev.mmureplay.avro.KvmMmuPrepareZapPage;
import dev.mmureplay.avro.KvmMmuSetAccessedBit;
import dev.mmureplay.avro.KvmMmuSetDirtyBit;
import dev.mmureplay.avro.KvmMmuSetSpte;
import dev.mmureplay.avro.KvmMmuSplitHugePage;
import dev.mmureplay.avro.KvmMmuSpteRequested;
import dev.mmureplay.avro.KvmMmuSyncPage;
import dev.mmureplay.avro.KvmMmuUnsyncPage;
import dev.mmureplay.avro.KvmMmuWalkerError;
import dev.mmureplay.avro.KvmMmuZapAllFast;
import dev.mmureplay.avro.KvmPageFault;
import dev.mmureplay.avro.KvmPio;
import dev.mmureplay.avro.KvmTdpMmuSpteChanged;
import dev.mmureplay.avro.KvmUnmapHvaRange;
import dev.mmureplay.avro.KvmUserspaceExit;
import dev.mmureplay.avro.MarkMmioSpte;
import dev.mmureplay.avro.Marker;
import dev.mmureplay.avro.TraceEvent;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The tracepoint name of each typed payload record, and back. The one place that ties the Avro record names
 * to the kernel's event names.
 */
public final class EventNames {

    /** Name used for {@link Marker} payloads: the kernel prints trace_marker writes as "tracing_mark_write". */
    public static final String MARKER = "tracing_mark_write";

    private static final Map<Class<?>, String> NAMES = Map.ofEntries(
            Map.entry(KvmMmuPagetableWalk.class, "kvm_mmu_pagetable_walk"),
            Map.entry(KvmMmuPagingElement.class, "kvm_mmu_paging_element"),
            Map.entry(KvmMmuSetAccessedBit.class, "kvm_mmu_set_accessed_bit"),
            Map.entry(KvmMmuSetDirtyBit.class, "kvm_mmu_set_dirty_bit"),
            Map.entry(KvmMmuWalkerError.class, "kvm_mmu_walker_error"),
            Map.entry(KvmMmuGetPage.class, "kvm_mmu_get_page"),
            Map.entry(KvmMmuSyncPage.class, "kvm_mmu_sync_page"),
            Map.entry(KvmMmuUnsyncPage.class, "kvm_mmu_unsync_page"),
            Map.entry(KvmMmuPrepareZapPage.class, "kvm_mmu_prepare_zap_page"),
            Map.entry(MarkMmioSpte.class, "mark_mmio_spte"),
            Map.entry(HandleMmioPageFault.class, "handle_mmio_page_fault"),
            Map.entry(FastPageFault.class, "fast_page_fault"),
            Map.entry(KvmMmuZapAllFast.class, "kvm_mmu_zap_all_fast"),
            Map.entry(CheckMmioSpte.class, "check_mmio_spte"),
            Map.entry(KvmMmuSetSpte.class, "kvm_mmu_set_spte"),
            Map.entry(KvmMmuSpteRequested.class, "kvm_mmu_spte_requested"),
            Map.entry(KvmTdpMmuSpteChanged.class, "kvm_tdp_mmu_spte_changed"),
            Map.entry(KvmMmuSplitHugePage.class, "kvm_mmu_split_huge_page"),
            Map.entry(KvmPageFault.class, "kvm_page_fault"),
            Map.entry(KvmCr.class, "kvm_cr"),
            Map.entry(KvmExit.class, "kvm_exit"),
            Map.entry(KvmMmio.class, "kvm_mmio"),
            Map.entry(KvmEmulateInsn.class, "kvm_emulate_insn"),
            Map.entry(KvmUnmapHvaRange.class, "kvm_unmap_hva_range"),
            Map.entry(KvmInjException.class, "kvm_inj_exception"),
            Map.entry(KvmPio.class, "kvm_pio"),
            Map.entry(KvmUserspaceExit.class, "kvm_userspace_exit"),
            Map.entry(Marker.class, MARKER));

    private static final Map<String, Class<?>> BY_NAME = NAMES.entrySet().stream()
            .collect(Collectors.toUnmodifiableMap(Map.Entry::getValue, Map.Entry::getKey));

    private EventNames() {
    }

    /** The event name of an event: the tracepoint of a typed payload, or the name kept in a generic one. */
    public static String of(TraceEvent event) {
        return ofPayload(event.getPayload());
    }

    /** The event name of a payload record. */
    public static String ofPayload(Object payload) {
        if (payload instanceof GenericEvent g) {
            return g.getName();
        }
        String name = NAMES.get(payload.getClass());
        if (name == null) {
            throw new IllegalArgumentException("not a TraceEvent payload: " + payload.getClass().getName());
        }
        return name;
    }

    /** The typed payload class of a tracepoint name, or null when events of that name are kept as generic. */
    public static Class<?> payloadClass(String eventName) {
        return BY_NAME.get(eventName);
    }

    /** Every tracepoint name that has a typed payload, sorted. */
    public static List<String> typedNames() {
        return BY_NAME.keySet().stream().sorted().toList();
    }
}
