package dev.mmureplay.replayer.parse;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** (1) The streaming line reader: terminators, cut files, binary bytes, over-long lines, flat memory. */
class LineReaderTest {

    record Line(String text, long number, long offset, boolean newline, boolean truncated, long fullLength) {
    }

    private static List<Line> read(byte[] input, int maxLineBytes) throws IOException {
        return read(new ByteArrayInputStream(input), maxLineBytes);
    }

    private static List<Line> read(InputStream in, int maxLineBytes) throws IOException {
        List<Line> out = new ArrayList<>();
        try (LineReader r = new LineReader(in, maxLineBytes)) {
            while (r.next()) {
                out.add(new Line(new String(r.array(), r.start(), r.length(), StandardCharsets.ISO_8859_1),
                        r.lineNumber(), r.offset(), r.endedWithNewline(), r.truncated(), r.fullLength()));
            }
        }
        return out;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void stripsLfAndCrLfAndNumbersLinesFromOneWithByteOffsets() throws IOException {
        List<Line> lines = read(ascii("a\nbb\r\n\nccc\n"), 100);

        assertEquals(List.of(
                new Line("a", 1, 0, true, false, 1),
                new Line("bb", 2, 2, true, false, 2),
                new Line("", 3, 6, true, false, 0),
                new Line("ccc", 4, 7, true, false, 3)), lines);
    }

    @Test
    void aFinalLineWithoutNewlineIsStillReturned() throws IOException {
        List<Line> lines = read(ascii("first\nsecond, cut mid-li"), 100);

        assertEquals(2, lines.size());
        assertEquals("second, cut mid-li", lines.get(1).text());
        assertFalse(lines.get(1).newline());
        assertTrue(lines.get(0).newline());
    }

    @Test
    void anEmptyInputHasNoLines() throws IOException {
        assertEquals(List.of(), read(new byte[0], 100));
    }

    @Test
    void aLoneCarriageReturnInsideALineIsKept() throws IOException {
        assertEquals("a\rb", read(ascii("a\rb\n"), 100).get(0).text());
    }

    @Test
    void binaryBytesAndNulPassThroughUntouched() throws IOException {
        byte[] garbage = {0, 1, (byte) 0xff, (byte) 0x80, 0x7f, '\r', 0};
        byte[] input = new byte[garbage.length + 1];
        System.arraycopy(garbage, 0, input, 0, garbage.length);
        input[garbage.length] = '\n';

        List<Line> lines = read(input, 100);

        assertEquals(1, lines.size());
        assertArrayEquals(garbage, lines.get(0).text().getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void aLineOverTheCapKeepsItsFirstBytesAndTellsItsRealLength() throws IOException {
        String longLine = "x".repeat(1000);
        List<Line> lines = read(ascii("short\n" + longLine + "\r\nafter\n"), 64);

        assertEquals(3, lines.size());
        Line l = lines.get(1);
        assertTrue(l.truncated());
        assertEquals("x".repeat(64), l.text());
        assertEquals(1000, l.fullLength());
        assertEquals(2, l.number());
        assertEquals(6, l.offset());
        assertEquals(new Line("after", 3, 6 + 1002, true, false, 5), lines.get(2));
    }

    @Test
    void aLineOfExactlyTheCapIsNotTruncated() throws IOException {
        List<Line> lines = read(ascii("y".repeat(64) + "\r\nz\n"), 64);

        assertFalse(lines.get(0).truncated());
        assertEquals(64, lines.get(0).text().length());
    }

    @Test
    void anOverLongLastLineWithoutNewline() throws IOException {
        List<Line> lines = read(ascii("a\n" + "q".repeat(5000)), 100);

        assertEquals(2, lines.size());
        assertTrue(lines.get(1).truncated());
        assertFalse(lines.get(1).newline());
        assertEquals(5000, lines.get(1).fullLength());
    }

    @Test
    void linesSpanningReadBoundariesOfAStingyStreamAreWhole() throws IOException {
        StringBuilder sb = new StringBuilder();
        Random rnd = new Random(7);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            String s = "line-" + i + "-" + "k".repeat(rnd.nextInt(300));
            expected.add(s);
            sb.append(s).append(i % 3 == 0 ? "\r\n" : "\n");
        }
        InputStream stingy = new ByteArrayInputStream(ascii(sb.toString())) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1 + rnd.nextInt(13)));
            }
        };

        List<String> got = read(stingy, 1 << 20).stream().map(Line::text).toList();

        assertEquals(expected, got);
    }

    @Test
    void memoryStaysFlatOverAHundredMegabytesOfOverLongLines() throws IOException {
        int cap = 64 << 10;
        long lineLength = 3L << 20;
        int lineCount = 33;   // ~100 MB, generated on the fly
        InputStream endless = new InputStream() {
            long produced;
            final long total = (lineLength + 1) * lineCount;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (produced >= total) {
                    return -1;
                }
                int n = (int) Math.min(len, total - produced);
                for (int i = 0; i < n; i++) {
                    b[off + i] = (produced + i + 1) % (lineLength + 1) == 0 ? (byte) '\n' : (byte) 'm';
                }
                produced += n;
                return n;
            }
        };
        try (LineReader r = new LineReader(endless, cap)) {
            int lines = 0;
            while (r.next()) {
                lines++;
                assertTrue(r.truncated());
                assertEquals(lineLength, r.fullLength());
                assertTrue(r.bufferCapacity() <= 2 * cap + 2 + (64 << 10), "buffers: " + r.bufferCapacity());
            }
            assertEquals(lineCount, lines);
        }
    }

    @Test
    void gzipIsDetectedByItsMagicBytesWhateverTheName() throws IOException {
        byte[] plain = ascii("one\ntwo\n");
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(plain);
        }
        try (TraceInput in = TraceInput.of("no-extension", new ByteArrayInputStream(bos.toByteArray()), bos.size())) {
            assertTrue(in.gzip());
            assertEquals(List.of("one", "two"), read(in.stream(), 100).stream().map(Line::text).toList());
            assertNull(in.damage());
            assertEquals(bos.size(), in.bytesRead());
        }
        try (TraceInput in = TraceInput.of("x.gz", new ByteArrayInputStream(plain), plain.length)) {
            assertFalse(in.gzip(), "a plain file named .gz is read as plain text");
        }
    }

    @Test
    void aGzipFileCutShortEndsTheInputWithADamageNote() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 5000; i++) {
            sb.append("line ").append(i).append(" of a compressed trace with some entropy ").append(i * 7919).append('\n');
        }
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(ascii(sb.toString()));
        }
        byte[] cut = java.util.Arrays.copyOf(bos.toByteArray(), bos.size() / 2);
        try (TraceInput in = TraceInput.of("cut.gz", new ByteArrayInputStream(cut), cut.length)) {
            List<Line> lines = read(in.stream(), 1 << 20);
            assertTrue(lines.size() > 100 && lines.size() < 5000, "read up to the cut: " + lines.size());
            assertNotNull(in.damage());
            assertTrue(in.damage().startsWith("gzip data ends early"), in.damage());
        }
    }
}
