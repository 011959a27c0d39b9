package dev.mmureplay.model;

import dev.mmureplay.model.mmu.GuestMemory;
import dev.mmureplay.model.mmu.GuestPagingMode;
import dev.mmureplay.model.mmu.GuestWalker;
import dev.mmureplay.model.mmu.PermissionCheck;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * kvm-unit-tests x86/access.c enumerated in full against the model's walker + permission check: every legal
 * combination of PDE/PTE P, W, U, NX, a reserved bit (bit 51; bit 13 for a 2 MiB PDE), PDE.PSE, the access (user,
 * write, fetch — write and fetch exclusive), EFER.NX, CR0.WP, CR4.SMEP, CR4.SMAP with EFLAGS.AC, CR4.PKE with
 * PKRU.AD/WD on the leaf's key. The oracle below is written from access.c's ac_emulate_access() rules (ref §6),
 * independently of the kernel-shaped permission bitmaps the model uses.
 */
class AccessDecisionTableTest {

    private static final long P = 1, W = 2, U = 4, A = 0x20, D = 0x40, PS = 0x80, NX = 1L << 63;
    private static final long BIT51 = 1L << 51, BIT13 = 1L << 13;

    /** access.c's expected outcome: -1 for no fault, else the expected error code. D-bit expectation aside. */
    static long oracle(boolean pdeP, boolean pdeW, boolean pdeU, boolean pdeNx, boolean pdeRsvd, boolean pse,
                       boolean pteP, boolean pteW, boolean pteU, boolean pteNx, boolean pteRsvd,
                       boolean accUser, boolean accWrite, boolean accFetch,
                       boolean eferNx, boolean wp, boolean smep, boolean smap, boolean ac, boolean pke,
                       boolean pkuAd, boolean pkuWd) {
        long err = 1; // PFERR_PRESENT
        if (accUser) {
            err |= 4;
        }
        if (accWrite) {
            err |= 2;
        }
        if (accFetch) {
            err |= 0x10;
        }
        boolean fault = false;
        boolean pdeValid = pdeP && !pdeRsvd && !(pdeNx && !eferNx);
        boolean user = false;
        boolean writable = false;
        boolean executable = false;
        if (!pdeValid) {
            fault = true;
            if (pdeP) {
                err |= 8;
            } else {
                err &= ~1L;
            }
        } else {
            writable = pdeW;
            user = pdeU;
            executable = !pdeNx;
            if (!pse) {
                boolean pteValid = pteP && !pteRsvd && !(pteNx && !eferNx);
                if (!pteValid) {
                    fault = true;
                    if (pteP) {
                        err |= 8;
                    } else {
                        err &= ~1L;
                    }
                } else {
                    writable &= pteW;
                    user &= pteU;
                    executable &= !pteNx;
                }
            }
            if (!fault) {
                // ac_test_permissions(): every rule is checked, none short-circuits the others
                boolean kwritable = !wp && !accUser;
                if (accUser && !user) {
                    fault = true;
                }
                if (accWrite && !writable && !kwritable) {
                    fault = true;
                }
                if (accFetch && !executable) {
                    fault = true;
                }
                // SMEP: supervisor fetch from a user page (access.c never combines SMEP with user fetches)
                if (accFetch && user && smep && !accUser) {
                    fault = true;
                }
                // SMAP (not in access.c, SDM 4.6): supervisor data access to a user page unless EFLAGS.AC
                if (smap && user && !accFetch && !accUser && !ac) {
                    fault = true;
                }
                if (user && !accFetch && pke) {
                    if (pkuAd) {
                        fault = true;
                        err |= 0x20;
                    } else if (accWrite && pkuWd && !kwritable) {
                        fault = true;
                        err |= 0x20;
                    }
                }
            }
        }
        if (!fault) {
            return -1;
        }
        if (!eferNx && !smep) {
            err &= ~0x10L;
        }
        return err;
    }

