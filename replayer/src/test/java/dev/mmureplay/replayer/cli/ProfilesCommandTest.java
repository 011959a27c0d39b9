package dev.mmureplay.replayer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code mmu-replay profiles}: every profile with its switches and each switch's modelled status. */
class ProfilesCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static String[] run(String... args) {
        List<String> all = new ArrayList<>(List.of("profiles"));
        all.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = MmuReplayCli.run(all.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        return new String[] {Integer.toString(exit), out.toString(), err.toString()};
    }

    @Test
    void jsonListsTheSixBuiltInProfilesAllModelled() throws IOException {
        String[] r = run("--json");
        assertEquals("0", r[0], r[2]);
        JsonNode j = JSON.readTree(r[1]);
        List<String> names = new ArrayList<>();
        j.get("profiles").forEach(p -> names.add(p.get("name").asText()));
        assertEquals(List.of("upstream", "mmio-gen-bit11", "tdp-zap-sp-may-yield", "pae-root-default-pdpte",
                "no-reset-on-pae-toggle", "pre-6.10-fault-path"), names);
        for (JsonNode s : j.get("switches")) {
            // all five seed switches are modelled (pre-6.10-fault-path since FaultEntry runs on the TDP fault path)
            assertTrue(s.get("modelled").asBoolean(), s.toString());
            assertEquals("modelled", s.get("status").asText());
            assertFalse(s.get("behaviour").asText().isBlank());
            assertFalse(s.get("source").asText().isBlank());
        }
        assertEquals(0, j.get("profiles").get(2).get("notModelled").size());
        assertEquals(0, j.get("profiles").get(3).get("notModelled").size());
        assertEquals(0, j.get("profiles").get(5).get("notModelled").size());
        assertTrue(j.get("hostConfig").size() >= 8);
    }

    @Test
    void textMarksEverySeedSwitchModelled() {
        String[] r = run();
        assertEquals("0", r[0], r[2]);
        assertFalse(r[1].contains("pre-6.10-fault-path*"), r[1]);
        assertTrue(r[1].contains("pre-6.10-fault-path [modelled]"), r[1]);
        assertTrue(r[1].contains("tdp-zap-sp-may-yield [modelled]"), r[1]);
        assertTrue(r[1].contains("mmio-gen-bit11 [modelled]"), r[1]);
        assertTrue(r[1].contains("no-reset-on-pae-toggle [modelled]"), r[1]);
        assertTrue(r[1].contains("pae-root-default-pdpte [modelled]"), r[1]);
    }

    @Test
    void profileFileProfilesAreListedAndBadFilesReportFileAndLine() throws IOException {
        Path f = tmp.resolve("p.profiles");
        Files.writeString(f, "name=both\nswitch.no-reset-on-pae-toggle=true\nswitch.tdp-zap-sp-may-yield=true\n");
        String[] r = run("--profile-file", f.toString(), "--json");
        assertEquals("0", r[0], r[2]);
        JsonNode last = JSON.readTree(r[1]).get("profiles").get(6);
        assertEquals("both", last.get("name").asText());
        assertEquals(2, last.get("switches").size());
        assertEquals(0, last.get("notModelled").size(), "both switches are modelled");

        Files.writeString(f, "name=x\nswitch.mmio-gen-bit11=maybe\n");
        String[] bad = run("--profile-file", f.toString());
        assertEquals("2", bad[0]);
        assertTrue(bad[2].contains(f + ":2: switch value must be true or false, got 'maybe'"), bad[2]);
    }
}
