package dev.mmureplay.jobs;

import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.VmSummary;
import dev.mmureplay.schemas.AvroCodec;
import dev.mmureplay.testing.EmbeddedKafka;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The replay job's Kafka output topics in tests: {@code out.alerts}, {@code .dead}, {@code .digests(.summary)}. */
final class KafkaOutputs {

    static final List<String> SUFFIXES = List.of(".alerts", ".dead", ".digests", ".digests.summary");

    private KafkaOutputs() {
    }

    /** Creates the four output topics (1 partition each) named after {@code out}. */
    static String create(EmbeddedKafka kafka, String out) {
        for (String t : SUFFIXES) {
            kafka.createTopic(out + t, 1);
        }
        return out;
    }

    /** The sinks writing to them. */
    static ReplaySinks sinks(EmbeddedKafka kafka, String out) {
        return new ReplaySinks(kafka.bootstrapServers(), out + ".alerts", out + ".dead", out + ".digests",
                "it-" + out, new java.util.Properties());
    }

    /** Committed alerts ({@code read_committed}), in the canonical order. */
    static List<DivergenceAlert> alerts(EmbeddedKafka kafka, String out) {
        List<DivergenceAlert> l = new ArrayList<>(kafka.readAll(out + ".alerts",
                r -> AvroCodec.alerts().decode(r.value())));
        l.sort(ReplayRun.ALERT_ORDER);
        return l;
    }

    /** Committed per-VM summaries, by vm. */
    static List<VmSummary> summaries(EmbeddedKafka kafka, String out) {
        List<VmSummary> l = new ArrayList<>(kafka.readAll(out + ".digests.summary",
                r -> AvroCodec.summaries().decode(r.value())));
        l.sort(Comparator.comparing(VmSummary::getVm));
        return l;
    }
}
