package dev.mmureplay.replayer.cli;

import dev.mmureplay.replayer.ingest.IngestOptions;
import dev.mmureplay.replayer.ingest.SplitMode;
import dev.mmureplay.replayer.parse.LineReader;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** How every command that reads trace text reads it (a picocli mixin: --vm, --split-by, --max-errors, ...). */
public final class TraceInputOptions {

    @Option(names = "--vm", paramLabel = "ID", description = "VM id for all inputs (default: each input's file name).")
    String vm;

    @Option(names = "--split-by", paramLabel = "MODE", defaultValue = "none",
            description = "none: one VM per input; tgid: one VM per VMM process (needs the record-tgid column).")
    String splitBy;

    @Option(names = "--max-errors", paramLabel = "N", defaultValue = "" + IngestOptions.DEFAULT_MAX_ERRORS,
            description = "Fail (exit 3) after more than N bad lines; -1 = no limit (default: ${DEFAULT-VALUE}).")
    long maxErrors;

    /** --max-errors as given. */
    public long maxErrors() {
        return maxErrors;
    }

    @Option(names = "--max-line-bytes", paramLabel = "N", defaultValue = "" + LineReader.DEFAULT_MAX_LINE_BYTES,
            description = "Longer lines are dead letters holding their first N bytes (default: ${DEFAULT-VALUE}).")
    int maxLineBytes;

    /** The ingest options, after checking them and the inputs (usage errors name the option or the file). */
    public IngestOptions toIngestOptions(CommandLine cmd, List<String> inputs) {
        SplitMode mode = null;
        for (SplitMode m : SplitMode.values()) {
            if (m.name().equalsIgnoreCase(splitBy)) {
                mode = m;
            }
        }
        if (mode == null) {
            throw new CommandLine.ParameterException(cmd, "--split-by: '" + splitBy + "' is not one of "
                    + List.of(SplitMode.values()).toString().toLowerCase(Locale.ROOT));
        }
        if (maxLineBytes < 1) {
            throw new CommandLine.ParameterException(cmd, "--max-line-bytes must be positive");
        }
        if (maxErrors < -1) {
            throw new CommandLine.ParameterException(cmd, "--max-errors must be >= -1");
        }
        if (vm != null && vm.isBlank()) {
            throw new CommandLine.ParameterException(cmd, "--vm must not be blank");
        }
        if (inputs.stream().filter("-"::equals).count() > 1) {
            throw new CommandLine.ParameterException(cmd, "'-' (stdin) can be given only once");
        }
        for (String in : inputs) {
            if (!in.equals("-") && !Files.isRegularFile(Path.of(in))) {
                throw new CommandLine.ParameterException(cmd, "no such trace file: " + in);
            }
        }
        return new IngestOptions(vm, mode, maxErrors, maxLineBytes);
    }
}
