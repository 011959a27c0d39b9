package dev.mmureplay.model.mmu;

/**
 * Page-fault error code bits (arch/x86/include/asm/kvm_host.h PFERR_*), and the flag rendering the tracepoints use.
 */
public final class PageFaultErrorCode {

    private PageFaultErrorCode() {
    }

    public static final long PRESENT = 1L;
    public static final long WRITE = 1L << 1;
    public static final long USER = 1L << 2;
    public static final long RSVD = 1L << 3;
    public static final long FETCH = 1L << 4;
    public static final long PK = 1L << 5;
    public static final long SS = 1L << 6;
    public static final long SGX = 1L << 15;
    public static final long GUEST_RMP = 1L << 31;
    public static final long GUEST_FINAL = 1L << 32;
    public static final long GUEST_PAGE = 1L << 33;
    public static final long GUEST_ENC = 1L << 34;
    public static final long GUEST_SIZEM = 1L << 35;
    public static final long GUEST_VMPL = 1L << 36;
    /** KVM-defined: an implicit supervisor access (descriptor-table load etc.). */
    public static final long IMPLICIT_ACCESS = 1L << 48;
    /** KVM-defined: access to private memory. */
    public static final long PRIVATE_ACCESS = 1L << 49;
    public static final long SYNTHETIC_MASK = IMPLICIT_ACCESS | PRIVATE_ACCESS;

    /** The #PF vector. */
    public static final int PF_VECTOR = 14;

    /** Flag names as mmutrace.h prints them: {@code P|W|U|RSVD|F} (+ PK, SS, SGX), empty for none. */
    public static String format(long pferr) {
        StringBuilder sb = new StringBuilder();
        append(sb, pferr, PRESENT, "P");
        append(sb, pferr, WRITE, "W");
        append(sb, pferr, USER, "U");
        append(sb, pferr, RSVD, "RSVD");
        append(sb, pferr, FETCH, "F");
        append(sb, pferr, PK, "PK");
        append(sb, pferr, SS, "SS");
        append(sb, pferr, SGX, "SGX");
        return sb.toString();
    }

    private static void append(StringBuilder sb, long v, long bit, String name) {
        if ((v & bit) != 0) {
            if (sb.length() > 0) {
                sb.append('|');
            }
            sb.append(name);
        }
    }
}
