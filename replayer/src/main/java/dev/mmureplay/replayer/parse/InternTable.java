package dev.mmureplay.replayer.parse;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A bounded byte-string → value cache, so the parser turns a task name, an event name or an irq-flags column into
 * the same object every time without decoding or allocating. Open addressing, linear probing; once it holds
 * {@code maxEntries} keys it stops adding and the factory builds a fresh value per call (memory stays flat on
 * inputs with unbounded distinct names). A user that would rather keep interning the recent keys {@link #clear}s it
 * when {@link #full} (the Avro decoder of the replay job, {@code replayer.model.TraceEventDecoder}).
 *
 * <p>Not thread-safe.
 */
public final class InternTable<V> {

    @FunctionalInterface
    public interface Factory<V> {
        V create(byte[] b, int from, int to);
    }

    private final byte[][] keys;
    private final int[] hashes;
    private final Object[] values;
    private final int mask;
    private final int maxEntries;
    private int size;

    public InternTable(int maxEntries) {
        int cap = Integer.highestOneBit(Math.max(16, maxEntries * 2 - 1)) << 1;
        this.keys = new byte[cap][];
        this.hashes = new int[cap];
        this.values = new Object[cap];
        this.mask = cap - 1;
        this.maxEntries = maxEntries;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long MIX = 0x9E3779B97F4A7C15L;

    /**
     * The hash of a key. Why not a byte-by-byte polynomial: names are 10 to 30 bytes and that is a chain of
     * dependent multiplies per byte; here keys of 8+ bytes hash their first, middle and last 8 bytes (overlapping
     * for short keys) and their length. Keys that agree there still differ in the table, which compares whole keys.
     */
    static int hash(byte[] b, int from, int to) {
        int n = to - from;
        long h = n;
        if (n >= 8) {
            h = (h * MIX) ^ (long) LONGS.get(b, from);
            h = (h * MIX) ^ (long) LONGS.get(b, from + (n - 8) / 2);
            h = (h * MIX) ^ (long) LONGS.get(b, to - 8);
        } else {
            for (int i = from; i < to; i++) {
                h = (h << 8) | (b[i] & 0xff);
            }
        }
        h *= MIX;
        return (int) (h ^ (h >>> 32));
    }

    /** The value of key b[from, to), or null when it is not in the table (nothing is added). */
    @SuppressWarnings("unchecked")
    V find(byte[] b, int from, int to) {
        int h = hash(b, from, to);
        int n = to - from;
        int slot = h & mask;
        while (true) {
            byte[] k = keys[slot];
            if (k == null) {
                return null;
            }
            if (hashes[slot] == h && k.length == n && Arrays.equals(k, 0, n, b, from, to)) {   // vectorized compare
                return (V) values[slot];
            }
            slot = (slot + 1) & mask;
        }
    }

    /** The value of key b[from, to), made by the factory (and kept, while the table is not full) when missing. */
    @SuppressWarnings("unchecked")
    public V get(byte[] b, int from, int to, Factory<V> factory) {
        int h = hash(b, from, to);
        int n = to - from;
        int slot = h & mask;
        while (true) {
            byte[] k = keys[slot];
            if (k == null) {
                break;
            }
            if (hashes[slot] == h && k.length == n && Arrays.equals(k, 0, n, b, from, to)) {   // vectorized compare
                return (V) values[slot];
            }
            slot = (slot + 1) & mask;
        }
        V v = factory.create(b, from, to);
        if (size < maxEntries) {
            keys[slot] = Arrays.copyOfRange(b, from, to);
            hashes[slot] = h;
            values[slot] = v;
            size++;
        }
        return v;
    }

    /** Number of keys held. */
    public int size() {
        return size;
    }

    /** True when the table holds {@code maxEntries} keys and adds no more. */
    public boolean full() {
        return size >= maxEntries;
    }

    /** Forgets every key. */
    public void clear() {
        Arrays.fill(keys, null);
        Arrays.fill(values, null);
        size = 0;
    }

    /** Pre-populates a key (used for the known event names). */
    void put(byte[] key, V value) {
        get(key, 0, key.length, (b, f, t) -> value);
    }
}
