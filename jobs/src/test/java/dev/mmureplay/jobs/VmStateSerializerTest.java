package dev.mmureplay.jobs;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.divergence.VmReplay;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.replayer.model.TraceEventDecoder;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link VmStateSerializer}: a VM's whole replay state (reorder buffer included) survives a checkpoint exactly. */
class VmStateSerializerTest {

    static final ReplayOptions OPTIONS = ReplayOptions.of(TestTraces.PROFILES.toArray(String[]::new))
            .withHost(TestTraces.HOST).withMaxPending(64);

    static VmState fresh() {
        return VmState.fresh(VmReplay.create(OPTIONS.resolveProfiles(), OPTIONS.modelConfig(), 3, true),
                OPTIONS.maxPending());
    }

    /** Feeds records through the buffer into the replay; returns what happened, as text. */
    static List<String> feed(VmState st, List<TraceEvent> records) {
        List<String> out = new ArrayList<>();
        EventIntake intake = new EventIntake();
        TraceEventDecoder decoder = new TraceEventDecoder();
        ReorderBuffer.Output<EncodedEvent> o = new ReorderBuffer.Output<>() {
            @Override
            public void deliver(long seq, EncodedEvent e) {
                ModelEvent m = decoder.decode(e.buffer(), e.offset(), e.offset() + e.length(),
                        new TraceEventDecoder.Envelope());
                for (VmReplay.Finding f : st.replay().apply(m)) {
                    out.add(f.kind() + " " + f.divergence());
                }
            }

            @Override
            public void gap(long from, long to) {
                out.add("gap " + from + ".." + to);
            }
        };
        for (TraceEvent e : records) {
            out.add(e.getSeq() + " " + st.reorder().offer(e.getSeq(), intake.of(e), o));
        }
        return out;
    }

    static byte[] bytes(VmState st) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(1024);
        VmStateSerializer.INSTANCE.serialize(st, out);
        return out.getCopyOfBuffer();
    }

    static VmState read(byte[] b) throws IOException {
        return VmStateSerializer.INSTANCE.deserialize(new DataInputDeserializer(b));
    }

    @Test
    void aRestoredStateGoesOnExactlyAsTheOriginal() throws Exception {
        List<TraceEvent> events = TestTraces.ingest(TestTraces.TRACES.resolve("long_user_basic.trace"));
        // out of order around the cut, so records are waiting in the buffer when the state is written
        List<TraceEvent> arrivals = new ArrayList<>(events);
        int cut = arrivals.size() / 2;
        for (int i = cut - 10; i < cut; i += 2) {
            TraceEvent t = arrivals.get(i);
            arrivals.set(i, arrivals.get(i + 5));
            arrivals.set(i + 5, t);
        }
        VmState whole = fresh();
        List<String> expected = feed(whole, arrivals);

        VmState first = fresh();
        List<String> got = new ArrayList<>(feed(first, arrivals.subList(0, cut)));
        assertTrue(first.reorder().depth() > 0, "records are waiting at the cut");
        byte[] b = bytes(first);
        VmState restored = read(b);
        assertArrayEquals(b, bytes(restored), "restore → write gives the same bytes");
        got.addAll(feed(restored, arrivals.subList(cut, arrivals.size())));
        assertEquals(expected, got);
        for (int i = 0; i < whole.replay().modelCount(); i++) {
            assertEquals(whole.replay().model(i).digest(), restored.replay().model(i).digest());
        }
        assertArrayEquals(bytes(whole), bytes(restored), "equal final states, equal bytes");
    }

    /** The real_io trace, whose first ten events the copy tests feed before they copy. */
    private List<TraceEvent> realIo;

    private VmState fedTen() throws Exception {
        if (realIo == null) {
            realIo = TestTraces.ingest(TestTraces.TRACES.resolve("real_io.trace"));
        }
        VmState st = fresh();
        feed(st, realIo.subList(0, 10));
        return st;
    }

    private List<TraceEvent> rest() {
        return realIo.subList(10, realIo.size());
    }

    @Test
    void aCopyTakesOverTheLiveStateWhileTheOriginalKeepsItsBytesForTheCheckpoint() throws Exception {
        // the heap state backend copies a state that a running checkpoint still has to write, then the task goes on
        // with the copy: the original must still write what it held at the copy, the copy must replay on exactly
        VmState st = fedTen();
        byte[] atCopy = bytes(st);
        VmState copy = VmStateSerializer.INSTANCE.copy(st);
        List<String> rest = feed(copy, rest());
        assertArrayEquals(atCopy, bytes(st), "the original writes the state as it was at the copy");

        VmState reference = fedTen();
        assertEquals(feed(reference, rest()), rest, "the copy replays as the original");
        assertArrayEquals(bytes(reference), bytes(copy), "and ends in the same state");
        assertThrows(IllegalStateException.class, st::replay, "the original is no longer live");
    }

    @Test
    void aCopyOfAHandedOffStateIsARealCopyOfItsBytes() throws Exception {
        VmState st = fedTen();
        byte[] atCopy = bytes(st);
        VmStateSerializer.INSTANCE.copy(st);
        VmState second = VmStateSerializer.INSTANCE.copy(st);
        assertArrayEquals(atCopy, bytes(second));
        feed(second, rest());
        assertArrayEquals(atCopy, bytes(st), "still the bytes of the first copy");
    }

    @Test
    void aStateThatACheckpointThreadIsWritingIsCopiedForRealWithoutWaiting() throws Exception {
        VmState st = fedTen();
        byte[] atCopy = bytes(st);
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        Thread checkpointThread = new Thread(() -> {
            st.lock.lock();   // as serialize does while it writes st
            try {
                held.countDown();
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                st.lock.unlock();
            }
        });
        checkpointThread.start();
        held.await();
        VmState copy;
        try {
            copy = VmStateSerializer.INSTANCE.copy(st);   // returns while the lock is held: no waiting
        } finally {
            done.countDown();
            checkpointThread.join();
        }
        feed(copy, rest());
        assertArrayEquals(atCopy, bytes(st), "the original is untouched");
        st.replay();   // and still live: it was not handed off
    }

    @Test
    void anUnknownFormatVersionIsRefusedWithItsNumber() {
        IOException e = assertThrows(IOException.class, () -> read(new byte[] {7}));
        assertTrue(e.getMessage().contains("version 7"), e.getMessage());
    }
}
