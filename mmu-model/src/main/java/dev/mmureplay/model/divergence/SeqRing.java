package dev.mmureplay.model.divergence;

import java.util.ArrayList;
import java.util.List;

/** The seqs of the last {@code capacity} events, oldest first: the context a divergence is reported with. */
final class SeqRing {

    private final long[] seqs;
    private int count;
    private int next;

    SeqRing(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("context must be >= 0");
        }
        this.seqs = new long[capacity];
    }

    void add(long seq) {
        if (seqs.length > 0) {
            seqs[next] = seq;
            next = (next + 1) % seqs.length;
            count = Math.min(count + 1, seqs.length);
        }
    }

    int capacity() {
        return seqs.length;
    }

    /** Oldest first. */
    List<Long> toList() {
        List<Long> out = new ArrayList<>(count);
        int start = (next - count + seqs.length) % Math.max(seqs.length, 1);
        for (int i = 0; i < count; i++) {
            out.add(seqs[(start + i) % seqs.length]);
        }
        return out;
    }
}
