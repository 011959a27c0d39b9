package dev.mmureplay.replayer.cli;

import dev.mmureplay.replayer.synth.Synth;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code mmu-replay synth SCENARIO [--events N] [--seed S] [-o FILE]}: writes a synthetic trace in the raw tracefs
 * text format (see {@link Synth}). Same scenario, N and seed → same bytes.
 */
@Command(name = "synth", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Write a synthetic KVM MMU trace in the raw tracefs 'trace' format (header + exactly N event lines),"
                + " which ingest/conformance read like a recorded one. Same scenario, --events and --seed give the"
                + " same bytes (java.util.SplittableRandom seeded with --seed; no clock). Output streams in"
                + " constant memory.",
            "Scenarios: scale, mmio-gen, mmio-gen-wrap, nonpaging-pae, nx-recovery, pae-toggle, private-fault."},
        footer = {"", "Examples:",
            "  ./mmu-replay synth scale --events 1000000 --seed 1 -o /tmp/scale.trace",
            "  ./mmu-replay synth mmio-gen | ./mmu-replay conformance -",
            "", "Exit codes: 0 done, 1 runtime failure (I/O), 2 usage error (e.g. unknown scenario)."})
final class SynthCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "SCENARIO",
            description = "One of: scale, mmio-gen, mmio-gen-wrap, nonpaging-pae, nx-recovery, pae-toggle, private-fault.")
    String scenario;

    @Option(names = "--events", paramLabel = "N",
            description = "Event lines to write (default: the scenario's own, 1000000 for scale). Accepts 1e8.")
    String events;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "-",
            description = "Output file, '-' for stdout (default: ${DEFAULT-VALUE}).")
    String output;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (!Synth.exists(scenario)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "unknown scenario '" + scenario + "' (one of " + String.join(", ", Synth.scenarios()) + ")");
        }
        long n = events == null ? Synth.defaultEvents(scenario) : parseCount(events);
        if (output.equals("-")) {
            OutputStream out = new BufferedOutputStream(new NonClosing(System.out), 1 << 16);
            Synth.generate(scenario, n, seed, out);
            out.flush();
        } else {
            try (OutputStream out = Files.newOutputStream(Path.of(output))) {
                Synth.generate(scenario, n, seed, out);
            }
        }
        return MmuReplayCli.EXIT_OK;
    }

    private long parseCount(String s) {
        long n;
        try {
            n = s.matches("[0-9]+") ? Long.parseLong(s) : (long) Double.parseDouble(s);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || (!s.matches("[0-9]+") && n != Double.parseDouble(s))) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--events must be a positive integer (e.g. 1000000 or 1e6), not '" + s + "'");
        }
        return n;
    }

    /** System.out must stay open after the command. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
