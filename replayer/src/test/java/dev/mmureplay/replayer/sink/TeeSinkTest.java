package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.testing.SampleEvents;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TeeSinkTest {

    /** Records what it gets; fails on demand. */
    static final class Recording implements EventSink {
        final List<TraceEvent> events = new ArrayList<>();
        final String failOn;
        int flushes;
        boolean closed;

        Recording(String failOn) {
            this.failOn = failOn;
        }

        @Override
        public void accept(TraceEvent event) throws IOException {
            if ("accept".equals(failOn)) {
                throw new IOException("accept failed");
            }
            events.add(event);
        }

        @Override
        public void flush() throws IOException {
            flushes++;
            if ("flush".equals(failOn)) {
                throw new IOException("flush failed");
            }
        }

        @Override
        public void close() throws IOException {
            closed = true;
            if ("close".equals(failOn)) {
                throw new IOException("close failed");
            }
        }
    }

    @Test
    void everySinkGetsEveryEventInOrder() throws IOException {
        List<TraceEvent> events = SampleEvents.threeVms(20);
        Recording a = new Recording(null);
        Recording b = new Recording(null);
        try (TeeEventSink tee = new TeeEventSink(a, b)) {
            for (TraceEvent e : events) {
                tee.accept(e);
            }
            tee.flush();
        }
        assertEquals(events, a.events);
        assertEquals(events, b.events);
        assertEquals(1, a.flushes);
        assertTrue(a.closed && b.closed);
    }

    @Test
    void flushAndCloseReachEverySinkThenThrowTheFirstFailure() {
        Recording a = new Recording("flush");
        Recording b = new Recording("close");
        Recording c = new Recording("close");
        TeeEventSink tee = new TeeEventSink(List.of(a, b, c));
        IOException f = assertThrows(IOException.class, tee::flush);
        assertEquals("flush failed", f.getMessage());
        assertEquals(1, b.flushes);
        assertEquals(1, c.flushes);
        IOException e = assertThrows(IOException.class, tee::close);
        assertEquals("close failed", e.getMessage());
        assertEquals(1, e.getSuppressed().length);
        assertTrue(a.closed && b.closed && c.closed);
    }

    @Test
    void acceptStopsAtTheFirstFailingSink() {
        Recording a = new Recording("accept");
        Recording b = new Recording(null);
        TeeEventSink tee = new TeeEventSink(a, b);
        assertThrows(IOException.class, () -> tee.accept(SampleEvents.threeVms(1).get(0)));
        assertEquals(0, b.events.size());
    }
}
