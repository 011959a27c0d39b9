package dev.mmureplay.jobs;

import dev.mmureplay.avro.DeadLetter;
import org.apache.flink.types.Either;

/**
 * What {@link KafkaRunSplitReader} hands to {@link KafkaBatchReader}: one output of the Kafka source (a batch of a
 * run of one VM's consecutive records of a partition, or the dead letter of one record) and the offset of the last
 * Kafka record it covers. The reader emits the value and moves the partition's position to {@code lastOffset + 1} in
 * one step, so a checkpoint falls between batches, never inside one.
 *
 * @param timestamp the Kafka timestamp of the last record covered
 */
record KafkaRun(Either<EventBatch, DeadLetter> value, long lastOffset, long timestamp) {
}
