package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.testing.EmbeddedKafka;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Producer-side throughput of {@link KafkaEventSink} against the embedded broker (same machine: broker and producer
 * share the cores), per compression type. Not a test (a benchmark main, run with the test classpath:
 * {@code mvn -q -pl replayer test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.mmureplay.replayer.sink.KafkaSinkBench}); writes
 * {@code target/bench-kafka-sink.txt}.
 */
public final class KafkaSinkBench {

    public static void main(String[] args) throws IOException {
        new KafkaSinkBench().compressionTypes();
    }


    void compressionTypes() throws IOException {
        EmbeddedKafka kafka = EmbeddedKafka.get();
        List<TraceEvent> events = AvroCodecBench.realisticEvents(Integer.getInteger("bench.kafka.events", 300_000));
        List<String> rows = new ArrayList<>();
        rows.add(String.format("%-18s %14s %12s %14s", "codec", "caller ns/ev", "k events/s", "topic B/event"));
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (int round = 0; round < 2; round++) {   // first round warms up
            for (String variant : List.of("none", "lz4", "snappy", "zstd", "lz4/in-flight-5", "zstd/in-flight-5")) {
                String codec = variant.replaceAll("/.*", "");
                String topic = EmbeddedKafka.uniqueTopic("bench-" + codec);
                KafkaSinkConfig config = KafkaSinkConfig.of(kafka.bootstrapServers(), topic)
                        .withProperty("compression.type", codec);
                if (variant.endsWith("in-flight-5")) {
                    config = config.withProperty("max.in.flight.requests.per.connection", "5");
                }
                long c0;
                long t0;
                try (KafkaEventSink sink = new KafkaEventSink(config)) {
                    c0 = mx.getCurrentThreadCpuTime();
                    t0 = System.nanoTime();
                    for (TraceEvent e : events) {
                        sink.accept(e);
                    }
                    sink.flush();
                }
                long wall = System.nanoTime() - t0;
                long cpu = mx.getCurrentThreadCpuTime() - c0;
                long bytes = kafka.logSizeBytes(topic);
                if (round == 1) {
                    rows.add(String.format("%-18s %14.0f %12.0f %14.1f", variant, (double) cpu / events.size(),
                            events.size() * 1e6 / wall, (double) bytes / events.size()));
                }
            }
        }
        rows.add(events.size() + " events per run, acks=all, idempotent, linger 20 ms, batch 256 KiB, 4 partitions, "
                + "max.in.flight 1 unless noted;"
                + " broker in the same JVM");
        String table = String.join("\n", rows);
        System.out.println(table);
        Files.writeString(Paths.get("target", "bench-kafka-sink.txt"), table + "\n");
    }
}
