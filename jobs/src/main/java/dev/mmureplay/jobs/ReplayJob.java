package dev.mmureplay.jobs;

import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.divergence.DivergenceDetector;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The replay job graph: {@code TraceEvent} source → {@code keyBy(vm)} → {@link ReplayFunction} (one model per profile
 * in keyed state) → {@code DivergenceAlert}s. Events and alerts travel as Avro ({@link AvroTypeInfo}), the models
 * through {@link ModelSerializer}; nothing goes through Kryo.
 *
 * <p>Groundwork for issue 5: sources are a bounded collection or an Avro container file read on the client (fine for
 * tests and small traces; a {@code FileSource} stream format and the Kafka source come next), the sink is Flink's
 * collecting sink ({@link #collect}). Events must arrive in {@code seq} order per vm (see {@link ReplayFunction}).
 */
public final class ReplayJob {

    private ReplayJob() {
    }

    /** A bounded source of the given events (in seq order per vm). */
    public static DataStream<TraceEvent> fromEvents(StreamExecutionEnvironment env, Collection<TraceEvent> events) {
        return env.fromData(events, new AvroTypeInfo<>(TraceEvent.class));
    }

    /** The events of an Avro container file of {@code TraceEvent}s (as written by {@code ingest}), read here. */
    public static DataStream<TraceEvent> fromAvroFile(StreamExecutionEnvironment env, File file) throws IOException {
        List<TraceEvent> events = new ArrayList<>();
        try (DataFileReader<TraceEvent> r = new DataFileReader<>(file, new SpecificDatumReader<>(TraceEvent.class))) {
            for (TraceEvent e : r) {
                events.add(e);
            }
        }
        return fromEvents(env, events);
    }

    /** {@code events} keyed by vm, replayed under two built-in profiles: their divergence alerts. */
    public static DataStream<DivergenceAlert> alerts(DataStream<TraceEvent> events, String leftProfile,
                                                     String rightProfile) {
        return events
                .keyBy(TraceEvent::getVm, Types.STRING)
                .process(new ReplayFunction(leftProfile, rightProfile, DivergenceDetector.DEFAULT_CONTEXT),
                        new AvroTypeInfo<>(DivergenceAlert.class))
                .name("replay " + leftProfile + " vs " + rightProfile)
                .uid("replay-" + leftProfile + "-vs-" + rightProfile);
    }

    /** Runs the job (bounded input) and collects every alert. */
    public static List<DivergenceAlert> collect(DataStream<DivergenceAlert> alerts) throws Exception {
        List<DivergenceAlert> out = new ArrayList<>();
        CloseableIterator<DivergenceAlert> it = alerts.executeAndCollect("mmu-replay");
        try {
            it.forEachRemaining(out::add);
        } finally {
            it.close();
        }
        return out;
    }
}
