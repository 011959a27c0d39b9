package dev.mmureplay.replayer.sink;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.replayer.ingest.EventSink;
import dev.mmureplay.replayer.ingest.EventView;
import dev.mmureplay.schemas.AvroCodec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Ingest output to a Kafka topic: key = the VM id (UTF-8), value = the event in Avro single-object encoding
 * (decodable with {@link AvroCodec#traceEvents()}; written by the faster {@link SingleObjectEventEncoder}), one record
 * per event, in {@code accept} order. All events of one VM go to one partition, in order (idempotent producer, keyed
 * partitioning; see {@link KafkaSinkConfig}).
 *
 * <p>{@link #flush()} returns when everything accepted is acknowledged and throws the first failed send
 * ({@link KafkaSinkException}, naming topic, partition, vm and seq); {@link #close()} flushes first. The topic is
 * created when missing unless the config says otherwise.
 */
public final class KafkaEventSink extends KafkaRecordSink implements EventSink {

    private final SingleObjectEventEncoder encoder = new SingleObjectEventEncoder();
    private String lastVm;
    private byte[] lastKey;

    public KafkaEventSink(KafkaSinkConfig config) throws IOException {
        super(config, "seq");
    }

    @Override
    public void accept(TraceEvent event) throws IOException {
        String vm = event.getVm();
        if (!vm.equals(lastVm)) {
            lastVm = vm;
            lastKey = vm.getBytes(StandardCharsets.UTF_8);   // keys are never mutated by the producer: share
        }
        send(lastKey, vm, event.getSeq(), encoder.encode(event));
    }

    /** Ingest's hot path: the same record bytes, encoded from the view without making a TraceEvent. */
    @Override
    public void accept(EventView event) throws IOException {
        String vm = event.vm();
        if (!vm.equals(lastVm)) {
            lastVm = vm;
            lastKey = vm.getBytes(StandardCharsets.UTF_8);
        }
        send(lastKey, vm, event.seq(), encoder.encode(event));
    }
}
