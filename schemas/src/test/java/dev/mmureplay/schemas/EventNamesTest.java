package dev.mmureplay.schemas;

import dev.mmureplay.avro.TraceEvent;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

class EventNamesTest {

    @Test
    void everyTypedPayloadOfTheEnvelopeHasExactlyOneEventName() {
        Set<String> payloadRecords = TraceEvent.getClassSchema().getField("payload").schema().getTypes().stream()
                .map(Schema::getName).filter(n -> !n.equals("GenericEvent")).collect(Collectors.toSet());
        assertEquals(payloadRecords.size(), EventNames.typedNames().size());
        for (String name : EventNames.typedNames()) {
            Class<?> cls = EventNames.payloadClass(name);
            assertNotNull(cls, name);
            assertEquals(true, payloadRecords.contains(cls.getSimpleName()), cls.getSimpleName());
        }
    }

    @Test
    void namesAreTheKernelTracepointNames() {
        assertEquals(dev.mmureplay.avro.KvmMmuSetSpte.class, EventNames.payloadClass("kvm_mmu_set_spte"));
        assertEquals("kvm_mmu_get_page", EventNames.ofPayload(new dev.mmureplay.avro.KvmMmuGetPage()));
        assertEquals("tracing_mark_write", EventNames.ofPayload(new dev.mmureplay.avro.Marker("x")));
        assertEquals("sched_switch", EventNames.ofPayload(new dev.mmureplay.avro.GenericEvent("sched_switch", "")));
    }
}
