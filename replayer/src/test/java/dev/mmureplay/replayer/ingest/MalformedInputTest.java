package dev.mmureplay.replayer.ingest;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.replayer.testutil.MemorySinks;
import dev.mmureplay.replayer.testutil.Traces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * (d) Malformed input gives dead letters with the right origin:line and reason, never a crash, and the counts
 * reconcile. Lines are built from real lines so each test damages exactly one thing.
 */
class MalformedInputTest {

    private static final String GOOD = "          kvmrec-8839    [000] .....   569.264856: kvm_mmu_paging_element: pte 2007 level 4";
    private static final String SET_SPTE = "          kvmrec-8839    [000] ...1.   569.264868: kvm_mmu_set_spte: ";
    private static final String WALK = "          kvmrec-8839    [000] .....   569.264855: kvm_mmu_pagetable_walk: ";

    @TempDir
    Path tmp;

    /** Ingests GOOD, the bad line, GOOD: the bad line is line 2 of "bad.trace". */
    private static DeadLetter onlyDeadLetter(String badLine) throws Exception {
        MemorySinks.Run run = MemorySinks.ingestText("bad.trace", GOOD + "\n" + badLine + "\n" + GOOD + "\n");
        assertEquals(2, run.report().events());
        assertEquals(1, run.report().deadLetters());
        assertTrue(run.report().reconciles());
        DeadLetter d = run.deadLetters().get(0);
        assertEquals("bad.trace", d.getPlace().getOrigin());
        assertEquals(2L, d.getPlace().getLine());
        assertEquals("parse", d.getStage());
        assertArrayEquals(badLine.getBytes(StandardCharsets.UTF_8), bytes(d.getRaw()), "raw keeps the line as read");
        return d;
    }

    private static String reason(String badLine) throws Exception {
        return onlyDeadLetter(badLine).getReason();
    }

    @Test
    void aPayloadCutInTheMiddleOfALiteral() throws Exception {
        assertEquals("kvm_mmu_pagetable_walk: truncated: expected ' pferr ' but the payload ends with ' pfe'",
                reason(WALK + "addr 10000 pfe"));
    }

    @Test
    void aPayloadCutAfterAField() throws Exception {
        assertEquals("kvm_mmu_set_spte: truncated: expected ') level ' but the payload ends with ')'",
                reason(SET_SPTE + "gfn 10 spte 123b48a25 (r-xu)"));
    }

    @Test
    void aLineCutRightAfterTheEventName() throws Exception {
        assertEquals("truncated: no payload after event name 'kvm_mmu_set_spte'",
                reason("          kvmrec-8839    [000] ...1.   569.264868: kvm_mmu_set_spte:"));
    }

    @Test
    void aLineCutInTheTimestamp() throws Exception {
        assertEquals("truncated: no ':' after the timestamp", reason("          kvmrec-8839    [000] ...1.   569.26"));
    }

    @Test
    void aLineCutInTheEventName() throws Exception {
        assertEquals("truncated: no ': ' after event name 'kvm_mmu_se'",
                reason("          kvmrec-8839    [000] ...1.   569.264868: kvm_mmu_se"));
    }

    @Test
    void badHexInAField() throws Exception {
        assertEquals("kvm_mmu_set_spte: bad hex in spte 'xyz'",
                reason(SET_SPTE + "gfn 10 spte xyz (r-xu) level 1 at 12b9a9080"));
    }

    @Test
    void hexWiderThanSixtyFourBits() throws Exception {
        assertEquals("kvm_mmu_set_spte: hex value too long in spte '1123b48a251123b48a25'",
                reason(SET_SPTE + "gfn 10 spte 1123b48a251123b48a25 (r-xu) level 1 at 12b9a9080"));
    }

    @Test
    void anUnknownPferrFlagName() throws Exception {
        assertEquals("kvm_mmu_pagetable_walk: unknown pferr flag name 'Q'", reason(WALK + "addr 10000 pferr 14 U|Q"));
    }

    @Test
    void pferrFlagNamesThatDisagreeWithTheValue() throws Exception {
        assertEquals("kvm_mmu_pagetable_walk: pferr flags 'U' (0x4) disagree with the value 0x14",
                reason(WALK + "addr 10000 pferr 14 U"));
    }

    @Test
    void aKnownEventWithAnUnparsablePayloadIsADeadLetterNotAGenericEvent() throws Exception {
        assertEquals("kvm_mmu_paging_element: expected 'pte ' at 'something else entirely'",
                reason("          kvmrec-8839    [000] .....   569.264856: kvm_mmu_paging_element: something else entirely"));
    }

