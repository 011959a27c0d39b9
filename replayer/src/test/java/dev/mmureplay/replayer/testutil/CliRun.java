package dev.mmureplay.replayer.testutil;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmureplay.replayer.cli.MmuReplayCli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

/** One run of the {@code mmu-replay} command line in the test JVM: exit code, stdout, stderr. */
public record CliRun(int exit, String out, String err) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Runs the CLI with {@code args}. */
    public static CliRun of(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = MmuReplayCli.run(args.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        return new CliRun(exit, out.toString(), err.toString());
    }

    /** stdout as JSON (a {@code --json} run). */
    public JsonNode json() throws IOException {
        return JSON.readTree(out);
    }
}
