package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

/** The model must not crash on any input order: shuffled, truncated and concatenated real traces. */
class RobustnessTest {

    @Test
    void shuffledAndConcatenatedTracesNeverCrashTheModel() {
        List<ModelEvent> all = new ArrayList<>();
        for (String t : DeterminismTest.TRACES) {
            all.addAll(TraceLines.resource(t));
        }
        assertDoesNotThrow(() -> DeterminismTest.digestOf(all));
        Random rnd = new Random(42);   // fixed seed: the test itself is deterministic
        for (int round = 0; round < 20; round++) {
            List<ModelEvent> copy = new ArrayList<>(all);
            if (round % 2 == 0) {
                Collections.shuffle(copy, rnd);
            } else {
                // local swaps keep most structure but break chains
                for (int i = 0; i < copy.size() / 10; i++) {
                    int a = rnd.nextInt(copy.size() - 1);
                    Collections.swap(copy, a, a + 1);
                }
            }
            List<ModelEvent> events = copy;
            assertDoesNotThrow(() -> {
                Conformance c = new Conformance("fuzz");
                c.acceptAll(events);
                c.report().toJson();
            });
        }
    }
}
