package dev.mmureplay.replayer.parse;

import java.util.Arrays;

/**
 * A bounded byte-string → value cache, so the parser turns a task name, an event name or an irq-flags column into
 * the same object every time without decoding or allocating. Open addressing, linear probing; once it holds
 * {@code maxEntries} keys it stops adding and the factory builds a fresh value per call (memory stays flat on
 * inputs with unbounded distinct names).
 */
final class InternTable<V> {

    @FunctionalInterface
    interface Factory<V> {
        V create(byte[] b, int from, int to);
    }

    private final byte[][] keys;
    private final int[] hashes;
    private final Object[] values;
    private final int mask;
    private final int maxEntries;
    private int size;

    InternTable(int maxEntries) {
        int cap = Integer.highestOneBit(Math.max(16, maxEntries * 2 - 1)) << 1;
        this.keys = new byte[cap][];
        this.hashes = new int[cap];
        this.values = new Object[cap];
        this.mask = cap - 1;
        this.maxEntries = maxEntries;
    }

    /** The hash of a key; callers that scan the key anyway may compute it on the way with {@link #step}. */
    static int hash(byte[] b, int from, int to) {
        int h = 1;
        for (int i = from; i < to; i++) {
            h = step(h, b[i]);
        }
        return h;
    }

    static int step(int h, byte c) {
        return 31 * h + c;
    }

    V get(byte[] b, int from, int to, Factory<V> factory) {
        return get(b, from, to, hash(b, from, to), factory);
    }

    @SuppressWarnings("unchecked")
    V get(byte[] b, int from, int to, int hash, Factory<V> factory) {
        int h = hash ^ (hash >>> 16);
        int n = to - from;
        int slot = h & mask;
        while (true) {
            byte[] k = keys[slot];
            if (k == null) {
                break;
            }
            if (hashes[slot] == h && k.length == n && same(k, b, from, n)) {
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

    private static boolean same(byte[] k, byte[] b, int from, int n) {
        for (int i = 0; i < n; i++) {
            if (k[i] != b[from + i]) {
                return false;
            }
        }
        return true;
    }

    /** Pre-populates a key (used for the known event names). */
    void put(byte[] key, V value) {
        get(key, 0, key.length, (b, f, t) -> value);
    }
}
