package dev.mmureplay.replayer.cli;

import dev.mmureplay.replayer.testutil.CliRun;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmureplay.replayer.synth.Synth;
import dev.mmureplay.replayer.testutil.Traces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host configuration of diff and conformance from the traces: the {@code # mmu-replay host:} header line the
 * synth scenarios write, inference from the first events, {@code --host} over both, sources in text and JSON.
 */
class HostResolutionTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static Map<String, JsonNode> host(CliRun r) throws IOException {
        Map<String, JsonNode> m = new HashMap<>();
        r.json().get("hostConfig").forEach(x -> m.put(x.get("name").asText(), x));
        return m;
    }

    private CliRun run(String command, String... args) {
        List<String> all = new ArrayList<>(List.of(command, "--dead-letters", tmp.resolve("dead.jsonl").toString()));
        all.addAll(List.of(args));
        return CliRun.of(all);
    }

    /** synth SCENARIO (default events, seed 1) as text. */
    private static String synth(String scenario) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Synth.generate(scenario, 0, 1, b);
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    private Path write(String name, String text) throws IOException {
        Path p = tmp.resolve(name);
        Files.writeString(p, text, StandardCharsets.ISO_8859_1);
        return p;
    }

    private static String withoutHostHeader(String trace) {
        return trace.replaceFirst("# mmu-replay host:[^\n]*\n", "");
    }

    @Test
    void diffOnSynthNxRecoveryWithoutHostFlagsDivergesAsWithThem() throws IOException {
        Path t = write("nx.trace", synth("nx-recovery"));
        CliRun r = run("diff", t.toString(), "--profiles", "upstream,tdp-zap-sp-may-yield", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode d = r.json().get("divergences").get(0);
        assertEquals(798, d.get("seq").asLong());
        assertEquals("stale_tlb_window gfn=57000 level=1 staleGfn=4c400 staleLevel=2 progress=false",
                d.get("rightEffect").asText());
        CliRun flags = run("diff", t.toString(), "--profiles", "upstream,tdp-zap-sp-may-yield", "--json", "--host",
                "tdp=true", "--host", "nxHugePages=true");
        assertEquals(r.json().get("divergences"), flags.json().get("divergences"));
        assertEquals(r.json().get("traces"), flags.json().get("traces"), "same digests");
    }

    @Test
    void headerSettingsAreReportedWithSourceHeader() throws IOException {
        Path t = write("nx.trace", synth("nx-recovery"));
        CliRun r = run("diff", t.toString(), "--profiles", "upstream,upstream", "--json");
        Map<String, JsonNode> h = host(r);
        assertEquals("header", h.get("tdp").get("source").asText());
        assertEquals("true", h.get("tdp").get("value").asText());
        assertEquals("header", h.get("tdpEncoding").get("source").asText());
        assertEquals("header", h.get("nxHugePages").get("source").asText());
        assertEquals("default", h.get("mmioCaching").get("source").asText());
        assertFalse(h.get("tdp").has("evidence"));
    }

    @Test
    void withoutTheHeaderTheTdpHostIsInferredWithEvidence() throws IOException {
        Path t = write("nx.trace", withoutHostHeader(synth("nx-recovery")));
        CliRun r = run("diff", t.toString(), "--profiles", "upstream,tdp-zap-sp-may-yield", "--json");
        assertEquals(0, r.exit(), r.err());
        assertEquals(798, r.json().get("divergences").get(0).get("seq").asLong());
        Map<String, JsonNode> h = host(r);
        for (String k : List.of("tdp", "tdpEncoding", "nxHugePages")) {
            assertEquals("inferred", h.get(k).get("source").asText(), k);
            assertEquals(t.toString(), h.get(k).get("evidence").get("input").asText());
        }
        assertEquals("NPT", h.get("tdpEncoding").get("value").asText());
        assertEquals(1, h.get("tdp").get("evidence").get("seq").asLong(), "the direct level-4 root");
        assertTrue(h.get("tdpEncoding").get("evidence").get("reason").asText().contains("bit 5"));
        assertEquals("default", h.get("mmioCaching").get("source").asText());
    }

    @Test
    void textOutputListsTheSourcesAndOneLinePerInferredSetting() throws IOException {
        Path t = write("nx.trace", withoutHostHeader(synth("nx-recovery")));
        CliRun r = run("diff", t.toString(), "--profiles", "upstream,upstream");
        assertEquals(0, r.exit(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals("host: tdp=true (inferred), tdpEncoding=NPT (inferred), nxHugePages=true (inferred); other"
                + " settings default", lines[1]);
        assertTrue(lines[2].startsWith("  inferred tdp=true from seq 1 of " + t + ": kvm_mmu_get_page of a direct"
                + " level-4 page"), lines[2]);
        assertTrue(lines[3].startsWith("  inferred tdpEncoding=NPT from seq "), lines[3]);
        assertTrue(lines[4].startsWith("  inferred nxHugePages=true from seq "), lines[4]);
        assertTrue(lines[4].contains("800000021c200ee7"), lines[4]);
    }

    @Test
    void givenBeatsTheHeader() throws IOException {
        Path t = write("nx.trace", synth("nx-recovery"));
        CliRun r = run("diff", t.toString(), "--profiles", "upstream,tdp-zap-sp-may-yield", "--json", "--host",
                "nxHugePages=false");
        assertEquals(0, r.exit(), r.err());
        assertEquals("given", host(r).get("nxHugePages").get("source").asText());
        assertEquals("false", host(r).get("nxHugePages").get("value").asText());
        assertEquals("header", host(r).get("tdp").get("source").asText());
    }

    @Test
    void theHeaderBeatsInference() throws IOException {
        Path t = write("nx.trace", synth("nx-recovery").replace("# mmu-replay host: tdp=true tdpEncoding=NPT"
                + " nxHugePages=true", "# mmu-replay host: nxHugePages=false"));
        CliRun r = run("diff", t.toString(), "--profiles", "upstream,upstream", "--json");
        assertEquals(0, r.exit(), r.err());
        assertEquals("header", host(r).get("nxHugePages").get("source").asText());
        assertEquals("false", host(r).get("nxHugePages").get("value").asText());
        assertEquals("inferred", host(r).get("tdp").get("source").asText());
        assertTrue(r.err().contains("host nxHugePages is header but the trace shows nxHugePages=true"), r.err());
    }

    @Test
    void conflictingHeadersAreAUsageErrorNamingBothFiles() throws IOException {
        Path a = write("a.trace", synth("nx-recovery"));
        Path b = write("b.trace", synth("nx-recovery").replace("nxHugePages=true", "nxHugePages=false"));
        CliRun r = run("diff", a.toString(), b.toString(), "--profiles", "upstream,upstream");
        assertEquals(MmuReplayCli.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("conflicting host headers: nxHugePages=true in " + a + ", nxHugePages=false in "
                + b), r.err());
        CliRun c = run("conformance", a.toString(), b.toString());
        assertEquals(MmuReplayCli.EXIT_USAGE, c.exit());
        assertTrue(c.err().contains("conflicting host headers"), c.err());
    }

    @Test
    void headersThatAgreeOrAreAbsentAreNoConflict() throws IOException {
        Path a = write("a.trace", synth("nx-recovery"));
        Path b = write("b.trace", synth("nx-recovery").replace("# mmu-replay host: tdp=true tdpEncoding=NPT"
                + " nxHugePages=true", "# mmu-replay host: tdp=true"));
        CliRun r = run("diff", a.toString(), b.toString(), Traces.path(Traces.NAMES.get(0)).toString(), "--profiles",
                "upstream,upstream", "--json");
        assertEquals(0, r.exit(), r.err());
        assertEquals("header", host(r).get("nxHugePages").get("source").asText());
    }

    @Test
    void aBadHeaderIsAUsageErrorNamingTheFileAndLine() throws IOException {
        Path t = write("bad.trace", synth("nx-recovery").replace("nxHugePages=true", "nxHugePages=maybe"));
        CliRun r = run("diff", t.toString(), "--profiles", "upstream,upstream");
        assertEquals(MmuReplayCli.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains(t + ":13: bad value for host setting nxHugePages: 'maybe'"), r.err());
    }

    @Test
    void aHostLineAfterTheFirstEventIsNotAHeader() throws IOException {
        String trace = withoutHostHeader(synth("mmio-gen"));
        int firstEvent = trace.indexOf("\n       CPU") + 1;
        Path t = write("late.trace", trace.substring(0, firstEvent) + trace.substring(firstEvent).replaceFirst("\n",
                "\n# mmu-replay host: tdp=true\n"));
        CliRun r = run("diff", t.toString(), "--profiles", "upstream,upstream", "--json");
        assertEquals(0, r.exit(), r.err());
        assertEquals("inferred", host(r).get("mmioCaching").get("source").asText(), "mark_mmio_spte seen");
        assertEquals("default", host(r).get("tdp").get("source").asText());
    }

    @Test
    void conformanceOnSynthMmioGenUsesItsHeaderHost() throws IOException {
        Path t = write("mmio.trace", synth("mmio-gen"));
        CliRun r = run("conformance", t.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        assertEquals(1.0, r.json().get("explainedRatio").asDouble(), 1e-9);
        assertEquals("header", host(r).get("mmioCaching").get("source").asText());
        CliRun text = run("conformance", t.toString());
        assertTrue(text.out().startsWith("host: tdp=false (header), mmioCaching=true (header); other settings"
                + " default\n"), text.out());
    }

    @Test
    void conformanceOnSynthMmioGenWrapExplainsTheWrapWithItsHeaderHost() throws IOException {
        Path t = write("wrap.trace", synth("mmio-gen-wrap"));
        CliRun r = run("conformance", t.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        assertEquals(1.0, r.json().get("explainedRatio").asDouble(), 1e-9);
        assertEquals(1, r.json().get("learned").asLong(), "the first root only");
        assertEquals(1, r.json().get("kinds").get("kvm_mmu_zap_all_fast").get("explained").asLong());
        assertEquals("header", host(r).get("mmioCaching").get("source").asText());
        CliRun same = run("diff", t.toString(), "--profiles", "upstream,upstream", "--json");
        assertEquals(0, same.exit(), same.err());
        assertEquals(0, same.json().get("divergenceCount").asLong(), same.out());
    }

    @Test
    void conformanceOnTheRealTracesReportsEveryHostSettingAsDefault() throws IOException {
        List<String> args = new ArrayList<>();
        for (String n : Traces.NAMES) {
            args.add(Traces.path(n).toString());
        }
        args.add("--json");
        CliRun r = run("conformance", args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        r.json().get("hostConfig").forEach(s -> assertEquals("default", s.get("source").asText(),
                s.get("name").asText()));
        CliRun text = run("conformance", Traces.path(Traces.NAMES.get(0)).toString());
        assertFalse(text.out().contains("host:"), text.out());
    }
}
