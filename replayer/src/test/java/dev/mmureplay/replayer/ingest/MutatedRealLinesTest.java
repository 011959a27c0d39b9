package dev.mmureplay.replayer.ingest;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.replayer.parse.ParsedLine;
import dev.mmureplay.replayer.parse.TraceLineParser;
import dev.mmureplay.replayer.testutil.MemorySinks;
import dev.mmureplay.replayer.testutil.Traces;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * (e) Thousands of real lines (plus the fixture lines of the events and layouts the real traces lack) damaged at
 * random (fixed seed): truncated, a byte flipped, garbage inserted, a space deleted, digits swapped. Each line is either an event, a skip or a dead letter with a reason — never an exception
 * — and an ingest of all of them reconciles.
 */
class MutatedRealLinesTest {

    private static final long SEED = 0x6b766d6d6d75L;
    private static final int CASES = 6000;

    enum Mutation { TRUNCATE, FLIP_BYTE, INSERT_GARBAGE, DELETE_SPACE, SWAP_DIGITS }

    private static List<byte[]> mutatedLines(Random rnd, Map<Mutation, Integer> applied) {
        List<String> real = java.util.stream.Stream.concat(Traces.allLines(), Traces.fixtureLines())
                .filter(l -> !l.startsWith("#") && l.contains("-")).toList();
        List<byte[]> out = new ArrayList<>(CASES);
        Mutation[] kinds = Mutation.values();
        for (int i = 0; i < CASES; i++) {
            byte[] line = real.get(rnd.nextInt(real.size())).getBytes(StandardCharsets.UTF_8);
            Mutation m = kinds[i % kinds.length];
            byte[] mutated = mutate(line, m, rnd);
            applied.merge(m, 1, Integer::sum);
            out.add(mutated);
        }
        return out;
    }

    static byte[] mutate(byte[] line, Mutation m, Random rnd) {
        switch (m) {
            case TRUNCATE:
                return Arrays.copyOf(line, rnd.nextInt(line.length));
            case FLIP_BYTE: {
                byte[] b = line.clone();
                int at = rnd.nextInt(b.length);
                byte v;
                do {
                    v = (byte) rnd.nextInt(256);
                } while (v == '\n');   // a newline would only split the case in two lines
                b[at] = v;
                return b;
            }
            case INSERT_GARBAGE: {
                int at = rnd.nextInt(line.length + 1);
                byte[] garbage = new byte[1 + rnd.nextInt(8)];
                rnd.nextBytes(garbage);
                for (int i = 0; i < garbage.length; i++) {
                    if (garbage[i] == '\n') {
                        garbage[i] = 0;
                    }
                }
                byte[] b = new byte[line.length + garbage.length];
                System.arraycopy(line, 0, b, 0, at);
                System.arraycopy(garbage, 0, b, at, garbage.length);
                System.arraycopy(line, at, b, at + garbage.length, line.length - at);
                return b;
            }
            case DELETE_SPACE: {
                List<Integer> spaces = new ArrayList<>();
                for (int i = 0; i < line.length; i++) {
                    if (line[i] == ' ') {
                        spaces.add(i);
                    }
                }
                int at = spaces.get(rnd.nextInt(spaces.size()));
                byte[] b = new byte[line.length - 1];
                System.arraycopy(line, 0, b, 0, at);
                System.arraycopy(line, at + 1, b, at, line.length - at - 1);
                return b;
            }
            case SWAP_DIGITS:
            default: {
                byte[] b = line.clone();
                List<Integer> digits = new ArrayList<>();
                for (int i = 0; i < b.length; i++) {
                    if (b[i] >= '0' && b[i] <= '9') {
                        digits.add(i);
                    }
                }
                int x = digits.get(rnd.nextInt(digits.size()));
                int y = digits.get(rnd.nextInt(digits.size()));
                byte t = b[x];
                b[x] = b[y];
                b[y] = t;
                if (b[x] == b[y]) {
                    b[x] = (byte) ('0' + (b[x] - '0' + 1 + rnd.nextInt(9)) % 10);
                }
                return b;
            }
        }
    }

    @Test
    void everyMutatedLineIsAnEventASkipOrADeadLetterWithAReason() {
        Map<Mutation, Integer> applied = new EnumMap<>(Mutation.class);
        List<byte[]> lines = mutatedLines(new Random(SEED), applied);
        TraceLineParser parser = new TraceLineParser();
        Map<ParsedLine.Kind, Integer> kinds = new EnumMap<>(ParsedLine.Kind.class);

        for (byte[] line : lines) {
            ParsedLine p = parser.parse(line, 0, line.length);   // must not throw
            assertNotNull(p.kind());
            kinds.merge(p.kind(), 1, Integer::sum);
            if (p.kind() == ParsedLine.Kind.ERROR) {
                assertNotNull(p.errorReason());
                assertFalse(p.errorReason().isBlank());
                assertTrue(p.errorReason().length() < 300, p.errorReason());
            } else if (p.kind() == ParsedLine.Kind.EVENT) {
                assertNotNull(p.payload());
                assertNotNull(p.eventName());
            }
        }

        assertEquals(CASES, kinds.values().stream().mapToInt(Integer::intValue).sum());
        assertTrue(kinds.getOrDefault(ParsedLine.Kind.ERROR, 0) > CASES / 3, "most damage is detected: " + kinds);
        assertTrue(kinds.getOrDefault(ParsedLine.Kind.EVENT, 0) > 0, "some damage is harmless (a digit of a value): " + kinds);
        assertEquals(CASES / Mutation.values().length, applied.get(Mutation.TRUNCATE));
    }

    @Test
    void ingestingAllMutatedLinesReconcilesWithoutInternalErrors() throws Exception {
        List<byte[]> lines = mutatedLines(new Random(SEED), new EnumMap<>(Mutation.class));
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        for (byte[] l : lines) {
            bos.writeBytes(l);
            bos.write('\n');
        }

        MemorySinks.Run run = MemorySinks.ingestBytes(IngestOptions.defaults().withUnlimitedErrors(), "mutated.trace",
                bos.toByteArray());

        IngestReport r = run.report();
        assertEquals(CASES, r.linesRead());
        assertEquals(r.linesRead(), r.events() + r.deadLetters() + r.skipped());
        assertTrue(r.reconciles());
        for (DeadLetter d : run.deadLetters()) {
            assertFalse(d.getReason().startsWith("internal parser error"), d.getReason());
            long line = d.getPlace().getLine();
            assertEquals(lines.get((int) line - 1).length, d.getRaw().remaining(), "raw is the line at its number");
        }
        for (int i = 1; i < run.events().size(); i++) {
            assertEquals(i, run.events().get(i).getSeq());
        }
    }

    @Test
    void parsingIsDeterministic() {
        List<byte[]> lines = mutatedLines(new Random(SEED), new EnumMap<>(Mutation.class));
        TraceLineParser a = new TraceLineParser();
        TraceLineParser b = new TraceLineParser();
        for (byte[] line : lines) {
            String first = a.parse(line, 0, line.length).toString();
            String second = b.parse(line, 0, line.length).toString();
            assertEquals(first, second);
        }
    }
}
