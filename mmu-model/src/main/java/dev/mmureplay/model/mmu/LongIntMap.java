package dev.mmureplay.model.mmu;

import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.IOException;
import java.util.Arrays;

/**
 * A primitive open-addressing hash map from {@code long} to {@code int} (linear probing, backward-shift deletion).
 * Used instead of {@code HashMap} so that the model allocates nothing per lookup; its iteration order is never used
 * for output — {@link #sortedKeys()} gives a deterministic order where one is needed.
 */
public final class LongIntMap {

    private static final long EMPTY = Long.MIN_VALUE;

    private long[] keys;
    private int[] values;
    private int size;
    private int mask;
    private final int missing;

    /** @param missing the value {@link #get} returns for an absent key */
    public LongIntMap(int missing) {
        this(16, missing);
    }

    public LongIntMap(int capacity, int missing) {
        int cap = Integer.highestOneBit(Math.max(4, capacity) * 2 - 1);
        keys = new long[cap];
        values = new int[cap];
        Arrays.fill(keys, EMPTY);
        mask = cap - 1;
        this.missing = missing;
    }

    private static int hash(long k) {
        long h = k * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    public int size() {
        return size;
    }

    public int get(long key) {
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) {
                return values[i];
            }
            if (k == EMPTY) {
                return missing;
            }
            i = (i + 1) & mask;
        }
    }

    public boolean containsKey(long key) {
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) {
                return true;
            }
            if (k == EMPTY) {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    public void put(long key, int value) {
        if (key == EMPTY) {
            throw new IllegalArgumentException("reserved key");
        }
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) {
                values[i] = value;
                return;
            }
            if (k == EMPTY) {
                keys[i] = key;
                values[i] = value;
                if (++size * 4 > keys.length * 3) {
                    grow();
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /** Adds {@code delta} to the value (absent counts as 0); removes the key when the result is 0. */
    public int add(long key, int delta) {
        int v = get(key);
        int nv = (v == missing ? 0 : v) + delta;
        if (nv == 0) {
            remove(key);
        } else {
            put(key, nv);
        }
        return nv;
    }

    public void remove(long key) {
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == EMPTY) {
                return;
            }
            if (k == key) {
                break;
            }
            i = (i + 1) & mask;
        }
        size--;
        // backward shift deletion
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            long k = keys[j];
            if (k == EMPTY) {
                break;
            }
            int home = hash(k) & mask;
            boolean between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (!between) {
                keys[i] = k;
                values[i] = values[j];
                i = j;
            }
        }
        keys[i] = EMPTY;
    }

    public void clear() {
        Arrays.fill(keys, EMPTY);
        size = 0;
    }

    private void grow() {
        long[] ok = keys;
        int[] ov = values;
        keys = new long[ok.length * 2];
        values = new int[ok.length * 2];
        Arrays.fill(keys, EMPTY);
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < ok.length; i++) {
            if (ok[i] != EMPTY) {
                put(ok[i], ov[i]);
            }
        }
    }

    /** The keys in ascending order (for deterministic iteration). */
    public long[] sortedKeys() {
        long[] out = new long[size];
        int n = 0;
        for (long k : keys) {
            if (k != EMPTY) {
                out[n++] = k;
            }
        }
        Arrays.sort(out);
        return out;
    }

    /**
     * Snapshot (format v2): the entry count, then the entries by ascending key — key as a zig-zag delta from the
     * previous key (the first from 0), value zig-zag. The table layout (capacity, probe positions) is not state: a
     * map rebuilt by {@link #put} in any order answers every query the same. The missing-value is the owner's.
     */
    public void writeTo(SnapshotOutput out) {
        long[] ks = sortedKeys();
        out.uvarint(ks.length);
        long prev = 0;
        for (long k : ks) {
            out.svarint(k - prev);
            out.svarint(get(k));
            prev = k;
        }
    }

    /** Reads the entries of {@link #writeTo} into this (empty) map. */
    public void readFrom(SnapshotInput in, String what) throws IOException {
        if (size != 0) {
            throw new IllegalStateException("readFrom needs an empty map");
        }
        int n = in.count(2, what);
        long prev = 0;
        for (int i = 0; i < n; i++) {
            long k = prev + in.svarint();
            if ((i > 0 && k <= prev) || k == EMPTY) {
                throw in.corrupt(what + ": keys not strictly ascending at entry " + i);
            }
            put(k, in.sint(Integer.MIN_VALUE, Integer.MAX_VALUE, what + " value"));
            prev = k;
        }
    }

    /** Approximate retained heap bytes. */
    public long heapBytes() {
        return 16L + keys.length * 8L + values.length * 4L + 32;
    }
}
