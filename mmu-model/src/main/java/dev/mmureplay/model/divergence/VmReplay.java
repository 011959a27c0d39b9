package dev.mmureplay.model.divergence;

import dev.mmureplay.model.FieldDiff;
import dev.mmureplay.model.MmuStateMachine;
import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.ReplayStep;
import dev.mmureplay.model.event.ModelEvent;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * One VM replayed under several profiles at once — the unit the replay job keeps per VM (DESIGN §5). Profile 0 is
 * the baseline; every event is applied to every model, then:
 * <ol>
 *   <li>{@link Kind#REPLAY_VS_REPLAY}: the baseline against a second replay of itself (the <i>replica</i>, Diffy's
 *       "secondary"). The model is deterministic, so this never differs unless determinism broke; a field that does
 *       differ there is <i>noise</i> from then on;</li>
 *   <li>{@link Kind#PROFILE_VS_PROFILE}: the baseline against each other profile, exactly as
 *       {@link Divergences#compare} (what {@code mmu-replay diff A,B} reports) — unless the field is noise;</li>
 *   <li>{@link Kind#MODEL_VS_RECORDING}: each profile's verdict on a recorded effect (a MISMATCH) and each
 *       prediction the recording never showed (missed).</li>
 * </ol>
 * Deterministic, single-threaded, JDK only; its whole state round-trips through {@link #writeSnapshot}.
 */
public final class VmReplay {

    /** What a finding compares. */
    public enum Kind { PROFILE_VS_PROFILE, MODEL_VS_RECORDING, REPLAY_VS_REPLAY }

    /** The name of the recorded side of a {@link Kind#MODEL_VS_RECORDING} finding. */
    public static final String RECORDING = "recording";

    /**
     * One difference found on one event.
     *
     * @param kind        what was compared
     * @param left        left side's name (a profile)
     * @param right       right side's name (a profile, {@link #RECORDING}, or the baseline's name for a replica)
     * @param divergence  the first differing effect and field
     * @param leftDigest  left model's state digest after the event
     * @param rightDigest right model's digest after the event (the left one's for {@link Kind#MODEL_VS_RECORDING})
     * @param noise       true when the field also differs between two replays of the baseline: counted, never
     *                    alerted
     */
    public record Finding(Kind kind, String left, String right, Divergence divergence, long leftDigest,
                          long rightDigest, boolean noise) {
    }

    private static final int SNAPSHOT_VERSION = 1;

    private final MmuStateMachine[] models;
    private final MmuStateMachine replica;   // null: no noise replay
    private final SeqRing recent;
    private final TreeSet<String> noisyFields;
    // per-apply scratch: each model's step for the current event (reused: no array allocated per event; not state)
    private final ReplayStep[] steps;
    // per-apply scratch: digests computed for this event's findings (models, then the replica) and the event count
    // at which each was computed (see digest; not state)
    private final long[] digests;
    private final long[] digestAt;
    private long events;
    private long noise;

    private VmReplay(MmuStateMachine[] models, MmuStateMachine replica, int context, TreeSet<String> noisyFields) {
        this.models = models;
        this.replica = replica;
        this.recent = new SeqRing(context);
        this.noisyFields = noisyFields;
        this.steps = new ReplayStep[models.length];
        this.digests = new long[models.length + 1];
        this.digestAt = new long[models.length + 1];
    }

    /**
     * Fresh models for {@code profiles} (baseline first, at least one) in detailed mode.
     *
     * @param context      seqs of preceding events reported with each finding
     * @param noiseReplica whether to replay the baseline twice to detect noise
     */
    public static VmReplay create(List<Profile> profiles, ModelConfig config, int context, boolean noiseReplica) {
        if (profiles.isEmpty()) {
            throw new IllegalArgumentException("at least one profile is needed");
        }
        if (context < 0) {
            throw new IllegalArgumentException("context must be >= 0");
        }
        ModelConfig c = config.withDetailedSteps(true);
        MmuStateMachine[] m = new MmuStateMachine[profiles.size()];
        for (int i = 0; i < m.length; i++) {
            m[i] = MmuStateMachine.create(profiles.get(i), c);
        }
        return new VmReplay(m, noiseReplica ? MmuStateMachine.create(profiles.get(0), c) : null, context,
                new TreeSet<>());
    }

    /** Applies {@code e} (in seq order) to every model; the findings for it, in a fixed order (see class doc). */
    public List<Finding> apply(ModelEvent e) {
        events++;
        List<Long> none = List.of();   // the real context is attached to findings only (rare): see found
        ReplayStep[] steps = this.steps;
        for (int i = 0; i < models.length; i++) {
            steps[i] = models[i].apply(e);
        }
        List<Finding> out = null;
        String baseName = models[0].profile().name();
        if (replica != null) {
            Divergence d = Divergences.compare(e, steps[0], replica.apply(e), none);
            if (d != null) {
                noisyFields.add(fieldKey(d));
                noise++;
                out = found(out, Kind.REPLAY_VS_REPLAY, baseName, baseName, d, digest(0), digest(models.length),
                        true);
            }
        }
        for (int i = 1; i < models.length; i++) {
            Divergence d = Divergences.compare(e, steps[0], steps[i], none);
            if (d != null) {
                boolean isNoise = noisyFields.contains(fieldKey(d));
                if (isNoise) {
                    noise++;
                }
                out = found(out, Kind.PROFILE_VS_PROFILE, baseName, models[i].profile().name(), d, digest(0),
                        digest(i), isNoise);
            }
        }
        for (int i = 0; i < models.length; i++) {
            Divergence d = againstRecording(e, steps[i], none);
            if (d != null) {
                out = found(out, Kind.MODEL_VS_RECORDING, models[i].profile().name(), RECORDING, d, digest(i),
                        digest(i), false);
            }
        }
        recent.add(e.seq());
        return out == null ? List.of() : out;
    }

    /**
     * Adds a finding to {@code out} (a new list when null) with {@code d} reported with the context, which is read
     * before the current event's seq joins it.
     */
    private List<Finding> found(List<Finding> out, Kind kind, String left, String right, Divergence d,
                                long leftDigest, long rightDigest, boolean isNoise) {
        if (out == null) {
            out = new ArrayList<>(2);
            out.add(new Finding(kind, left, right, d.withContext(context()), leftDigest, rightDigest, isNoise));
            return out;
        }
        // the same context for all of an event's findings: the first one's (already an immutable copy) is shared
        List<Long> ctx = out.get(0).divergence().context();
        out.add(new Finding(kind, left, right, d.withContext(ctx), leftDigest, rightDigest, isNoise));
        return out;
    }

    /**
     * Model {@code i}'s digest after the current event ({@code i == models.length}: the replica's), computed at most
     * once per event: a digest walks the whole state and one event's findings can name a model several times.
     */
    private long digest(int i) {
        if (digestAt[i] != events) {
            digests[i] = (i == models.length ? replica : models[i]).digest();
            digestAt[i] = events;
        }
        return digests[i];
    }

    /**
     * A model's step against the recording: a recorded effect it got wrong (MISMATCH: the first differing field, or
     * {@code effect} when nothing predicted it), else the first prediction that lapsed unrecorded; null if neither.
     */
    static Divergence againstRecording(ModelEvent e, ReplayStep step, List<Long> context) {
        if (step.outcome() == ReplayStep.Outcome.MISMATCH) {
            String tp = e.kind().tracepoint();
            if (step.expected() == null || step.diffs().isEmpty()) {
                return new Divergence(e.seq(), e.kind(), tp, "effect", Divergences.NONE, tp,
                        Divergences.render(step.expected()), Divergences.render(e), "recording", context);
            }
            FieldDiff f = step.diffs().get(0);
            return new Divergence(e.seq(), e.kind(), tp, f.field().fieldName(), f.expected(), f.actual(),
                    Divergences.render(step.expected()), Divergences.render(e), "recording", context);
        }
        if (!step.missed().isEmpty()) {
            ModelEvent m = step.missed().get(0);
            String mtp = m.kind().tracepoint();
            return new Divergence(e.seq(), e.kind(), mtp, "effect", mtp, Divergences.NONE, Divergences.render(m),
                    Divergences.NONE, "missed", context);
        }
        return null;
    }

    private static String fieldKey(Divergence d) {
        return d.kind() + "." + d.field();
    }

    /** Seqs of the last events applied, oldest first. */
    public List<Long> context() {
        return recent.toList();
    }

    /** The profiles, baseline first. */
    public List<Profile> profiles() {
        List<Profile> out = new ArrayList<>(models.length);
        for (MmuStateMachine m : models) {
            out.add(m.profile());
        }
        return out;
    }

    /** Model {@code i} (0 = baseline), in the order of {@link #profiles()}. */
    public MmuStateMachine model(int i) {
        return models[i];
    }

    public int modelCount() {
        return models.length;
    }

    public boolean hasReplica() {
        return replica != null;
    }

    /** Events applied. */
    public long events() {
        return events;
    }

    /** Findings classified as noise so far. */
    public long noise() {
        return noise;
    }

    /**
     * Writes the whole state: format version, each model's own snapshot ({@link MmuStateMachine#writeSnapshot}),
     * the replica, the context ring (oldest first), the noisy fields (sorted) and the counters.
     */
    public void writeSnapshot(DataOutput out) throws IOException {
        out.writeByte(SNAPSHOT_VERSION);
        out.writeInt(models.length);
        for (MmuStateMachine m : models) {
            m.writeSnapshot(out);
        }
        out.writeBoolean(replica != null);
        if (replica != null) {
            replica.writeSnapshot(out);
        }
        out.writeInt(recent.capacity());
        List<Long> ctx = context();
        out.writeInt(ctx.size());
        for (long s : ctx) {
            out.writeLong(s);
        }
        out.writeInt(noisyFields.size());
        for (String f : noisyFields) {
            out.writeUTF(f);
        }
        out.writeLong(events);
        out.writeLong(noise);
    }

    /** Restores a state written by {@link #writeSnapshot}; an unknown version is an {@link IOException}. */
    public static VmReplay readSnapshot(DataInput in) throws IOException {
        int v = in.readUnsignedByte();
        if (v != SNAPSHOT_VERSION) {
            throw new IOException("unknown VmReplay snapshot version " + v + " (this reader knows "
                    + SNAPSHOT_VERSION + ")");
        }
        int n = in.readInt();
        if (n < 1 || n > 1024) {
            throw new IOException("corrupt VmReplay snapshot: " + n + " models");
        }
        MmuStateMachine[] models = new MmuStateMachine[n];
        for (int i = 0; i < n; i++) {
            models[i] = MmuStateMachine.readSnapshot(in);
        }
        MmuStateMachine replica = in.readBoolean() ? MmuStateMachine.readSnapshot(in) : null;
        int context = in.readInt();
        int count = in.readInt();
        if (context < 0 || count < 0 || count > context) {
            throw new IOException("corrupt VmReplay snapshot: context " + count + "/" + context);
        }
        TreeSet<String> noisy = new TreeSet<>();
        VmReplay r = new VmReplay(models, replica, context, noisy);
        for (int i = 0; i < count; i++) {
            r.recent.add(in.readLong());
        }
        int nf = in.readInt();
        for (int i = 0; i < nf; i++) {
            noisy.add(in.readUTF());
        }
        r.events = in.readLong();
        r.noise = in.readLong();
        return r;
    }
}
