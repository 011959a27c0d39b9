package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.ReplayDigest;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.avro.VmSummary;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Properties;

/**
 * The replay job graph (DESIGN §5), the same embedded and on a cluster:
 * <pre>
 * source (Kafka topic | Avro files) ─▶ decode: Either(EventBatch | DeadLetter) ─▶ keyBy(vm) ─▶ ReplayFunction
 *     ─▶ alerts;  side outputs: dead letters (decode ∪ replay), digests, per-VM summaries
 * </pre>
 * Events cross the keyBy hop undecoded and in batches ({@link EventBatch}: one VM's events of a block or a fetch, in
 * their order, each its Avro binary, checked at the source) and are decoded once, straight into model events, by the
 * replay task; outputs travel as Avro ({@link AvroTypeInfo}), VM state
 * through {@link VmStateSerializer}; nothing goes through Kryo. Operators have stable uids so savepoints restore into
 * later job versions.
 */
public final class ReplayJob {

    /** The decoded input: an event, or the dead letter of a record that did not decode. */
    public static final TypeInformation<Either<EventBatch, DeadLetter>> INPUT_TYPE =
            new EitherTypeInfo<>(EventBatchSerializer.TYPE, new AvroTypeInfo<>(DeadLetter.class));

    static final OutputTag<DeadLetter> DECODE_DEAD_LETTERS =
            new OutputTag<>("decode-dead-letters", new AvroTypeInfo<>(DeadLetter.class));

    private ReplayJob() {
    }

    /**
     * The pipeline settings the job is built for (the command, the tests and the benchmarks all use them): no Kryo
     * fallback ({@code pipeline.generic-types=false}: a type without a serializer fails the job instead), and object
     * reuse — records are not deep-copied between chained operators; {@link ReplayFunction} copies the few records it
     * keeps beyond a call (those waiting in the reorder buffer); and network buffers sent after at most 10 ms when
     * not full (Flink's default 100 ms would hold a continuous replay's alerts that long at each hop).
     */
    public static Configuration configure(Configuration conf) {
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(PipelineOptions.OBJECT_REUSE, true);
        conf.set(ExecutionOptions.BUFFER_TIMEOUT, Duration.ofMillis(10));
        return conf;
    }

    /** The job's outputs. */
    public record Streams(DataStream<DivergenceAlert> alerts, DataStream<DeadLetter> deadLetters,
                          DataStream<ReplayDigest> digests, DataStream<VmSummary> summaries) {
    }

    /**
     * A Kafka topic of single-object Avro {@code TraceEvent}s (key = vm), read as consumer group {@code groupId} from
     * its committed offsets, else the earliest; {@code bounded} stops at the offsets that are latest when the job
     * starts (the job then ends), else it follows the topic. Runs of one VM's consecutive records of a partition
     * travel as one {@link EventBatch} ({@link KafkaBatchSource}); offsets are committed when checkpoints complete.
     */
    public static DataStream<Either<EventBatch, DeadLetter>> fromKafka(StreamExecutionEnvironment env,
                                                                       String bootstrap, String topic,
                                                                       String groupId, boolean bounded,
                                                                       Properties consumer) {
        return env.fromSource(KafkaBatchSource.of(bootstrap, topic, groupId, bounded, consumer),
                        WatermarkStrategy.noWatermarks(), "kafka " + topic)
                .uid("source-kafka");
    }

    /** Avro object container files of {@code TraceEvent} (as {@code ingest -o} writes them). */
    public static DataStream<Either<EventBatch, DeadLetter>> fromAvroFiles(StreamExecutionEnvironment env,
                                                                           List<java.nio.file.Path> files) {
        Path[] paths = files.stream().map(p -> new Path(p.toAbsolutePath().toUri())).toArray(Path[]::new);
        FileSource<Either<EventBatch, DeadLetter>> src =
                FileSource.forBulkFileFormat(new AvroTraceFileFormat(), paths).build();
        return env.fromSource(src, WatermarkStrategy.noWatermarks(), "avro files").uid("source-files");
    }

    /**
     * A bounded in-memory source (tests; small inputs): each run of one VM's consecutive events is a batch, in the
     * order given (not regrouped VM by VM as the file and Kafka sources do: a test's order is kept as it wrote it).
     */
    public static DataStream<Either<EventBatch, DeadLetter>> fromEvents(StreamExecutionEnvironment env,
                                                                        Collection<TraceEvent> events) {
        EventIntake intake = new EventIntake();
        List<Either<EventBatch, DeadLetter>> in = new ArrayList<>();
        EventBatcher batcher = new EventBatcher(EventBatch.MAX_EVENTS, in::add);
        events.forEach(e -> batcher.add(intake.of(e)));
        batcher.flush();
        return env.fromData(in, INPUT_TYPE).uid("source-memory");
    }

    /** The replay of decoded input under {@code options}. */
    public static Streams replay(DataStream<Either<EventBatch, DeadLetter>> input, ReplayOptions options) {
        SingleOutputStreamOperator<EventBatch> events = input
                .process(new SplitDeadLetters(), EventBatchSerializer.TYPE)
                .name("decode").uid("decode");
        SingleOutputStreamOperator<DivergenceAlert> alerts = events
                .keyBy(EventBatch::vm, Types.STRING)
                .process(new ReplayFunction(options), new AvroTypeInfo<>(DivergenceAlert.class))
                .name("replay " + String.join(",", options.profiles())).uid("replay");
        DataStream<DeadLetter> dead = events.getSideOutput(DECODE_DEAD_LETTERS)
                .union(alerts.getSideOutput(ReplayFunction.DEAD_LETTERS));
        return new Streams(alerts, dead, alerts.getSideOutput(ReplayFunction.DIGESTS),
                alerts.getSideOutput(ReplayFunction.SUMMARIES));
    }

    /** Events go on; dead letters of the source go to {@link #DECODE_DEAD_LETTERS}. */
    static final class SplitDeadLetters extends ProcessFunction<Either<EventBatch, DeadLetter>, EventBatch> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(Either<EventBatch, DeadLetter> in, Context ctx, Collector<EventBatch> out) {
            if (in.isLeft()) {
                out.collect(in.left());
            } else {
                ctx.output(DECODE_DEAD_LETTERS, in.right());
            }
        }
    }
}
