package dev.mmureplay.model.mmu;

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

    /** Approximate retained heap bytes. */
    public long heapBytes() {
        return 16L + keys.length * 8L + values.length * 4L + 32;
    }
}
