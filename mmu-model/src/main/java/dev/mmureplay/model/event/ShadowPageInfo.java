package dev.mmureplay.model.event;

/**
 * A shadow page as the kvmmmu tracepoints print it (mmutrace.h {@code KVM_MMU_PAGE_PRINTK}): {@code sp gen %u gfn
 * %llx l%u %u-byte q%u%s %s%s %snxe %sad root %u %s}.
 *
 * <p>Fields a trace format does not carry are {@link ModelEvent#UNKNOWN} (longs) or {@link ModelEvent#UNKNOWN_INT}
 * (ints): trace-cmd's kvm plugin prints neither the generation nor, for sync/unsync/prepare_zap, the gfn. The raw
 * tracefs format prints no CR0.WP, so {@code cr0Wp} is {@link ModelEvent#UNKNOWN_INT} there; trace-cmd prints
 * {@code wp}/{@code !wp} and then it is 1/0.
 *
 * @param gen       the MMU valid generation the page was created in (0/1), or UNKNOWN
 * @param gfn       the guest frame the page shadows (or the base gfn of a direct page), or UNKNOWN
 * @param level     role.level (1..5)
 * @param fourByte  role.has_4_byte_gpte
 * @param quadrant  role.quadrant
 * @param direct    role.direct
 * @param access    role.access (ACC_EXEC 1, ACC_WRITE 2, ACC_USER 4)
 * @param invalid   role.invalid
 * @param nxe       role.efer_nx
 * @param adDisabled role.ad_disabled
 * @param cr0Wp     role.cr0_wp when the format prints it (0/1), else UNKNOWN_INT
 * @param rootCount root_count at the time of the event
 * @param unsync    sp->unsync at the time of the event
 */
public record ShadowPageInfo(long gen, long gfn, int level, boolean fourByte, int quadrant, boolean direct,
                             int access, boolean invalid, boolean nxe, boolean adDisabled, int cr0Wp,
                             int rootCount, boolean unsync) {

    private static final String[] ACCESS_STR = {"---", "--x", "w--", "w-x", "-u-", "-ux", "wu-", "wux"};

    /** The access string of mmutrace.h, indexed by role.access. */
    public static String accessString(int access) {
        return ACCESS_STR[access & 7];
    }

    /** Renders the page like the raw tracefs format (unknown fields as {@code ?}). */
    @Override
    public String toString() {
        return "sp gen " + (gen == ModelEvent.UNKNOWN ? "?" : Long.toString(gen))
                + " gfn " + (gfn == ModelEvent.UNKNOWN ? "?" : Long.toHexString(gfn))
                + " l" + level + " " + (fourByte ? 4 : 8) + "-byte q" + quadrant + (direct ? " direct" : "")
                + " " + accessString(access) + (invalid ? " invalid" : "") + " " + (nxe ? "" : "!") + "nxe "
                + (adDisabled ? "!" : "") + "ad" + (cr0Wp == ModelEvent.UNKNOWN_INT ? "" : (cr0Wp == 1 ? " wp" : " !wp"))
                + " root " + rootCount + " " + (unsync ? "unsync" : "sync");
    }
}
