package dev.mmureplay.replayer.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "ingest", mixinStandardHelpOptions = true, description = "(being built)")
final class IngestCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new MmuReplayCli.CliFailure(MmuReplayCli.EXIT_FAILURE, "not built yet");
    }
}
