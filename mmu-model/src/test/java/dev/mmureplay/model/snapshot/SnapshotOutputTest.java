package dev.mmureplay.model.snapshot;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link SnapshotOutput}'s varints: the base-128 little-endian bytes, and every value reads back. */
class SnapshotOutputTest {

    private static final long[] EDGES = {0, 1, 127, 128, 300, 16_383, 16_384, Integer.MAX_VALUE, 1L << 56,
            Long.MAX_VALUE, Long.MIN_VALUE, -1};

    @Test
    void anUnsignedVarintIsSevenBitsPerByteLowFirst() {
        assertArrayEquals(new byte[] {0}, new SnapshotOutput().uvarint(0).toByteArray());
        assertArrayEquals(new byte[] {0x7f}, new SnapshotOutput().uvarint(127).toByteArray());
        assertArrayEquals(new byte[] {(byte) 0x80, 0x01}, new SnapshotOutput().uvarint(128).toByteArray());
        assertArrayEquals(new byte[] {(byte) 0xac, 0x02}, new SnapshotOutput().uvarint(300).toByteArray());
        byte[] minusOne = new SnapshotOutput().uvarint(-1).toByteArray();   // all 64 bits: ten bytes, the last 1
        assertEquals(10, minusOne.length);
        assertEquals(1, minusOne[9]);
    }

    @Test
    void varintsReadBackAcrossTheBuffersGrowth() throws IOException {
        SnapshotOutput out = new SnapshotOutput();   // starts at 256 bytes: this writes ~6 KB
        for (int round = 0; round < 50; round++) {
            for (long v : EDGES) {
                out.uvarint(v).svarint(v).bits64(v).word(v);
            }
        }
        SnapshotInput in = new SnapshotInput(out.toByteArray(), "test");
        for (int round = 0; round < 50; round++) {
            for (long v : EDGES) {
                assertEquals(v, in.uvarint(), "uvarint " + v);
                assertEquals(v, in.svarint(), "svarint " + v);
                assertEquals(v, in.bits64(), "bits64 " + v);
                assertEquals(v, in.word(), "word " + v);
            }
        }
        in.end();
    }
}
