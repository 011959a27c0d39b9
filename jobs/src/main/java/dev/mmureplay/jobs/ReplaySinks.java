package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.DivergenceAlert;
import dev.mmureplay.avro.ReplayDigest;
import dev.mmureplay.avro.VmSummary;
import dev.mmureplay.schemas.AvroCodec;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.flink.util.function.SerializableSupplier;

import java.util.Properties;

/**
 * The job's Kafka outputs, exactly-once: each topic is written in Kafka transactions committed at checkpoints, so
 * readers with {@code isolation.level=read_committed} see every alert once, also across failures and restarts.
 * The transaction timeout is set below the broker's {@code transaction.max.timeout.ms} (15 min by default; Flink's
 * default of 1 h would be refused).
 *
 * @param bootstrap         bootstrap servers
 * @param alertsTopic       {@code DivergenceAlert}s (key = vm)
 * @param deadLetterTopic   {@code DeadLetter}s (key = the place's origin)
 * @param digestsTopic      {@code ReplayDigest}s and, on {@code digestsTopic + ".summary"}, {@code VmSummary}s; null
 *                          to skip both
 * @param transactionalIdPrefix unique per job (two jobs must not share it)
 * @param producer          extra producer settings (security etc.)
 */
public record ReplaySinks(String bootstrap, String alertsTopic, String deadLetterTopic, String digestsTopic,
                          String transactionalIdPrefix, Properties producer) {

    public static final String DEFAULT_ALERTS = "mmu.divergence";
    public static final String DEFAULT_DEAD_LETTERS = "mmu.deadletter";
    public static final String DEFAULT_DIGESTS = "mmu.digest";
    /** Transaction timeout of the sinks (stack.md: must stay below the broker's maximum). */
    public static final String TRANSACTION_TIMEOUT_MS = "60000";

    /** Attaches the sinks to the job's streams. */
    public void attach(ReplayJob.Streams s) {
        sink(s.alerts(), alertsTopic, AvroCodec::alerts, DivergenceAlert::getVm, "alerts");
        sink(s.deadLetters(), deadLetterTopic, AvroCodec::deadLetters, d -> d.getPlace().getOrigin(), "deadletters");
        if (digestsTopic != null) {
            sink(s.digests(), digestsTopic, AvroCodec::digests, ReplayDigest::getVm, "digests");
            sink(s.summaries(), digestsTopic + ".summary", AvroCodec::summaries, VmSummary::getVm, "summaries");
        }
    }

    private <T extends SpecificRecord> void sink(DataStream<T> stream, String topic,
                                                 SerializableSupplier<AvroCodec<T>> codec,
                                                 SerializableFunction<T, String> key, String name) {
        Properties p = new Properties();
        p.putAll(producer);
        p.putIfAbsent("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS);
        KafkaSink<T> sink = KafkaSink.<T>builder()
                .setBootstrapServers(bootstrap)
                .setKafkaProducerConfig(p)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(transactionalIdPrefix + "-" + name)
                .setRecordSerializer(new AvroKafkaSerializer<>(topic, codec, key))
                .build();
        stream.sinkTo(sink).name("kafka " + topic).uid("sink-" + name);
    }
}
