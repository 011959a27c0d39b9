package dev.mmureplay.jobs;

import dev.mmureplay.avro.TraceEvent;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The replay function's metrics reach Flink's metric system (what the Prometheus reporter exports). */
class MetricsTest {

    static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(2)
                    .build());

    static long sum(Map<String, Metric> metrics) {
        long n = 0;
        for (Metric m : metrics.values()) {
            n += ((Counter) m).getCount();
        }
        return n;
    }

    @Test
    void countersCountRecordsStepsDuplicatesAndDivergencesByKindAndPair() throws Exception {
        List<TraceEvent> pae = TestTraces.ingest(TestTraces.SCENARIOS.resolve("no_reset_on_pae_toggle.trace"));
        List<TraceEvent> in = new ArrayList<>(pae);
        in.add(pae.get(3));   // one duplicate
        ReplayRun.Result r = ReplayJobTest.run(2, in, ReplayOptions.of("upstream", "no-reset-on-pae-toggle"));
        JobID job = JobID.fromHexString(r.jobId());

        assertEquals(in.size(), sum(REPORTER.findMetrics(job, "mmureplay.recordsIn")));
        assertEquals(pae.size(), sum(REPORTER.findMetrics(job, "mmureplay.steps")));
        assertEquals(1, sum(REPORTER.findMetrics(job, "mmureplay.duplicatesDropped")));
        Map<String, Metric> divergences = REPORTER.findMetrics(job, "mmureplay.kind.PROFILE_VS_PROFILE.pair.upstream vs no-reset-on-pae-toggle.divergences");
        assertEquals(1, sum(divergences), "one divergence, labelled with its kind and pair: " + divergences.keySet());
        assertTrue(REPORTER.findMetric(job, "mmureplay.reorderBufferDepth").isPresent());
        assertTrue(REPORTER.findMetric(job, "mmureplay.modelShadowPages").isPresent());
        assertTrue(REPORTER.findMetric(job, "mmureplay.eventTimeLagNs").isPresent());
    }
}
