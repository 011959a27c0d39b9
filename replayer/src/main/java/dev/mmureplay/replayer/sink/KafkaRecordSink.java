package dev.mmureplay.replayer.sink;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The common part of the Kafka sinks: an idempotent producer of byte-array keys and values, asynchronous sends whose
 * failures are never lost, and flush/close that wait for acknowledgements.
 *
 * <p>Error model: sends are asynchronous; the first failure (from the broker or from the client, e.g. a record above
 * {@code max.request.size}) is kept with its context and thrown as a {@link KafkaSinkException} by the next
 * {@code send}, {@link #flush()} or {@link #close()}; later failures are counted. {@code flush} returns normally
 * only when every record sent so far is acknowledged by all in-sync replicas.
 */
public abstract class KafkaRecordSink implements Closeable {

    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final String positionName;
    private final AtomicReference<KafkaSinkException> firstError = new AtomicReference<>();
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private long sent;
    private boolean closed;

    /**
     * @param positionName what the long position of a record is called in error messages ("seq", "line")
     */
    protected KafkaRecordSink(KafkaSinkConfig config, String positionName) throws IOException {
        this.topic = config.topic();
        this.positionName = positionName;
        Properties producerProperties = config.producerProperties();   // validate before touching the cluster
        if (config.createTopic()) {
            KafkaTopics.ensureTopic(config);
        }
        this.producer = new KafkaProducer<>(producerProperties);
    }

    public final String topic() {
        return topic;
    }

    /** Records handed to the producer. */
    public final long sent() {
        return sent;
    }

    /** Records acknowledged by the cluster so far. */
    public final long acknowledged() {
        return acked.get();
    }

    /** Records whose send failed so far. */
    public final long failedSends() {
        return failed.get();
    }

    protected final void send(byte[] key, String keyText, long position, byte[] value) throws IOException {
        throwIfFailed();
        if (closed) {
            throw new IOException("Kafka sink for topic " + topic + " is closed");
        }
        try {
            producer.send(new ProducerRecord<>(topic, key, value), new SendCallback(keyText, position, value.length));
        } catch (KafkaException | IllegalStateException e) {
            // thrown synchronously: producer fenced/closed, interrupted, serializer errors
            throw new KafkaSinkException("send to Kafka topic " + topic + " failed for key " + keyText + " "
                    + positionName + " " + position + ": " + e, e);
        }
        sent++;
    }

    /** Waits until every record sent so far is acknowledged; throws the first send failure, if any. */
    public void flush() throws IOException {
        if (closed) {
            throwIfFailed();
            return;
        }
        try {
            producer.flush();
        } catch (KafkaException e) {
            throw new KafkaSinkException("flush of Kafka topic " + topic + " failed: " + e, e);
        }
        throwIfFailed();
    }

    /** Flushes (waiting for acknowledgements), then closes the producer; throws the first send failure, if any. */
    @Override
    public void close() throws IOException {
        if (closed) {
            throwIfFailed();
            return;
        }
        try {
            flush();
        } finally {
            closed = true;
            producer.close(CLOSE_TIMEOUT);
        }
        throwIfFailed();
    }

    private void throwIfFailed() throws KafkaSinkException {
        KafkaSinkException e = firstError.get();
        if (e != null) {
            long n = failed.get();
            if (n > 1) {
                throw new KafkaSinkException(e.getMessage() + " (and " + (n - 1) + " more failed sends; "
                        + acked.get() + " records acknowledged)", e.getCause());
            }
            throw e;
        }
    }

    /** Runs on the producer's I/O thread. Holds only the key text and position, never the record. */
    private final class SendCallback implements Callback {
        private final String keyText;
        private final long position;
        private final int valueSize;

        SendCallback(String keyText, long position, int valueSize) {
            this.keyText = keyText;
            this.position = position;
            this.valueSize = valueSize;
        }

        @Override
        public void onCompletion(RecordMetadata md, Exception exception) {
            if (exception == null) {
                acked.incrementAndGet();
                return;
            }
            failed.incrementAndGet();
            if (firstError.get() == null) {
                StringBuilder where = new StringBuilder("topic ").append(topic);
                if (md != null && md.partition() >= 0) {
                    where.append(" partition ").append(md.partition());
                }
                if (md != null && md.hasOffset()) {
                    where.append(" offset ").append(md.offset());
                }
                firstError.compareAndSet(null, new KafkaSinkException("Kafka send failed (" + where + ", key "
                        + keyText + ", " + positionName + " " + position + ", value " + valueSize + " bytes): "
                        + exception, exception));
            }
        }
    }
}
