package dev.mmureplay.replayer.cli;

import dev.mmureplay.model.ModelConfig;
import dev.mmureplay.model.Profile;
import dev.mmureplay.model.ProfileFile;
import dev.mmureplay.replayer.json.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code mmu-replay profiles [--profile-file F] [--json]}: the behaviour profiles (built-in and from a profile file),
 * their switches with the kernel behaviour each selects, and whether the model implements it.
 */
@Command(name = "profiles", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "List the behaviour profiles: upstream (current mainline), the five seed profiles and those of a profile"
                + " file, with their switches. A switch marked 'not yet modelled' is accepted but changes nothing in"
                + " a replay yet.",
            "Profile file format: 'name=NAME', optional 'base=PROFILE' (default upstream), then"
                + " 'switch.SWITCH=true|false' lines; '#' starts a comment."},
        footer = {"", "Examples:", "  ./mmu-replay profiles", "  ./mmu-replay profiles --profile-file my.profiles --json",
            "", "Exit codes: 0 done, 2 usage error (also a bad profile file, reported as file:line)."})
final class ProfilesCommand implements Callable<Integer> {

    @Option(names = "--profile-file", paramLabel = "FILE", description = "Also list the profiles of this file.")
    Path profileFile;

    @Option(names = "--json", description = "Print one JSON object on stdout instead of text.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        List<Profile> profiles = new ArrayList<>(Profile.BUILT_IN);
        profiles.addAll(load(spec, profileFile));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            List<Object> sw = new ArrayList<>();
            for (Profile.Switch s : Profile.Switch.values()) {
                sw.add(switchJson(s));
            }
            m.put("switches", sw);
            List<Object> ps = new ArrayList<>();
            for (Profile p : profiles) {
                ps.add(profileJson(p));
            }
            m.put("profiles", ps);
            List<Object> host = new ArrayList<>();
            for (ModelConfig.Setting s : ModelConfig.DEFAULT.settings()) {
                host.add(s);
            }
            m.put("hostConfig", host);
            out.println(Json.write(m));
        } else {
            out.println("Profiles (switches on top of upstream; * = not yet modelled: accepted, changes nothing yet)");
            for (Profile p : profiles) {
                List<String> names = new ArrayList<>();
                for (Profile.Switch s : p.switches()) {
                    names.add(s.id() + (s.modelled() ? "" : "*"));
                }
                out.printf("  %-26s %s%n", p.name(), names.isEmpty() ? "(no switch: current mainline)"
                        : String.join(", ", names) + (p.base() == null || p.base().equals("upstream") ? ""
                        : "   (base " + p.base() + ")"));
            }
            out.println();
            out.println("Switches");
            for (Profile.Switch s : Profile.Switch.values()) {
                out.printf("  %s [%s]%n      behaviour: %s%n      source:    %s%n      model:     %s%n", s.id(),
                        s.statusWord(), s.behaviour(), s.source(), s.status());
            }
            out.println();
            out.println("Host configuration (model input, defaults = the recording host of the shared traces)");
            for (ModelConfig.Setting s : ModelConfig.DEFAULT.settings()) {
                out.printf("  %-20s %-6s %-6s %s%s%n", s.name(), s.value(), s.source(),
                        s.modelled() ? "" : "[not yet modelled] ", s.note());
            }
        }
        out.flush();
        return MmuReplayCli.EXIT_OK;
    }

    static Map<String, Object> switchJson(Profile.Switch s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("modelled", s.modelled());
        m.put("status", s.statusWord());
        m.put("behaviour", s.behaviour());
        m.put("source", s.source());
        m.put("model", s.status());
        return m;
    }

    static Map<String, Object> profileJson(Profile p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", p.name());
        m.put("base", p.base());
        List<Object> sw = new ArrayList<>();
        for (Profile.Switch s : p.switches()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("id", s.id());
            x.put("modelled", s.modelled());
            sw.add(x);
        }
        m.put("switches", sw);
        List<String> nm = new ArrayList<>();
        for (Profile.Switch s : p.notModelled()) {
            nm.add(s.id());
        }
        m.put("notModelled", nm);
        return m;
    }

    /** The profiles of a profile file (none for null); a bad file is a usage error with file:line. */
    static List<Profile> load(CommandLine.Model.CommandSpec spec, Path file) {
        if (file == null) {
            return List.of();
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--profile-file: cannot read " + file
                    + " (" + e.getMessage() + ")");
        }
        try {
            return ProfileFile.parse(file.toString(), lines);
        } catch (ProfileFile.ProfileFileException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
