package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.ReplayDigest;
import dev.mmureplay.avro.VmSummary;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a bounded replay and collects its outputs on the client (embedded MiniCluster or a remote cluster alike),
 * each stream drained by its own thread while the job runs. The outputs are returned in a canonical order — alerts by
 * (vm, seq, kind, left, right), digests by (vm, profile, events), summaries by vm — so that two runs compare equal
 * whatever the parallelism or arrival order. Holds every output in memory: meant for bounded inputs whose alerts fit
 * (an alert is a few hundred bytes).
 */
public final class ReplayRun {

    /** The canonical alert order. */
    public static final Comparator<DivergenceAlert> ALERT_ORDER = Comparator
            .comparing(DivergenceAlert::getVm)
            .thenComparingLong(DivergenceAlert::getSeq)
            .thenComparing(a -> a.getKind().ordinal())
            .thenComparing(DivergenceAlert::getLeft)
            .thenComparing(DivergenceAlert::getRight);

    private ReplayRun() {
    }

    /** What a finished run produced. */
    public record Result(List<DivergenceAlert> alerts, List<DeadLetter> deadLetters, List<ReplayDigest> digests,
                         List<VmSummary> summaries, String jobId, long wallMillis) {

        /** The digests at the end of the input, by (vm, profile). */
        public List<ReplayDigest> finalDigests() {
            return digests.stream().filter(ReplayDigest::getAtEnd).toList();
        }
    }

    /** Executes the job built on {@code env} and collects all four outputs of {@code streams}. */
    public static Result collect(StreamExecutionEnvironment env, ReplayJob.Streams streams, String jobName)
            throws Exception {
        long t0 = System.nanoTime();
        CloseableIterator<DivergenceAlert> alerts = streams.alerts().collectAsync();
        CloseableIterator<DeadLetter> dead = streams.deadLetters().collectAsync();
        CloseableIterator<ReplayDigest> digests = streams.digests().collectAsync();
        CloseableIterator<VmSummary> summaries = streams.summaries().collectAsync();
        JobClient client = env.executeAsync(jobName);
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "replay-collect");
            t.setDaemon(true);
            return t;
        });
        try {
            Future<List<DivergenceAlert>> a = pool.submit(() -> drain(alerts));
            Future<List<DeadLetter>> d = pool.submit(() -> drain(dead));
            Future<List<ReplayDigest>> g = pool.submit(() -> drain(digests));
            Future<List<VmSummary>> s = pool.submit(() -> drain(summaries));
            client.getJobExecutionResult().get();
            List<DivergenceAlert> al = get(a);
            al.sort(ALERT_ORDER);
            List<DeadLetter> dl = get(d);
            dl.sort(Comparator.comparing((DeadLetter x) -> x.getPlace().getOrigin())
                    .thenComparing(DeadLetter::getReason));
            List<ReplayDigest> gl = get(g);
            gl.sort(Comparator.comparing(ReplayDigest::getVm).thenComparing(ReplayDigest::getProfile)
                    .thenComparingLong(ReplayDigest::getEvents).thenComparing(ReplayDigest::getAtEnd));
            List<VmSummary> sl = get(s);
            sl.sort(Comparator.comparing(VmSummary::getVm));
            return new Result(al, dl, gl, sl, client.getJobID().toString(), (System.nanoTime() - t0) / 1_000_000);
        } finally {
            pool.shutdownNow();
        }
    }

    private static <T> List<T> get(Future<List<T>> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    /**
     * Every record of one collected stream. An exhausted iterator is not closed: closing asks the (embedded, by then
     * shut down) cluster for the job's status and only logs a misleading warning; it is closed on failure.
     */
    private static <T> List<T> drain(CloseableIterator<T> it) throws Exception {
        List<T> out = new ArrayList<>();
        try {
            while (it.hasNext()) {
                out.add(it.next());
            }
        } catch (Exception | Error e) {
            it.close();
            throw e;
        }
        return out;
    }
}
