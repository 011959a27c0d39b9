package dev.mmureplay.replayer.sink;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.Place;
import dev.mmureplay.replayer.ingest.DeadLetterSink;

import java.io.BufferedReader;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Dead letters as JSON lines, for people: one JSON object per line, e.g.
 * <pre>
 * {"origin":"vm1.trace","line":1207,"stage":"parse","reason":"bad hex 'zz' in gfn","raw":"  kvmrec-8839 [000] ..."}
 * </pre>
 * Fields: {@code origin}; {@code line}, {@code topic}, {@code partition}, {@code offset} when known; {@code stage};
 * {@code reason}; and the raw input either as {@code raw} (text, when it is valid UTF-8) or as {@code rawBase64}
 * (when it is not), so the bytes are always kept exactly. {@link #read(Path)} parses such a file back.
 *
 * <p>Not thread-safe: one writer thread. Each {@link #flush()} pushes the written lines to the file.
 */
public final class JsonLinesDeadLetterSink implements DeadLetterSink {

    private static final JsonFactory JSON = JsonFactory.builder()
            // raw lines up to any size the parser accepted (a 1 MiB line is a dead letter, not a crash)
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
            .build();

    private final OutputStream out;
    private final JsonGenerator gen;
    private long count;

    /** A new (or truncated) file. */
    public JsonLinesDeadLetterSink(Path file) throws IOException {
        this(Files.newOutputStream(file));
    }

    /** To a stream, closed by {@link #close()}. */
    public JsonLinesDeadLetterSink(OutputStream out) throws IOException {
        this.out = new BufferedOutputStream(out, 64 * 1024);
        this.gen = JSON.createGenerator(this.out, JsonEncoding.UTF8);
        gen.setRootValueSeparator(null);
    }

    @Override
    public void accept(DeadLetter dl) throws IOException {
        Place place = dl.getPlace();
        gen.writeStartObject();
        gen.writeStringField("origin", place.getOrigin());
        if (place.getLine() != null) {
            gen.writeNumberField("line", place.getLine());
        }
        if (place.getTopic() != null) {
            gen.writeStringField("topic", place.getTopic());
        }
        if (place.getPartition() != null) {
            gen.writeNumberField("partition", place.getPartition());
        }
        if (place.getOffset() != null) {
            gen.writeNumberField("offset", place.getOffset());
        }
        gen.writeStringField("stage", dl.getStage());
        gen.writeStringField("reason", dl.getReason());
        ByteBuffer raw = dl.getRaw().duplicate();
        String text = utf8OrNull(raw.duplicate());
        if (text != null) {
            gen.writeStringField("raw", text);
        } else {
            byte[] bytes = new byte[raw.remaining()];
            raw.get(bytes);
            gen.writeStringField("rawBase64", Base64.getEncoder().encodeToString(bytes));
        }
        gen.writeEndObject();
        gen.writeRaw('\n');
        count++;
    }

    /** Dead letters written so far. */
    public long count() {
        return count;
    }

    @Override
    public void flush() throws IOException {
        gen.flush();
    }

    @Override
    public void close() throws IOException {
        try {
            gen.flush();
        } finally {
            gen.close();   // closes the stream (AUTO_CLOSE_TARGET)
        }
    }

    /** The text of strictly valid UTF-8 (no malformed or unpaired-surrogate sequences), else null. */
    private static String utf8OrNull(ByteBuffer bytes) {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Reads a JSON-lines dead-letter file back (blank lines ignored). */
    public static List<DeadLetter> read(Path file) throws IOException {
        List<DeadLetter> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            long n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    out.add(parse(line));
                } catch (IOException | RuntimeException e) {
                    throw new IOException(file + ":" + n + ": not a dead-letter JSON line: " + e.getMessage(), e);
                }
            }
        }
        return out;
    }

    /** Parses one line written by this sink. */
    public static DeadLetter parse(String jsonLine) throws IOException {
        Place place = new Place();
        DeadLetter dl = new DeadLetter();
        dl.setPlace(place);
        try (JsonParser p = JSON.createParser(jsonLine)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("expected a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                switch (field) {
                    case "origin": place.setOrigin(p.getText()); break;
                    case "line": place.setLine(p.getLongValue()); break;
                    case "topic": place.setTopic(p.getText()); break;
                    case "partition": place.setPartition(p.getIntValue()); break;
                    case "offset": place.setOffset(p.getLongValue()); break;
                    case "stage": dl.setStage(p.getText()); break;
                    case "reason": dl.setReason(p.getText()); break;
                    case "raw": dl.setRaw(ByteBuffer.wrap(p.getText().getBytes(StandardCharsets.UTF_8))); break;
                    case "rawBase64": dl.setRaw(ByteBuffer.wrap(Base64.getDecoder().decode(p.getText()))); break;
                    default: p.skipChildren(); break;   // fields added later
                }
            }
        }
        if (place.getOrigin() == null || dl.getReason() == null || dl.getRaw() == null) {
            throw new IOException("missing origin, reason or raw");
        }
        if (dl.getStage() == null) {
            dl.setStage("parse");
        }
        return dl;
    }
}
