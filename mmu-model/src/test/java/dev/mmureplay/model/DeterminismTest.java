package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** Same events → same digest, in this JVM and in another one; different events → different digest. */
class DeterminismTest {

    static final String[] TRACES = {"long_user_basic.trace", "long_user_many_pages.trace", "long_user_memslot.trace",
            "long_kernel_emulated.trace", "real_io.trace", "pae32_kernel_fails.trace"};

    static long digestOf(List<ModelEvent> events) {
        MmuStateMachine m = MmuStateMachine.create();
        for (ModelEvent e : events) {
            m.apply(e);
        }
        return m.digest();
    }

    /** Prints one digest per trace; run in a child JVM by {@link #digestsAreEqualInAnotherJvm}. */
    public static void main(String[] args) {
        StringBuilder sb = new StringBuilder();
        for (String t : TRACES) {
            sb.append(Long.toHexString(digestOf(TraceLines.resource(t)))).append('\n');
        }
        System.out.print(sb);
    }

    @Test
    void replayingTheSameTraceTwiceGivesEqualDigests() {
        for (String t : TRACES) {
            List<ModelEvent> events = TraceLines.resource(t);
            assertEquals(digestOf(events), digestOf(events), t);
        }
    }

    @Test
    void digestFollowsTheState() {
        List<ModelEvent> events = TraceLines.resource("long_user_basic.trace");
        long full = digestOf(events);
        long prefix = digestOf(events.subList(0, events.size() - 1));
        assertNotEquals(full, prefix);
        assertNotEquals(digestOf(TraceLines.resource("long_user_many_pages.trace")), full);
    }

    @Test
    void digestsAreEqualInAnotherJvm() throws Exception {
        StringBuilder here = new StringBuilder();
        for (String t : TRACES) {
            here.append(Long.toHexString(digestOf(TraceLines.resource(t)))).append('\n');
        }
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        Process p = new ProcessBuilder(java, "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                DeterminismTest.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals(here.toString(), out);
    }
}
