package dev.mmureplay.model;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host header line: {@code # mmu-replay host: key=value ...}. */
class HostHeaderTest {

    @Test
    void aHostLineGivesItsSettingsInLineOrder() {
        Map<String, String> m = HostHeader.parse("# mmu-replay host: tdp=true tdpEncoding=ept\tnxHugePages=true ");
        assertEquals(java.util.List.of("tdp", "tdpEncoding", "nxHugePages"), java.util.List.copyOf(m.keySet()));
        assertEquals("ept", m.get("tdpEncoding"));
    }

    @Test
    void otherCommentLinesAreNotHostLines() {
        assertFalse(HostHeader.isHostLine("# tracer: nop"));
        assertFalse(HostHeader.isHostLine("#mmu-replay host: tdp=true"));
        assertTrue(HostHeader.isHostLine("# mmu-replay host: tdp=true"));
    }

    @Test
    void anUnknownKeyIsRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HostHeader.parse("# mmu-replay host: mmio=true"));
        assertTrue(e.getMessage().contains("'mmio'"), e.getMessage());
    }

    @Test
    void aBadValueIsRejectedWithTheSetting() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HostHeader.parse("# mmu-replay host: nxHugePages=maybe"));
        assertTrue(e.getMessage().contains("nxHugePages: 'maybe'"), e.getMessage());
    }

    @Test
    void aPairWithoutEqualsIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> HostHeader.parse("# mmu-replay host: tdp"));
        assertThrows(IllegalArgumentException.class, () -> HostHeader.parse("# mmu-replay host: tdp = true"));
    }

    @Test
    void aKeyTwiceWithDifferentValuesIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HostHeader.parse("# mmu-replay host: tdp=true tdp=false"));
        assertTrue(e.getMessage().contains("tdp given twice"), e.getMessage());
    }

    @Test
    void formatWritesWhatParseReads() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("tdp", "true");
        m.put("mmioCaching", "true");
        String line = HostHeader.format(m);
        assertEquals("# mmu-replay host: tdp=true mmioCaching=true", line);
        assertEquals(m, HostHeader.parse(line));
    }
}
