package dev.mmureplay.testing;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.schemas.AvroCodec;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Assertions about a topic of {@link TraceEvent}s written by ingest (key = vm, Avro single-object values). */
public final class TraceEventTopics {

    private TraceEventTopics() {
    }

    /**
     * The topic holds exactly {@code expected} (e.g. the Avro file output of the same ingest), record for record:
     * same count, every key is its event's vm, each vm in one partition, and each vm's events in the same order.
     * (Across vms Kafka keeps no order, so only the per-vm sequences are compared.)
     */
    public static void assertTopicHolds(EmbeddedKafka kafka, String topic, List<TraceEvent> expected) {
        AvroCodec<TraceEvent> codec = AvroCodec.traceEvents();
        List<ConsumerRecord<byte[], byte[]>> records = kafka.readAll(topic);
        assertEquals(expected.size(), records.size(), "records in " + topic);
        Map<String, List<TraceEvent>> actualByVm = new LinkedHashMap<>();
        Map<String, Set<Integer>> partitionsByVm = new LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            TraceEvent e = codec.decode(r.value());
            assertEquals(e.getVm(), new String(r.key(), StandardCharsets.UTF_8),
                    "key of partition " + r.partition() + " offset " + r.offset());
            actualByVm.computeIfAbsent(e.getVm(), k -> new ArrayList<>()).add(e);
            partitionsByVm.computeIfAbsent(e.getVm(), k -> new TreeSet<>()).add(r.partition());
        }
        Map<String, List<TraceEvent>> expectedByVm = byVm(expected);
        assertEquals(expectedByVm.keySet(), actualByVm.keySet(), "vms");
        for (Map.Entry<String, List<TraceEvent>> vm : expectedByVm.entrySet()) {
            assertEquals(1, partitionsByVm.get(vm.getKey()).size(),
                    "vm " + vm.getKey() + " in partitions " + partitionsByVm.get(vm.getKey()));
            assertEquals(vm.getValue(), actualByVm.get(vm.getKey()), "events of vm " + vm.getKey() + ", in order");
        }
    }

    /** Events grouped by vm, each group in input order. */
    public static Map<String, List<TraceEvent>> byVm(List<TraceEvent> events) {
        Map<String, List<TraceEvent>> out = new LinkedHashMap<>();
        for (TraceEvent e : events) {
            out.computeIfAbsent(e.getVm(), k -> new ArrayList<>()).add(e);
        }
        return out;
    }
}
