package dev.mmureplay.model;

import dev.mmureplay.model.event.EventKind;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every effect kind the model predicts has its fields classified, each with a reason. */
class FieldClassificationTest {

    @Test
    void everyPredictedEffectKindHasClassifiedFields() {
        for (EventKind k : EventKind.values()) {
            if (!k.isEffect()) {
                continue;
            }
            boolean unmodelled = k == EventKind.HANDLE_MMIO_PAGE_FAULT || k == EventKind.CHECK_MMIO_SPTE
                    || k == EventKind.FAST_PAGE_FAULT || k == EventKind.TDP_MMU_SPTE_CHANGED
                    || k == EventKind.SPLIT_HUGE_PAGE;
            assertTrue(unmodelled || !Field.of(k).isEmpty(), k.toString());
        }
        for (Field f : Field.values()) {
            assertFalse(f.reason().isBlank(), f.toString());
        }
        assertTrue(Field.markdownTable().contains("| kvm_mmu_set_spte | spte | EXACT |"));
    }
}
