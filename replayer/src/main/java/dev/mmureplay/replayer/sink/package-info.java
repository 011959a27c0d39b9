/**
 * The outputs of ingest: Avro object container files ({@link dev.mmureplay.replayer.sink.AvroFileEventSink},
 * {@link dev.mmureplay.replayer.sink.AvroFileDeadLetterSink}, read back with
 * {@link dev.mmureplay.replayer.sink.AvroFiles}), human-readable dead letters
 * ({@link dev.mmureplay.replayer.sink.JsonLinesDeadLetterSink}), Kafka topics
 * ({@link dev.mmureplay.replayer.sink.KafkaEventSink}, {@link dev.mmureplay.replayer.sink.KafkaDeadLetterSink},
 * configured by {@link dev.mmureplay.replayer.sink.KafkaSinkConfig}), and fan-out
 * ({@link dev.mmureplay.replayer.sink.TeeEventSink}, {@link dev.mmureplay.replayer.sink.TeeDeadLetterSink}).
 */
package dev.mmureplay.replayer.sink;
