package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import org.apache.flink.types.Either;

import java.util.List;

/**
 * What {@link KafkaRunSplitReader} hands to {@link KafkaBatchReader}: the outputs of one fetch of one partition
 * (its records' batches, VM by VM in turns, then the dead letters of its bad records) and the offset of the last
 * Kafka record they cover. The reader emits them all and moves the partition's position to {@code lastOffset + 1} in
 * one step — one mailbox action, so no checkpoint barrier comes between them — and a checkpoint falls between
 * fetches, never inside one: a restore goes on at the next fetch's first record, whatever order the fetch's
 * records were emitted in.
 *
 * @param values    the batches and dead letters, in the order to emit them
 * @param events    the events the batches hold (for the {@code numRecordsIn} metric)
 * @param timestamp the Kafka timestamp of the last record covered
 */
record KafkaRun(List<Either<EventBatch, DeadLetter>> values, int events, long lastOffset, long timestamp) {

    KafkaRun {
        values = List.copyOf(values);
    }
}