    @Test
    void everyLegalCombinationMatchesAccessC() {
        GuestMemory mem = new GuestMemory();
        GuestWalker walker = new GuestWalker();
        long cases = 0;
        for (int cpu = 0; cpu < 64; cpu++) {
            boolean eferNx = (cpu & 1) != 0, wp = (cpu & 2) != 0, smep = (cpu & 4) != 0, smap = (cpu & 8) != 0,
                    ac = (cpu & 16) != 0, pke = (cpu & 32) != 0;
            GuestPagingMode mode = new GuestPagingMode(4, eferNx, true, 48, true, true);
            PermissionCheck perm = PermissionCheck.of(wp, eferNx, smep, smap, pke);
            walker.setSmep(smep);
            for (int pde = 0; pde < 64; pde++) {
                boolean pdeP = (pde & 1) != 0, pdeW = (pde & 2) != 0, pdeU = (pde & 4) != 0,
                        pdeNx = (pde & 8) != 0, pdeRsvd = (pde & 16) != 0, pse = (pde & 32) != 0;
                for (int pte = 0; pte < (pse ? 1 : 32); pte++) {
                    boolean pteP = (pte & 1) != 0, pteW = (pte & 2) != 0, pteU = (pte & 4) != 0,
                            pteNx = (pte & 8) != 0, pteRsvd = (pte & 16) != 0;
                    for (int acc = 0; acc < 8; acc++) {
                        boolean accUser = (acc & 1) != 0, accWrite = (acc & 2) != 0, accFetch = (acc & 4) != 0;
                        if (accWrite && accFetch) {
                            continue;
                        }
                        for (int pku = 0; pku < (pke ? 4 : 1); pku++) {
                            boolean pkuAd = (pku & 1) != 0, pkuWd = (pku & 2) != 0;
                            long exp = oracle(pdeP, pdeW, pdeU, pdeNx, pdeRsvd, pse, pteP, pteW, pteU, pteNx,
                                    pteRsvd, accUser, accWrite, accFetch, eferNx, wp, smep, smap, ac, pke, pkuAd,
                                    pkuWd);
                            long pkey = 1L << 59;   // the leaf uses protection key 1
                            int pkru = (pkuAd ? 1 << 2 : 0) | (pkuWd ? 1 << 3 : 0);
                            long pdeVal = (pse ? 0x200000L | PS | pkey : 0x5000L) | A
                                    | (pdeP ? P : 0) | (pdeW ? W : 0) | (pdeU ? U : 0) | (pdeNx ? NX : 0)
                                    | (pdeRsvd ? (pse ? BIT13 : BIT51) : 0);
                            long pteVal = 0x9000L | A | pkey | (pteP ? P : 0) | (pteW ? W : 0) | (pteU ? U : 0)
                                    | (pteNx ? NX : 0) | (pteRsvd ? BIT51 : 0);
                            long access = (accUser ? 4 : 0) | (accWrite ? 2 : 0) | (accFetch ? 0x10 : 0);
                            walker.begin(mode, 0x123000, access, 1);
                            int r = walker.feed(0x2000 | P | W | U | A, 4, perm, ac, pkru, mem);
                            r = r == GuestWalker.CONTINUE ? walker.feed(0x3000 | P | W | U | A, 3, perm, ac, pkru, mem) : r;
                            r = r == GuestWalker.CONTINUE ? walker.feed(pdeVal, 2, perm, ac, pkru, mem) : r;
                            r = r == GuestWalker.CONTINUE ? walker.feed(pteVal, 1, perm, ac, pkru, mem) : r;
                            assertEquals(GuestWalker.DONE, r);
                            long got = walker.failed() ? walker.errorCode() : -1;
                            if (got != exp) {
                                fail(String.format("pde %x pte %x access %x cpu nx=%b wp=%b smep=%b smap=%b ac=%b"
                                                + " pke=%b pku ad=%b wd=%b: access.c %x, model %x", pdeVal, pteVal,
                                        access, eferNx, wp, smep, smap, ac, pke, pkuAd, pkuWd, exp, got));
                            }
                            if (exp == -1) {
                                // no fault: D is set on the leaf for a write whose leaf was clean
                                boolean dirtySet = false;
                                for (int i = 0; i < walker.adCount(); i++) {
                                    dirtySet |= walker.adIsDirty(i);
                                }
                                assertEquals(accWrite, dirtySet, "D on write");
                            }
                            cases++;
                        }
                    }
                }
            }
        }
        System.out.println("access.c combinations checked: " + cases);
    }
}
