package dev.mmureplay.replayer.report;

import dev.mmureplay.avro.DivergenceAlert;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;

/**
 * Everything a replay report shows — what was replayed, the counts, the divergences by kind and by profile pair,
 * the final state digests, the timeline and the first divergences — independent of where the replay ran (the
 * local {@code diff}, an embedded or a cluster Flink job). Immutable: collections are copied into unmodifiable
 * ones, the maps are sorted by key, {@code digests} are sorted by (vm, profile), {@code firstAlerts} by
 * {@link Alerts#ORDER} and copied in and out (Avro records are mutable).
 *
 * <p>Rendered by {@link SummaryJson}, {@link SummaryTable} and {@link HtmlReport}. Build it with {@link #builder()}
 * (incrementally, bounded memory) or with the canonical constructor when every part is at hand.
 *
 * @param inputs             trace files or topic names, as given
 * @param profiles           the profiles replayed; the first is the baseline
 * @param baseline           {@code profiles.get(0)} ({@code ""} when there are none)
 * @param mode               where the replay ran: {@code local}, {@code embedded} or {@code cluster}
 * @param inputRecords       records read from the inputs (trace lines, Avro records, Kafka records)
 * @param events             events replayed
 * @param deadLetters        input records that could not be used (bad lines, unknown schemas)
 * @param duplicatesDropped  events dropped as duplicates of an already replayed (vm, seq)
 * @param gaps               seq gaps seen (missing seqs of a VM)
 * @param noise              events ignored as noise
 * @param vms                distinct VMs
 * @param divergencesByKind  divergence kind ({@code DivergenceKind} name) → count, every divergence counted
 * @param divergencesByPair  {@code "left vs right"} → count, every divergence counted
 * @param digests            final state digest per VM and profile
 * @param timeline           events and divergences per seq bucket
 * @param firstAlerts        the first divergences in {@link Alerts#ORDER} (at most {@link #DEFAULT_FIRST_ALERTS}
 *                           from the builder)
 * @param wallMillis         wall-clock time of the replay
 */
