package dev.mmureplay.replayer.sink;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Topic creation for the Kafka sinks: create when missing, never fail when the topic exists, and return only when
 * every partition's leader accepts requests.
 *
 * <p>Why the last point: with a freshly created topic, the producer may learn a partition's leader before that broker
 * has set the partition up. Its first produce request then fails with NOT_LEADER_OR_FOLLOWER and is retried, while
 * the next in-flight request (higher sequence numbers) arrives a moment later and is accepted, because the broker has
 * no state for the producer yet. The retried first batch then fails forever with OUT_OF_ORDER_SEQUENCE_NUMBER until
 * it expires: lost and out of order despite idempotence (KAFKA-15591 / KAFKA-14312 / KAFKA-19880; observed here with
 * a 4.2.1 broker in {@code KafkaSinkBenchTest}). Waiting until every partition answers a ListOffsets request (served
 * by the partition leader's replica manager, retried by the admin client while it is not ready) narrows that window;
 * it still happened once afterwards, which is why the producer default is one request in flight
 * ({@link KafkaSinkConfig}), which closes it.
 */
public final class KafkaTopics {

    /** Upper bound of our own waits; the admin client's default.api.timeout.ms (60 s) usually ends them first. */
    private static final long TIMEOUT_MS = 120_000;
    /** How long a just-created topic may take to become visible and led on the brokers. */
    private static final long READY_TIMEOUT_MS = 60_000;

    private KafkaTopics() {
    }

    /** What {@link #ensureTopic} found or did. */
    public record TopicState(String topic, boolean created, int partitions) {
    }

    /** Ensures the config's topic exists, with its partitions / replication factor / topic configs if created. */
    public static TopicState ensureTopic(KafkaSinkConfig config) throws IOException {
        NewTopic nt = new NewTopic(config.topic(), Optional.of(config.partitions()), config.replicationFactor());
        if (!config.topicConfigs().isEmpty()) {
            nt.configs(config.topicConfigs());
        }
        return ensureTopic(config.adminProperties(), nt);
    }

    /**
     * Creates {@code topic} unless it exists (also when another client creates it concurrently), then waits until
     * all its partitions have a leader that accepts requests.
     *
     * @param adminProperties AdminClient settings (bootstrap.servers, security)
     * @throws IOException when the cluster cannot be reached or refuses creation for another reason
     */
    public static TopicState ensureTopic(Properties adminProperties, NewTopic topic) throws IOException {
        String name = topic.name();
        try (Admin admin = Admin.create(adminProperties)) {
            boolean created;
            try {
                admin.createTopics(List.of(topic)).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
                created = true;
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof AuthorizationException) {
                    // may not create topics: fine if it exists (checked below), else report the refusal
                    try {
                        return new TopicState(name, false, describe(admin, name));
                    } catch (ExecutionException describeFailed) {
                        throw new IOException("not allowed to create Kafka topic " + name
                                + " and it does not exist (or may not be described): " + cause, cause);
                    }
                }
                if (!(cause instanceof TopicExistsException)) {
                    throw new IOException("cannot create Kafka topic " + name + " at "
                            + adminProperties.get("bootstrap.servers") + ": " + cause, cause);
                }
                created = false;
            }
            return new TopicState(name, created, awaitReady(admin, name));
        } catch (ExecutionException e) {
            throw new IOException("cannot describe Kafka topic " + name + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("Kafka cluster at " + adminProperties.get("bootstrap.servers")
                    + " did not answer within " + TIMEOUT_MS / 1000 + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while creating topic " + name);
        }
    }

    private static int describe(Admin admin, String topic)
            throws ExecutionException, InterruptedException, TimeoutException {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames()
                .get(TIMEOUT_MS, TimeUnit.MILLISECONDS).get(topic);
        return d.partitions().size();
    }

    /**
     * Describes the topic and waits until every partition's leader answers ListOffsets (see the class comment),
     * retrying while a just-created topic is not yet visible to the broker that answers. Returns the partition count.
     */
    private static int awaitReady(Admin admin, String topic)
            throws ExecutionException, InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        while (true) {
            try {
                int partitions = describe(admin, topic);
                awaitLeaders(admin, topic, partitions);
                return partitions;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    /** Returns when every partition's leader answers ListOffsets (see the class comment). */
    private static void awaitLeaders(Admin admin, String topic, int partitions)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            request.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        try {
            admin.listOffsets(request).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof AuthorizationException)) {
                throw e;
            }
            // may not describe the topic: cannot check; the producer's own retries remain
        }
    }
}
