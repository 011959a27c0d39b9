package dev.mmureplay.model;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The user profile file: name= / base= / switch.ID=true|false, errors as file:line. */
class ProfileFileTest {

    private static List<Profile> parse(String text) {
        return ProfileFile.parse("my.profiles", List.of(text.split("\n", -1)));
    }

    private static String error(String text) {
        return assertThrows(ProfileFile.ProfileFileException.class, () -> parse(text)).getMessage();
    }

    @Test
    void composesSwitchesOnABaseProfile() {
        List<Profile> ps = parse("""
                # two behaviours at once
                name=pae-and-mmio
                base=upstream
                switch.no-reset-on-pae-toggle=true
                switch.mmio-gen-bit11 = true   # spaces and comments are fine

                name=pae-only
                base=pae-and-mmio
                switch.mmio-gen-bit11=false
                """);
        assertEquals(2, ps.size());
        assertEquals("pae-and-mmio", ps.get(0).name());
        assertEquals(Set.of(Profile.Switch.NO_RESET_ON_PAE_TOGGLE, Profile.Switch.MMIO_GEN_BIT11),
                ps.get(0).switches());
        assertEquals("pae-only", ps.get(1).name());
        assertEquals("pae-and-mmio", ps.get(1).base());
        assertEquals(Set.of(Profile.Switch.NO_RESET_ON_PAE_TOGGLE), ps.get(1).switches());
    }

    @Test
    void baseDefaultsToUpstreamAndMayBeABuiltInSeedProfile() {
        List<Profile> ps = parse("name=a\nname=b\nbase=tdp-zap-sp-may-yield\n");
        assertEquals(Set.of(), ps.get(0).switches());
        assertEquals("upstream", ps.get(0).base());
        assertEquals(Set.of(Profile.Switch.TDP_ZAP_SP_MAY_YIELD), ps.get(1).switches());
    }

    @Test
    void errorsNameTheFileAndLine() {
        assertEquals("my.profiles:2: unknown switch 'mmio-gen-bit12' (known: mmio-gen-bit11, tdp-zap-sp-may-yield,"
                + " pae-root-default-pdpte, no-reset-on-pae-toggle, pre-6.10-fault-path)",
                error("name=x\nswitch.mmio-gen-bit12=true"));
        assertEquals("my.profiles:2: switch value must be true or false, got 'yes'",
                error("name=x\nswitch.mmio-gen-bit11=yes"));
        assertEquals("my.profiles:1: 'switch.mmio-gen-bit11' before the first name=",
                error("switch.mmio-gen-bit11=true"));
        assertEquals("my.profiles:3: profile 'x' is already defined", error("name=x\n\nname=x"));
        assertEquals("my.profiles:1: profile 'upstream' is already defined", error("name=upstream"));
        assertEquals("my.profiles:2: unknown base profile 'later'", error("name=x\nbase=later\nname=later"));
        assertEquals("my.profiles:2: unknown key 'swtich.a' (name, base, switch.<id>)", error("name=x\nswtich.a=1"));
        assertEquals("my.profiles:2: expected key=value, got 'oops'", error("name=x\noops"));
        assertEquals("my.profiles:3: base= must come before the switch. lines",
                error("name=x\nswitch.mmio-gen-bit11=true\nbase=upstream"));
        assertEquals("my.profiles:1: no profile defined (expected name=...)", error("# empty"));
        assertEquals("my.profiles:1: bad profile name 'a b' (letters, digits, '.', '_', '-')", error("name=a b"));
    }
}
