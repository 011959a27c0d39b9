package dev.mmureplay.jobs;

import dev.mmureplay.model.divergence.VmReplay;

import java.util.TreeMap;

/**
 * Everything the replay job keeps for one VM (Flink keyed state, one value per vm; {@link VmStateSerializer}): the
 * reorder buffer, the models of every profile ({@link VmReplay}) and the counters of the VM's summary. Mutable;
 * only the task that owns the key touches it.
 */
public final class VmState {

    final ReorderBuffer<EncodedEvent> reorder;
    final VmReplay replay;
    /** Records of this vm that reached the replay function. */
    long records;
    /** Alerts by kind name and by "left vs right" (sorted: deterministic summaries). */
    final TreeMap<String, Long> byKind;
    final TreeMap<String, Long> byPair;
    /** {@code replay.events()} when the last periodic digest was emitted. */
    long lastDigestAt;
    /** Timestamp of the last event applied (ns), for the event-time lag metric. */
    long lastTimestampNs;
    /** Whether the end-of-input timer is registered. */
    boolean timerSet;

    VmState(ReorderBuffer<EncodedEvent> reorder, VmReplay replay, long records, TreeMap<String, Long> byKind,
            TreeMap<String, Long> byPair, long lastDigestAt, long lastTimestampNs, boolean timerSet) {
        this.reorder = reorder;
        this.replay = replay;
        this.records = records;
        this.byKind = byKind;
        this.byPair = byPair;
        this.lastDigestAt = lastDigestAt;
        this.lastTimestampNs = lastTimestampNs;
        this.timerSet = timerSet;
    }

    static VmState fresh(VmReplay replay, int maxPending) {
        return new VmState(new ReorderBuffer<>(maxPending, 0), replay, 0, new TreeMap<>(), new TreeMap<>(), 0,
                Long.MIN_VALUE, false);
    }

    void count(String kind, String pair) {
        byKind.merge(kind, 1L, Long::sum);
        byPair.merge(pair, 1L, Long::sum);
    }

    public VmReplay replay() {
        return replay;
    }

    public ReorderBuffer<EncodedEvent> reorder() {
        return reorder;
    }
}
