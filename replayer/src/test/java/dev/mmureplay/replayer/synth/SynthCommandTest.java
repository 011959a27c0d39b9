package dev.mmureplay.replayer.synth;

import dev.mmureplay.replayer.cli.MmuReplayCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code mmu-replay synth} through the CLI entry point. */
class SynthCommandTest {

    @TempDir
    Path tmp;

    private record Result(int exit, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = MmuReplayCli.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void helpListsTheScenariosAndOptions() {
        Result r = run("synth", "--help");
        assertEquals(0, r.exit());
        for (String s : new String[] {"SCENARIO", "--events", "--seed", "-o", "scale", "mmio-gen", "mmio-gen-wrap", "pae-toggle",
            "nonpaging-pae", "nx-recovery", "private-fault"}) {
            assertTrue(r.out().contains(s), () -> s + " missing in\n" + r.out());
        }
    }

    @Test
    void unknownScenarioIsAUsageError() {
        Result r = run("synth", "no-such-scenario", "-o", tmp.resolve("x.trace").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("unknown scenario 'no-such-scenario'"), r.err());
        assertTrue(!Files.exists(tmp.resolve("x.trace")));
    }

    @Test
    void badEventCountIsAUsageError() {
        assertEquals(2, run("synth", "scale", "--events", "0", "-o", tmp.resolve("a").toString()).exit());
        assertEquals(2, run("synth", "scale", "--events", "lots", "-o", tmp.resolve("b").toString()).exit());
    }

    @Test
    void outputFileHoldsExactlyTheGeneratedBytes() throws Exception {
        Path f = tmp.resolve("scale.trace");
        Result r = run("synth", "scale", "--events", "1e4", "--seed", "7", "-o", f.toString());
        assertEquals(0, r.exit(), r.err());
        assertArrayEquals(SynthTestSupport.bytes("scale", 10_000, 7), Files.readAllBytes(f));
        assertEquals(13 + 10_000, Files.readAllLines(f).size());
    }

    @Test
    void generatedTraceGoesThroughConformance() throws Exception {
        Path f = tmp.resolve("mmio.trace");
        assertEquals(0, run("synth", "nonpaging-pae", "-o", f.toString()).exit());
        Result r = run("conformance", f.toString(), "--dead-letters", tmp.resolve("dl.jsonl").toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("0 dead letter(s)"), r.out());
    }
}