public record ReplaySummary(List<String> inputs, List<String> profiles, String baseline, String mode,
                            long inputRecords, long events, long deadLetters, long duplicatesDropped, long gaps,
                            long noise, int vms,
                            Map<String, Long> divergencesByKind, Map<String, Long> divergencesByPair,
                            List<VmDigest> digests, Timeline timeline, List<DivergenceAlert> firstAlerts,
                            long wallMillis) {

    /** Alerts kept by the builder. */
    public static final int DEFAULT_FIRST_ALERTS = 200;

    /**
     * The state digest of one VM's model under one profile at the end of the replay.
     *
     * @param events events that model was fed
     * @param digest {@code MmuStateMachine.digest()}
     */
    public record VmDigest(String vm, String profile, long events, long digest) {

        /** By vm, then profile. */
        public static final Comparator<VmDigest> ORDER =
                Comparator.comparing(VmDigest::vm).thenComparing(VmDigest::profile);

        public VmDigest {
            Objects.requireNonNull(vm, "vm");
            Objects.requireNonNull(profile, "profile");
        }
    }

    public ReplaySummary {
        inputs = List.copyOf(inputs);
        profiles = List.copyOf(profiles);
        Objects.requireNonNull(baseline, "baseline");
        if (!baseline.equals(profiles.isEmpty() ? "" : profiles.get(0))) {
            throw new IllegalArgumentException("baseline must be the first profile: " + baseline + ", " + profiles);
        }
        if (mode == null || mode.isBlank()) {
            throw new IllegalArgumentException("mode must be given (local, embedded, cluster)");
        }
        for (long n : new long[] {inputRecords, events, deadLetters, duplicatesDropped, gaps, noise, vms,
            wallMillis}) {
            if (n < 0) {
                throw new IllegalArgumentException("counts must be >= 0");
            }
        }
        divergencesByKind = Collections.unmodifiableSortedMap(new TreeMap<>(divergencesByKind));
        divergencesByPair = Collections.unmodifiableSortedMap(new TreeMap<>(divergencesByPair));
        long byKind = sum(divergencesByKind);
        if (byKind != sum(divergencesByPair)) {
            throw new IllegalArgumentException("divergences by kind (" + byKind + ") and by pair ("
                    + sum(divergencesByPair) + ") must add up to the same total");
        }
        List<VmDigest> d = new ArrayList<>(digests);
        d.sort(VmDigest.ORDER);                       // stable: equal (vm, profile) keep their order
        digests = List.copyOf(d);
        Objects.requireNonNull(timeline, "timeline");
        List<DivergenceAlert> a = new ArrayList<>(firstAlerts.size());
        for (DivergenceAlert x : firstAlerts) {
            a.add(DivergenceAlert.newBuilder(x).build());
        }
        a.sort(Alerts.ORDER);
        if (a.size() > byKind) {
            throw new IllegalArgumentException("more alerts listed (" + a.size() + ") than counted (" + byKind + ")");
        }
        firstAlerts = Collections.unmodifiableList(a);
    }

    /** A builder keeping {@link #DEFAULT_FIRST_ALERTS} alerts and a timeline of {@link Timeline#DEFAULT_BUCKETS}. */
    public static Builder builder() {
        return new Builder(DEFAULT_FIRST_ALERTS, Timeline.DEFAULT_BUCKETS);
    }

    /** A builder keeping {@code firstAlerts} alerts and a timeline of at most {@code timelineBuckets} buckets. */
    public static Builder builder(int firstAlerts, int timelineBuckets) {
        return new Builder(firstAlerts, timelineBuckets);
    }

    /** All divergences counted (the sum of {@link #divergencesByKind}). */
    public long divergences() {
        return sum(divergencesByKind);
    }

    /** Copies of the listed alerts (the record's own stay untouched). */
    @Override
    public List<DivergenceAlert> firstAlerts() {
        List<DivergenceAlert> out = new ArrayList<>(firstAlerts.size());
        for (DivergenceAlert x : firstAlerts) {
            out.add(DivergenceAlert.newBuilder(x).build());
        }
        return Collections.unmodifiableList(out);
    }

    /** The counts only (the alerts and digests are counted, not listed). */
    @Override
    public String toString() {
        return "ReplaySummary[" + mode + " " + profiles + " over " + inputs + ": " + events + " events, " + vms
                + " VMs, divergences " + divergencesByKind + " " + divergencesByPair + ", " + firstAlerts.size()
                + " listed, " + digests.size() + " digests, deadLetters=" + deadLetters + ", duplicatesDropped="
                + duplicatesDropped + ", gaps=" + gaps + ", noise=" + noise + ", " + timeline + ", " + wallMillis
                + " ms]";
    }

    private static long sum(Map<String, Long> m) {
        long s = 0;
        for (long v : m.values()) {
            s += v;
        }
        return s;
    }

    /**
     * Collects a summary while a replay runs, in memory bounded by the number of VMs, digests and the alerts kept
     * (not by the number of events or divergences): {@link #event} per event replayed, {@link #alert} per
     * divergence (every one is counted; the first N in {@link Alerts#ORDER} are kept, whatever order they arrive
     * in), {@link #digest} per VM and profile at the end. A replay that counts elsewhere (e.g. Flink accumulators
     * and a {@link Timeline} merged from its tasks) sets the totals instead: {@link #events(long)},
     * {@link #vms(int)} and {@link #timeline(Timeline)} replace what {@link #event} counted. Not thread-safe.
     */
    public static final class Builder {

        private final int maxAlerts;
        private final Timeline.Builder timelineBuilder;
        private final Set<String> vmsSeen = new HashSet<>();
        private final Map<String, Long> byKind = new TreeMap<>();
        private final Map<String, Long> byPair = new TreeMap<>();
        private final PriorityQueue<DivergenceAlert> kept;     // the largest kept alert on top
        private final List<VmDigest> digests = new ArrayList<>();
        private List<String> inputs = List.of();
        private List<String> profiles = List.of();
        private String mode = "local";
        private long inputRecords;
        private long eventsCounted;
        private Long eventsGiven;
        private Integer vmsGiven;
        private Timeline timelineGiven;
        private long deadLetters;
        private long duplicatesDropped;
        private long gaps;
        private long noise;
        private long wallMillis;

        private Builder(int maxAlerts, int timelineBuckets) {
            if (maxAlerts < 0) {
                throw new IllegalArgumentException("firstAlerts must be >= 0");
            }
            this.maxAlerts = maxAlerts;
            this.timelineBuilder = new Timeline.Builder(timelineBuckets);
            this.kept = new PriorityQueue<>(Math.max(1, maxAlerts), Alerts.ORDER.reversed());
        }

        public Builder inputs(List<String> inputs) {
            this.inputs = List.copyOf(inputs);
            return this;
        }

        /** The profiles replayed, baseline first. */
        public Builder profiles(List<String> profiles) {
            this.profiles = List.copyOf(profiles);
            return this;
        }

        /** {@code local} (the default), {@code embedded} or {@code cluster}. */
        public Builder mode(String mode) {
            this.mode = mode;
            return this;
        }

        public Builder inputRecords(long n) {
            this.inputRecords = n;
            return this;
        }

        public Builder deadLetters(long n) {
            this.deadLetters = n;
            return this;
        }

        public Builder duplicatesDropped(long n) {
            this.duplicatesDropped = n;
            return this;
        }

        public Builder gaps(long n) {
            this.gaps = n;
            return this;
        }

        public Builder noise(long n) {
            this.noise = n;
            return this;
        }

        public Builder wallMillis(long millis) {
            this.wallMillis = millis;
            return this;
        }

        /** One event replayed: counts it and its VM and places it on the timeline. */
        public Builder event(String vm, long seq, long timestampNs) {
            eventsCounted++;
            vmsSeen.add(vm);
            timelineBuilder.event(seq, timestampNs);
            return this;
        }

        /** The number of events, counted elsewhere (replaces the count of {@link #event}). */
        public Builder events(long n) {
            this.eventsGiven = n;
            return this;
        }

        /** The number of VMs, counted elsewhere (replaces the count of {@link #event}). */
        public Builder vms(int n) {
            this.vmsGiven = n;
            return this;
        }

        /** A timeline built elsewhere (replaces the one {@link #event} and {@link #alert} build). */
        public Builder timeline(Timeline t) {
            this.timelineGiven = Objects.requireNonNull(t);
            return this;
        }

        /** One divergence: counted by kind and pair, placed on the timeline, kept if among the first N. */
        public Builder alert(DivergenceAlert a) {
            byKind.merge(Alerts.kind(a), 1L, Long::sum);
            byPair.merge(Alerts.pair(a), 1L, Long::sum);
            timelineBuilder.divergence(a.getSeq());
            if (maxAlerts == 0) {
                return this;
            }
            if (kept.size() < maxAlerts) {
                kept.add(DivergenceAlert.newBuilder(a).build());
            } else if (Alerts.ORDER.compare(a, kept.peek()) < 0) {
                kept.poll();
                kept.add(DivergenceAlert.newBuilder(a).build());
            }
            return this;
        }

        /** The final state digest of {@code vm}'s model under {@code profile}, fed {@code events} events. */
        public Builder digest(String vm, String profile, long events, long digest) {
            digests.add(new VmDigest(vm, profile, events, digest));
            return this;
        }

        public ReplaySummary build() {
            return new ReplaySummary(inputs, profiles, profiles.isEmpty() ? "" : profiles.get(0), mode,
                    inputRecords, eventsGiven != null ? eventsGiven : eventsCounted, deadLetters, duplicatesDropped,
                    gaps, noise, vmsGiven != null ? vmsGiven : vmsSeen.size(), byKind, byPair, digests,
                    timelineGiven != null ? timelineGiven : timelineBuilder.build(), new ArrayList<>(kept),
                    wallMillis);
        }
    }
}
