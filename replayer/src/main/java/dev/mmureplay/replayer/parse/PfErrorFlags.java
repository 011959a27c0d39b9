package dev.mmureplay.replayer.parse;

import dev.mmureplay.avro.PfErrorCode;

/**
 * Page-fault error codes: the PFERR_* bits (arch/x86/include/asm/kvm_host.h) and the flag-name text that
 * {@code __print_flags(pferr, "|", kvm_mmu_trace_pferr_flags)} prints in arch/x86/kvm/mmu/mmutrace.h:
 *
 * <pre>
 *   { PFERR_PRESENT_MASK, "P" }, { PFERR_WRITE_MASK, "W" }, { PFERR_USER_MASK, "U" },
 *   { PFERR_PK_MASK, "PK" }, { PFERR_SS_MASK, "SS" }, { PFERR_SGX_MASK, "SGX" },   (the last three since ~6.18)
 *   { PFERR_RSVD_MASK, "RSVD" }, { PFERR_FETCH_MASK, "F" }
 * </pre>
 *
 * __print_flags (kernel trace_print_flags_seq, libtraceevent alike) prints the names of the set bits joined by
 * '|', then any bits without a name as one {@code 0x%lx} part, and nothing at all for 0.
 */
final class PfErrorFlags {

    private PfErrorFlags() {
    }

    static final long P = 1L;
    static final long W = 1L << 1;
    static final long U = 1L << 2;
    static final long RSVD = 1L << 3;
    static final long F = 1L << 4;
    static final long PK = 1L << 5;
    static final long SS = 1L << 6;
    static final long SGX = 1L << 15;

    /**
     * Reads the flag-name text up to the next space (or the end) and returns the bits it names: named bits OR the
     * leftover {@code 0x..} parts. An empty text is 0. Unknown names are an error.
     */
    static long read(Cursor c, String field) throws TraceParseException {
        long bits = 0;
        int i = c.pos;
        int end = c.end;
        byte[] b = c.b;
        if (i >= end || b[i] == ' ') {
            return 0;
        }
        while (true) {
            int s = i;
            while (i < end && b[i] != '|' && b[i] != ' ') {
                i++;
            }
            bits |= part(c, b, s, i, field);
            if (i < end && b[i] == '|') {
                i++;
                continue;
            }
            break;
        }
        c.pos = i;
        return bits;
    }

    private static long part(Cursor c, byte[] b, int s, int e, String field) throws TraceParseException {
        int n = e - s;
        if (n == 0) {
            throw c.fail("empty " + field + " flag name in '" + c.snippet(c.pos) + "'");
        }
        byte c0 = b[s];
        if (n == 1) {
            switch (c0) {
                case 'P': return P;
                case 'W': return W;
                case 'U': return U;
                case 'F': return F;
                default: break;
            }
        } else if (n == 2) {
            if (c0 == 'P' && b[s + 1] == 'K') {
                return PK;
            }
            if (c0 == 'S' && b[s + 1] == 'S') {
                return SS;
            }
        } else if (n == 3 && c0 == 'S' && b[s + 1] == 'G' && b[s + 2] == 'X') {
            return SGX;
        } else if (n == 4 && c0 == 'R' && b[s + 1] == 'S' && b[s + 2] == 'V' && b[s + 3] == 'D') {
            return RSVD;
        }
        if (n >= 3 && n <= 18 && c0 == '0' && b[s + 1] == 'x') {
            long v = 0;
            for (int i = s + 2; i < e; i++) {
                int d = Cursor.hexDigit(b[i]);
                if (d < 0) {
                    throw c.fail("bad hex in " + field + " flag part '" + c.token(s, e) + "'");
                }
                v = (v << 4) | d;
            }
            return v;
        }
        throw c.fail("unknown " + field + " flag name '" + c.token(s, e) + "'");
    }

    /** Reads the flag names and checks that they say the same as the numeric value printed before them. */
    static void readAndCheck(Cursor c, String field, long value) throws TraceParseException {
        int start = c.pos;
        long bits = read(c, field);
        if (bits != value) {
            throw c.fail(field + " flags '" + c.token(start, c.pos) + "' (0x" + Long.toHexString(bits)
                    + ") disagree with the value 0x" + Long.toHexString(value));
        }
    }

    /** The decoded record: the raw value and one boolean per named PFERR bit. */
    static PfErrorCode decode(long v) {
        return new PfErrorCode(v,
                (v & P) != 0, (v & W) != 0, (v & U) != 0, (v & RSVD) != 0, (v & F) != 0,
                (v & PK) != 0, (v & SS) != 0, (v & SGX) != 0,
                (v & (1L << 31)) != 0,  // PFERR_GUEST_RMP
                (v & (1L << 32)) != 0,  // PFERR_GUEST_FINAL
                (v & (1L << 33)) != 0,  // PFERR_GUEST_PAGE
                (v & (1L << 34)) != 0,  // PFERR_GUEST_ENC
                (v & (1L << 35)) != 0,  // PFERR_GUEST_SIZEM
                (v & (1L << 36)) != 0,  // PFERR_GUEST_VMPL
                (v & (1L << 48)) != 0,  // PFERR_IMPLICIT_ACCESS
                (v & (1L << 49)) != 0); // PFERR_PRIVATE_ACCESS
    }
}
