package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Conformance over the full shared real traces: the model must explain ≥ 99.9 % of the predictable effects. */
class ConformanceTracesTest {

    @ParameterizedTest
    @ValueSource(strings = {"long_user_basic.trace", "long_user_many_pages.trace", "long_user_memslot.trace",
            "long_kernel_emulated.trace", "real_io.trace", "pae32_kernel_fails.trace"})
    void sharedTraceIsExplained(String trace) {
        List<ModelEvent> events = TraceLines.resource(trace);
        ConformanceReport r = new Conformance(trace).acceptAll(events).report();
        System.out.println(r.toText());
        assertTrue(r.explainedRatio() >= 0.999, r.toText());
    }
}
