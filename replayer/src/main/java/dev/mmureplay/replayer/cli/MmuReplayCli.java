package dev.mmureplay.replayer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code mmu-replay} command line. Exit codes: 0 done, 1 runtime failure (I/O, Kafka), 2 usage error,
 * 3 too many bad input lines (above {@code --max-errors}), 4 a check failed (e.g. conformance below its bound).
 */
@Command(name = "mmu-replay",
        mixinStandardHelpOptions = true,
        versionProvider = MmuReplayCli.Version.class,
        description = "Event-sourced trace replay for the Linux KVM x86 MMU.",
        subcommands = {IngestCommand.class, StatsCommand.class, ConformanceCommand.class, BenchCommand.class,
            ProfilesCommand.class, DiffCommand.class,
            SynthCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 done, 1 runtime failure, 2 usage error, 3 too many bad input lines,"
                + " 4 a check failed."})
public final class MmuReplayCli implements Runnable {

    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_TOO_MANY_ERRORS = 3;
    public static final int EXIT_CHECK_FAILED = 4;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code (tests call this). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return run(args, out, err, new Object[0]);
    }

    /**
     * Runs the CLI with further subcommands (picocli {@code @Command} objects) — how modules that depend on this one
     * (the Flink {@code replay} command in {@code jobs}) join the same command line.
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err, Object... moreCommands) {
        CommandLine cli = new CommandLine(new MmuReplayCli());
        for (Object c : moreCommands) {
            cli.addSubcommand(c);
        }
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            if (ex instanceof CliFailure f) {
                cmd.getErr().println("mmu-replay " + cmd.getCommandName() + ": " + f.getMessage());
                return f.exitCode();
            }
            cmd.getErr().println("mmu-replay " + cmd.getCommandName() + ": " + describe(ex));
            if (System.getenv("MMU_REPLAY_DEBUG") != null) {
                ex.printStackTrace(cmd.getErr());
            }
            return EXIT_FAILURE;
        });
        return cli.execute(args);
    }

    private static String describe(Throwable ex) {
        String msg = ex.getMessage();
        return msg == null || msg.isBlank() ? ex.toString() : msg;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (see --help)");
    }

    /** A failure with a chosen exit code and a message for the user (no stack trace). */
    public static final class CliFailure extends RuntimeException {
        private final int exitCode;

        public CliFailure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }

    /** Version from the jar manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = MmuReplayCli.class.getPackage().getImplementationVersion();
            return new String[] {"mmu-replay " + (v == null ? "dev" : v)};
        }
    }
}
