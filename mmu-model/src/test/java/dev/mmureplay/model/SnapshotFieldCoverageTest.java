package dev.mmureplay.model;

import dev.mmureplay.model.mmu.GuestMemory;
import dev.mmureplay.model.mmu.GuestWalker;
import dev.mmureplay.model.mmu.LongIntMap;
import dev.mmureplay.model.mmu.PageFault;
import dev.mmureplay.model.mmu.ShadowMmu;
import dev.mmureplay.model.mmu.ShadowPage;
import dev.mmureplay.model.mmu.VcpuMmu;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TEST-ONLY guard for the hand-written snapshot (reads field <em>names</em>, never values): every instance field of
 * every class that holds model state is either written by its {@code writeTo} or listed here as derived / scratch /
 * not state, with the reason in that class's {@code writeTo} javadoc. A new field fails this test until its author
 * decides (and, if written, extends the format as {@link ModelSnapshot} describes).
 */
class SnapshotFieldCoverageTest {

    private static void check(Class<?> c, String written, String notWritten) {
        Set<String> declared = new TreeSet<>();
        for (Field f : c.getDeclaredFields()) {
            if (!Modifier.isStatic(f.getModifiers()) && !f.isSynthetic()) {
                declared.add(f.getName());
            }
        }
        Set<String> w = names(written);
        Set<String> n = names(notWritten);
        Set<String> both = new HashSet<>(w);
        both.retainAll(n);
        assertTrue(both.isEmpty(), c.getSimpleName() + ": listed twice " + both);
        Set<String> listed = new TreeSet<>(w);
        listed.addAll(n);
        assertEquals(listed, declared, c.getSimpleName() + ": a field is neither written nor classified as not state");
    }

    private static Set<String> names(String s) {
        return s.isBlank() ? Set.of() : new HashSet<>(Arrays.asList(s.trim().split("\\s+")));
    }

    @Test
    void everyStateFieldIsWrittenOrClassified() throws ClassNotFoundException {
        check(MmuStateMachine.class,
                "profile config events mmioGen learnedPaeIndex pendingInj pfnReadOnly ring qHead qSize mmu tdp",
                "masks genBit11 paeRootPage sink stepPredicted stepMissed stepNote learnNextGetPage tdpSink stepDerived");
        check(dev.mmureplay.model.mmu.TdpMmu.class,
                "pages nextId root rootLevel possibleNx validGen flushPending staleGfn staleLevel hostLevel zappedNx"
                        + " memory",
                "masks ept nxHugePages");
        check(dev.mmureplay.model.mmu.TdpMmu.Page.class,
                "id level gfn root invalid nxDisallowed parent parentIndex spte child", "");
        check(dev.mmureplay.model.mmu.PrivateMemory.class,
                "vmType privateRanges slots slotsDeclared exitVcpu exitKind exitInfo1", "");
        check(Expected.class, "kind flags vcpu a b c d e spId index note", "");
        check(ShadowMmu.class,
                "mmuValidGen pages nextId hashHead activeHead activeTail usedPages zappedPages writeTrack lpageDisallow"
                        + " guestMemory vcpus",
                "masks nxHugePages guestMaxPhyAddr guestGbPages guestAmd regionIndex regionSps regionSpCount"
                        + " regionCount wrprotOut current walkSp walkDepth walkCount freeQueue freeCount pageArrays");
        check(ShadowPage.class,
                "id gfn role mmuValidGen rootCount unsync unsyncChildBitmap spt translations parents parentCount"
                        + " hashNext activePrev activeNext onActiveList freed writeFloodingCount regions regionCount",
                "unsyncChildren presentCount");
        check(VcpuMmu.class,
                "id pg wp pae pse lma la57 nx smep smap pke pcide eflagsAc pkru cr0 cr4 cr3Gfn knownBits modeKnown"
                        + " rootNxLearned rootNxFollowsGuest rootSp rootPgd paeRoot paeRootActive prevRootSp"
                        + " prevRootPgd reqFreeObsoleteRoots reqReload reqSync walker fault",
                "rootRole mode perm");
        check(GuestWalker.class,
                "mode addr access active done pdpteExpected level maxLevel currentTable ptAccess pteAccess ptes"
                        + " tableGfn pteGpa ptAccessAcc errorCode failed walkerLevel finalAccess gfn pkey tableKnown"
                        + " adGpa adDirty adCount",
                "smep");
        check(PageFault.class,
                "stage addr errorCode write user exec present indirect gfn maxLevel goalLevel goalExact pteAccess"
                        + " directAccess cursorSp cursorLevel pfn prefetchPtes prefetchKnown prefetchRead",
                "");
        check(GuestMemory.class, "index pages pageGfns count", "cacheGfn cachePage");
        check(Class.forName(GuestMemory.class.getName() + "$Page"), "values known shift", "");
        check(LongIntMap.class, "keys values size", "mask missing");
        check(Profile.class, "name base switches", "");
        check(ModelConfig.class,
                "hostMaxPhyAddr guestMaxPhyAddr guestGbPages guestAmd mmioCaching nxHugePages defaultCr0Wp"
                        + " defaultEferNx defaultSmep defaultSmap defaultPke detailedSteps tdp tdpEncoding"
                        + " nxRecoveryRatio nxRecoveryPeriodMs kernel",
                "");
    }
}
