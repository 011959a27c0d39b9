package dev.mmureplay.jobs.cli;

import dev.mmureplay.replayer.cli.MmuReplayCli;

import java.io.PrintWriter;

/** The {@code mmu-replay} command line with the Flink {@code replay} command (main class of mmu-replay.jar). */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code (tests call this). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return MmuReplayCli.run(args, out, err, new ReplayCommand());
    }
}
