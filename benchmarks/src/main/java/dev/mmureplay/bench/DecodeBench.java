package dev.mmureplay.bench;

import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.benchmarks.Workloads;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.replayer.model.ModelEvents;
import dev.mmureplay.replayer.model.TraceEventDecoder;
import dev.mmureplay.schemas.AvroCodec;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Nanoseconds per event to turn the Avro binary of a {@link TraceEvent} into the model's {@link ModelEvent}, one
 * thread. The six real traces (4,612 events, through the real parser and ingest at setup) are encoded back to back
 * in one buffer, as in an Avro container block; one JMH operation = one event.
 *
 * <ul>
 *   <li>{@link #specificReader}: the generated-class path — {@code SpecificDatumReader} (with
 *       {@link AvroCodec#fastModel()}, a fresh record per event, as the job ships each one on) then
 *       {@link ModelEvents#of(TraceEvent)}.</li>
 *   <li>{@link #decode}: {@link TraceEventDecoder#decode} — the envelope and the model event.</li>
 *   <li>{@link #scan}: {@link TraceEventDecoder#scan} — structure check, vm, seq, end.</li>
 * </ul>
 * Setup checks that the decoder gives the reference result for every event. {@code decode} reaches its steady
 * state only after ~3 warm-up iterations (tiered compilation of the decoder's interpreter loop): keep
 * {@code -wi 3} or more.
 *
 * <pre>
 * ./mvnw -q -pl benchmarks -am package -DskipTests
 * taskset -c 1 java -jar benchmarks/target/benchmarks.jar DecodeBench -f 1 -wi 3 -i 3
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public class DecodeBench {

    /** Events of the six real traces (checked at setup). */
    static final int EVENTS = 4612;

    byte[] buf;
    final TraceEventDecoder decoder = new TraceEventDecoder();
    final TraceEventDecoder.Envelope env = new TraceEventDecoder.Envelope();
    final SpecificDatumReader<TraceEvent> reader = new SpecificDatumReader<>(TraceEvent.getClassSchema(),
            TraceEvent.getClassSchema(), AvroCodec.fastModel());
    BinaryDecoder avroDecoder;

    @Setup(Level.Trial)
    public void load() throws IOException {
        List<TraceEvent> events = new ArrayList<>();
        for (String trace : Workloads.TRACES) {
            events.addAll(Workloads.realTraceEvents(trace));
        }
        if (events.size() != EVENTS) {
            throw new IllegalStateException("real traces have " + events.size() + " events, expected " + EVENTS);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
        SpecificDatumWriter<TraceEvent> writer = new SpecificDatumWriter<>(TraceEvent.getClassSchema());
        for (TraceEvent e : events) {
            writer.write(e, enc);
        }
        enc.flush();
        buf = out.toByteArray();

        int off = 0;
        for (TraceEvent e : events) {
            ModelEvent m = decoder.decode(buf, off, buf.length, env);
            if (!m.equals(ModelEvents.of(e))) {
                throw new IllegalStateException("decoder differs from ModelEvents.of at " + e + ": " + m);
            }
            off = env.end;
        }
        if (off != buf.length) {
            throw new IllegalStateException("decoded " + off + " of " + buf.length + " bytes");
        }
        System.out.printf("%n%d events, %d bytes (%.1f bytes/event)%n", EVENTS, buf.length,
                (double) buf.length / EVENTS);
    }

    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public void specificReader(Blackhole bh) {
        avroDecoder = DecoderFactory.get().binaryDecoder(buf, avroDecoder);
        try {
            for (int i = 0; i < EVENTS; i++) {
                bh.consume(ModelEvents.of(reader.read(null, avroDecoder)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public void decode(Blackhole bh) {
        byte[] b = buf;
        int off = 0;
        while (off < b.length) {
            bh.consume(decoder.decode(b, off, b.length, env));
            off = env.end;
        }
    }

    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public void scan(Blackhole bh) {
        byte[] b = buf;
        int off = 0;
        while (off < b.length) {
            decoder.scan(b, off, b.length, env);
            bh.consume(env.vm);
            bh.consume(env.seq);
            off = env.end;
        }
    }
}