    @Test
    void anEventTraceCmdCouldNotFormat() throws Exception {
        assertEquals("kvm_inj_exception: trace-cmd printed '[FAILED TO PARSE]' instead of the event text (raw fields are"
                + " not read)", reason("       CPU 0/KVM-4243  [002]  1234.000022: kvm_inj_exception:    [FAILED TO PARSE]"
                + " exception=14 has_error=1 error_code=4 reinjected=0"));
    }

    @Test
    void trailingTextAfterACompletePayload() throws Exception {
        assertEquals("kvm_mmu_paging_element: unexpected trailing text ' extra'", reason(GOOD + " extra"));
    }

    @Test
    void aLineThatIsNoTraceLine() throws Exception {
        assertEquals("not a trace line: no '<task>-<pid> [<cpu>]' prefix in 'hello world'", reason("hello world"));
    }

    @Test
    void badIrqFlags() throws Exception {
        assertTrue(reason("          kvmrec-8839    [000] ?????   569.264856: kvm_mmu_paging_element: pte 2007 level 4")
                .startsWith("bad irq-info flags '?????'"));
    }

    @Test
    void aNulByteInAMarker() throws Exception {
        assertEquals("tracing_mark_write: NUL byte in payload at offset 6",
                reason("          kvmrec-8839    [000] ...1.   569.264748: tracing_mark_write: kvmrec\0start 0"));
    }

    @Test
    void aOneMebibyteLineUnderTheDefaultCapIsKeptWhole() throws Exception {
        String huge = GOOD + " " + "a".repeat(1 << 20);
        DeadLetter d = onlyDeadLetter(huge);

        assertEquals(huge.length(), d.getRaw().remaining());
        assertTrue(d.getReason().startsWith("kvm_mmu_paging_element: unexpected trailing text ' aaaa"), d.getReason());
        assertTrue(d.getReason().length() < 200, "reasons stay short whatever the line");
    }

    @Test
    void aOneMebibyteLineOverTheCapKeepsTheFirstBytesAndSaysHowLongItWas() throws Exception {
        String huge = GOOD + " " + "a".repeat(1 << 20);
        byte[] input = (GOOD + "\n" + huge + "\n" + GOOD + "\n").getBytes(StandardCharsets.UTF_8);

        MemorySinks.Run run = MemorySinks.ingestBytes(IngestOptions.defaults().withMaxLineBytes(64 << 10), "big.trace", input);

        assertEquals(2, run.report().events());
        DeadLetter d = run.deadLetters().get(0);
        assertEquals(2L, d.getPlace().getLine());
        assertEquals(64 << 10, d.getRaw().remaining());
        assertEquals("line too long: " + huge.length() + " bytes, over the limit of 65536 (--max-line-bytes);"
                + " raw keeps the first 65536 bytes", d.getReason());
        assertEquals(3, run.events().get(1).getSource().getLine(), "the line after it keeps its number");
    }

    @Test
    void binaryGarbageLinesAreDeadLettersAndCountsReconcile() throws Exception {
        Random rnd = new Random(42);
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        bos.writeBytes((GOOD + "\n").getBytes(StandardCharsets.UTF_8));
        byte[] garbage = new byte[64 << 10];
        rnd.nextBytes(garbage);
        bos.writeBytes(garbage);
        bos.writeBytes(("\n" + GOOD + "\n").getBytes(StandardCharsets.UTF_8));
        byte[] input = bos.toByteArray();
        long newlines = 0;
        for (byte b : input) {
            newlines += b == '\n' ? 1 : 0;
        }

        MemorySinks.Run run = MemorySinks.ingestBytes(IngestOptions.defaults().withUnlimitedErrors(), "garbage.bin", input);

        IngestReport r = run.report();
        assertEquals(newlines, r.linesRead());
        assertTrue(r.reconciles());
        assertEquals(2, r.events() - r.generic(), "the two good lines");
        assertTrue(r.deadLetters() > 100);
        assertEquals(2L, run.deadLetters().get(0).getPlace().getLine());
        for (DeadLetter d : run.deadLetters()) {
            assertTrue(!d.getReason().startsWith("internal"), d.getReason());
        }
    }

