package dev.mmureplay.cluster.job;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The cluster tier's smoke job: copies every record of one Kafka topic to another, upper-cased, exactly once
 * (checkpointed Kafka source, transactional Kafka sink). Bounded: it reads up to the input's end offsets as of its
 * start and then finishes (the final checkpoint commits the last transaction).
 *
 * <p>Arguments: {@code --bootstrap-servers H:P --input T --output T --transactional-id-prefix P}
 * [{@code --checkpoint-interval-ms 1000}] [{@code --parallelism 2}] [{@code --delay-ms-per-record 0}] (the delay
 * slows the job so that a test can inject a fault while it runs).
 */
public final class UppercaseCopyJob {

    private UppercaseCopyJob() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        String bootstrap = required(opts, "bootstrap-servers");
        String input = required(opts, "input");
        String output = required(opts, "output");
        String prefix = required(opts, "transactional-id-prefix");
        long checkpointInterval = Long.parseLong(opts.getOrDefault("checkpoint-interval-ms", "1000"));
        int parallelism = Integer.parseInt(opts.getOrDefault("parallelism", "2"));
        long delayMs = Long.parseLong(opts.getOrDefault("delay-ms-per-record", "0"));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(checkpointInterval);
        env.setParallelism(parallelism);

        KafkaSource<String> source = KafkaSource.<String>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(input)
                .setGroupId(prefix + "-reader")
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setBounded(OffsetsInitializer.latest())
                .setValueOnlyDeserializer(new SimpleStringSchema())
                .build();

        KafkaSink<String> sink = KafkaSink.<String>builder()
                .setBootstrapServers(bootstrap)
                .setRecordSerializer(KafkaRecordSerializationSchema.<String>builder()
                        .setTopic(output)
                        .setValueSerializationSchema(new SimpleStringSchema())
                        .build())
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(prefix)
                // below the broker's transaction.max.timeout.ms (15 min); Flink's default (1 h) is refused
                .setProperty("transaction.timeout.ms", "60000")
                .build();

        env.fromSource(source, WatermarkStrategy.noWatermarks(), "kafka-input")
                .map(new Uppercase(delayMs))
                .name("uppercase")
                .sinkTo(sink)
                .name("kafka-output");

        env.execute("uppercase-copy " + input + " -> " + output);
    }

    /** Upper-cases a record, optionally sleeping first. */
    static final class Uppercase implements MapFunction<String, String> {
        private static final long serialVersionUID = 1L;
        private final long delayMs;

        Uppercase(long delayMs) {
            this.delayMs = delayMs;
        }

        @Override
        public String map(String value) throws Exception {
            if (delayMs > 0) {
                Thread.sleep(delayMs);
            }
            return value.toUpperCase(Locale.ROOT);
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got: " + String.join(" ", args));
            }
            opts.put(args[i].substring(2), args[++i]);
        }
        return opts;
    }

    private static String required(Map<String, String> opts, String name) {
        String value = opts.get(name);
        if (value == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return value;
    }
}
