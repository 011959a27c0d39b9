package dev.mmureplay.replayer.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.Place;
import dev.mmureplay.testing.SampleEvents;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeadLetterSinkTest {

    @TempDir
    Path dir;

    @Test
    void jsonLinesRoundTripKeepsEveryByte() throws IOException {
        List<DeadLetter> letters = withOneMiBLine(SampleEvents.deadLetters());
        Path file = dir.resolve("dead.jsonl");
        try (JsonLinesDeadLetterSink sink = new JsonLinesDeadLetterSink(file)) {
            for (DeadLetter dl : letters) {
                sink.accept(dl);
            }
            assertEquals(letters.size(), sink.count());
        }
        assertEquals(letters, JsonLinesDeadLetterSink.read(file));
    }

    @Test
    void jsonLinesAreOneReadableObjectPerLine() throws IOException {
        List<DeadLetter> letters = SampleEvents.deadLetters();
        Path file = dir.resolve("dead.jsonl");
        try (JsonLinesDeadLetterSink sink = new JsonLinesDeadLetterSink(file)) {
            for (DeadLetter dl : letters) {
                sink.accept(dl);
            }
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertEquals(letters.size(), lines.size());
        ObjectMapper json = new ObjectMapper();
        // a text line: origin, line, stage, reason and the raw line as text, in the order people read them
        assertEquals("{\"origin\":\"t.trace\",\"line\":12,\"stage\":\"parse\",\"reason\":\"bad hex 'zz' in gfn\","
                + "\"raw\":\"   kvmrec-1 [000] .....   1.000001: kvm_mmu_set_spte: gfn zz\"}", lines.get(0));
        // control characters are escaped, non-ASCII stays readable
        JsonNode second = json.readTree(lines.get(1));
        assertEquals("tab\tquote\"backslash\\ nul\u0000 é ✓", second.get("raw").asText());
        assertTrue(lines.get(1).contains("é ✓"), lines.get(1));
        // bytes that are not UTF-8: base64, with the Kafka place
        JsonNode third = json.readTree(lines.get(2));
        assertFalse(third.has("raw"));
        byte[] raw = Base64.getDecoder().decode(third.get("rawBase64").asText());
        assertEquals(letters.get(2).getRaw(), ByteBuffer.wrap(raw));
        assertEquals("mmu.trace", third.get("topic").asText());
        assertEquals(3, third.get("partition").asInt());
        assertEquals(42, third.get("offset").asLong());
        assertEquals("decode", third.get("stage").asText());
        assertFalse(lines.get(0).contains("topic"));
    }

    @Test
    void jsonLinesFlushShowsWhatWasWritten() throws IOException {
        Path file = dir.resolve("dead.jsonl");
        try (JsonLinesDeadLetterSink sink = new JsonLinesDeadLetterSink(file)) {
            sink.accept(SampleEvents.deadLetters().get(0));
            sink.flush();
            assertEquals(1, JsonLinesDeadLetterSink.read(file).size());
        }
    }

    @Test
    void readingSomethingElseFailsWithThePlace() throws IOException {
        Path file = dir.resolve("not.jsonl");
        Files.writeString(file, "{\"origin\":\"a\",\"reason\":\"r\",\"raw\":\"x\"}\n\n[1,2]\n");
        IOException e = assertThrows(IOException.class, () -> JsonLinesDeadLetterSink.read(file));
        assertTrue(e.getMessage().contains(":3:"), e.getMessage());
    }

    @Test
    void avroRoundTrip() throws IOException {
        List<DeadLetter> letters = withOneMiBLine(SampleEvents.deadLetters());
        for (String codec : List.of("none", "zstd:1", "deflate:1")) {
            Path file = dir.resolve("dead-" + codec.replace(':', '_') + ".avro");
            try (AvroFileDeadLetterSink sink = new AvroFileDeadLetterSink(file, AvroCompression.parse(codec))) {
                for (DeadLetter dl : letters) {
                    sink.accept(dl);
                }
            }
            try (Stream<DeadLetter> read = AvroFiles.readDeadLetters(file)) {
                assertEquals(letters, read.toList());
            }
        }
    }

    @Test
    void teeWritesBothAndClosesBoth() throws IOException {
        Path json = dir.resolve("dead.jsonl");
        Path avro = dir.resolve("dead.avro");
        List<DeadLetter> letters = SampleEvents.deadLetters();
        try (TeeDeadLetterSink tee = new TeeDeadLetterSink(new JsonLinesDeadLetterSink(json),
                new AvroFileDeadLetterSink(avro))) {
            for (DeadLetter dl : letters) {
                tee.accept(dl);
            }
        }
        assertEquals(letters, JsonLinesDeadLetterSink.read(json));
        assertEquals(letters, AvroFiles.readAll(avro, DeadLetter.class));
    }

    static List<DeadLetter> withOneMiBLine(List<DeadLetter> base) {
        List<DeadLetter> out = new ArrayList<>(base);
        byte[] big = new byte[1 << 20];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) ('a' + i % 26);
        }
        out.add(new DeadLetter(new Place("big.trace", 5L, null, null, null), ByteBuffer.wrap(big),
                "line longer than the limit", "parse"));
        return out;
    }
}