    @Test
    void aFileCutInTheMiddleOfALine() throws Exception {
        byte[] whole = Files.readAllBytes(Traces.path("real_io.trace"));
        String text = new String(whole, StandardCharsets.UTF_8);
        int lastLineStart = text.lastIndexOf('\n', text.length() - 2) + 1;
        Path cut = tmp.resolve("real_io_cut.trace");
        Files.write(cut, Arrays.copyOf(whole, lastLineStart + 60));

        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults(), List.of(cut.toString()));

        assertEquals(25, run.report().events());
        assertEquals(1, run.report().deadLetters());
        DeadLetter d = run.deadLetters().get(0);
        assertEquals(cut.toString(), d.getPlace().getOrigin());
        assertEquals(38L, d.getPlace().getLine());
        assertEquals("truncated: no ': ' after event name 'kvm_mmu_p' (last line without a newline: the input ends"
                + " mid-line)", d.getReason());
        assertTrue(run.report().reconciles());
    }

    @Test
    void anEmptyFile() throws Exception {
        Path empty = tmp.resolve("empty.trace");
        Files.write(empty, new byte[0]);

        IngestReport r = MemorySinks.ingest(IngestOptions.defaults(), List.of(empty.toString())).report();

        assertEquals(0, r.linesRead());
        assertEquals(0, r.events());
        assertEquals(0, r.deadLetters());
        assertEquals(0, r.skipped());
        assertEquals(null, r.firstTimestampNs());
        assertTrue(r.reconciles());
    }

    @Test
    void crLfLineEndingsParse() throws Exception {
        String crlf = String.join("\r\n", Traces.lines("real_io.trace")) + "\r\n";

        MemorySinks.Run run = MemorySinks.ingestText("crlf.trace", crlf);

        assertEquals(26, run.report().events());
        assertEquals(0, run.report().deadLetters());
    }

    @Test
    void aGzipFileCutShortKeepsWhatWasReadAndWarns() throws Exception {
        byte[] whole = Files.readAllBytes(Traces.path("long_user_many_pages.trace"));
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(whole);
        }
        Path cut = tmp.resolve("many.trace.gz");
        Files.write(cut, Arrays.copyOf(bos.toByteArray(), bos.size() / 2));

        MemorySinks.Run run = MemorySinks.ingest(IngestOptions.defaults().withUnlimitedErrors(), List.of(cut.toString()));

        IngestReport r = run.report();
        assertTrue(r.events() > 100 && r.events() < 1397, "events before the cut: " + r.events());
        assertTrue(r.deadLetters() <= 1, "at most the line the cut went through");
        assertEquals(1, r.warnings().size());
        assertTrue(r.warnings().get(0).startsWith(cut + ": gzip data ends early"), r.warnings().get(0));
        assertTrue(r.reconciles());
        assertEquals("many", run.events().get(0).getVm(), ".gz then .trace are dropped from the VM id");
    }

    @Test
    void moreDeadLettersThanMaxErrorsStopsWithThePartialReport() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            sb.append(GOOD).append('\n').append("garbage ").append(i).append('\n');
        }
        MemorySinks sinks = new MemorySinks();
        Ingest ingest = new Ingest(IngestOptions.defaults().withMaxErrors(3), sinks, sinks, ProgressListener.NONE);

        TooManyErrorsException e = assertThrows(TooManyErrorsException.class, () -> {
            try (var in = dev.mmureplay.replayer.parse.TraceInput.of("many-bad.trace",
                    new java.io.ByteArrayInputStream(sb.toString().getBytes(StandardCharsets.UTF_8)), -1)) {
                ingest.ingest(in);
            }
        });

        IngestReport r = e.report();
        assertEquals(4, r.deadLetters(), "the fourth one crosses --max-errors 3");
        assertEquals(4, r.events());
        assertEquals(8, r.linesRead());
        assertTrue(r.reconciles());
        assertEquals(4, sinks.deadLetters.size());
        assertTrue(sinks.flushes >= 2, "both sinks flushed before stopping");
        assertEquals(3, e.maxErrors());
    }

    @Test
    void aMissingInputFailsBeforeAnythingIsWritten() {
        MemorySinks sinks = new MemorySinks();
        Ingest ingest = new Ingest(IngestOptions.defaults(), sinks, sinks, ProgressListener.NONE);

        assertThrows(NoSuchFileException.class,
                () -> ingest.run(List.of(Traces.path("real_io.trace").toString(), tmp.resolve("nope.trace").toString())));
        assertEquals(0, sinks.events.size());
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
