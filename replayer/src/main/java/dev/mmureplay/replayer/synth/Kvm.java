package dev.mmureplay.replayer.synth;

import static dev.mmureplay.replayer.synth.TraceWriter.FLAGS_NONE;
import static dev.mmureplay.replayer.synth.TraceWriter.FLAGS_PREEMPT1;
import static dev.mmureplay.replayer.synth.TraceWriter.hex;

/**
 * The kvm / kvmmmu tracepoint texts, exactly as their TP_printk formats print them (arch/x86/kvm/mmu/mmutrace.h,
 * arch/x86/kvm/trace.h, 6.x), written through a {@link TraceWriter} from one task (comm, pid, cpu) at a time.
 */
public final class Kvm {

    /** role.access index → text (mmutrace.h access_str). */
    private static final String[] ACCESS = {"---", "--x", "w--", "w-x", "-u-", "-ux", "wu-", "wux"};
    /** __print_flags names of kvm_mmu_trace_pferr_flags, bit order. */
    private static final String[] PFERR_NAMES = {"P", "W", "U", "RSVD", "F", "PK", "SS"};

    public static final int ACC_ALL = 7;

    private final TraceWriter w;
    private String task = TraceWriter.VCPU0;
    private int pid = 4242;
    private int cpu;

    public Kvm(TraceWriter w) {
        this.w = w;
    }

    public TraceWriter writer() {
        return w;
    }

    /** Switches the task that prints the following lines. */
    public Kvm as(String task, int pid, int cpu) {
        this.task = task;
        this.pid = pid;
        this.cpu = cpu;
        return this;
    }

    public Kvm cpu(int cpu) {
        this.cpu = cpu;
        return this;
    }

    private StringBuilder p() {
        return w.payload();
    }

    private void emit(String flags, String event) {
        w.emit(task, pid, cpu, flags, event);
    }

    // ------------------------------------------------------------------------------------------------- kvmmmu

    public static StringBuilder pferr(StringBuilder sb, long pferr) {
        hex(sb, pferr).append(' ');
        boolean first = true;
        long rest = pferr;
        for (int i = 0; i < PFERR_NAMES.length; i++) {
            if ((pferr & (1L << i)) != 0) {
                sb.append(first ? "" : "|").append(PFERR_NAMES[i]);
                first = false;
                rest &= ~(1L << i);
            }
        }
        if ((rest & (1L << 15)) != 0) {
            sb.append(first ? "" : "|").append("SGX");
            first = false;
            rest &= ~(1L << 15);
        }
        if (rest != 0) {
            sb.append(first ? "" : "|").append("0x");
            hex(sb, rest);
        }
        return sb;
    }

    public void walk(long addr, long pferr) {
        StringBuilder s = p().append("addr ");
        hex(s, addr).append(" pferr ");
        pferr(s, pferr);
        emit(FLAGS_NONE, "kvm_mmu_pagetable_walk");
    }

    public void element(long pte, int level) {
        StringBuilder s = p().append("pte ");
        hex(s, pte).append(" level ").append(level);
        emit(FLAGS_NONE, "kvm_mmu_paging_element");
    }

    public void accessed(long gpa) {
        hex(p().append("gpa "), gpa);
        emit(FLAGS_NONE, "kvm_mmu_set_accessed_bit");
    }

    public void dirty(long gpa) {
        hex(p().append("gpa "), gpa);
        emit(FLAGS_NONE, "kvm_mmu_set_dirty_bit");
    }

    public void walkerError(long pferr) {
        pferr(p().append("pferr "), pferr);
        emit(FLAGS_NONE, "kvm_mmu_walker_error");
    }

    /** A shadow page role as the kvm_mmu_page_printk macro prints it. */
    public static final class Role {
        public int gen;
        public long gfn;
        public int level;
        public boolean fourByte;
        public int quadrant;
        public boolean direct;
        public int access = ACC_ALL;
        public boolean invalid;
        public boolean nxe = true;
        public boolean adDisabled;
        public int rootCount;
        public boolean unsync;

        public Role set(int gen, long gfn, int level, boolean direct) {
            this.gen = gen;
            this.gfn = gfn;
            this.level = level;
            this.direct = direct;
            this.fourByte = false;
            this.quadrant = 0;
            this.access = ACC_ALL;
            this.invalid = false;
            this.rootCount = 0;
            this.unsync = false;
            return this;
        }

        StringBuilder text(StringBuilder s) {
            s.append("sp gen ").append(gen).append(" gfn ");
            hex(s, gfn).append(" l").append(level).append(' ').append(fourByte ? 4 : 8).append("-byte q")
                    .append(quadrant).append(direct ? " direct" : "").append(' ').append(ACCESS[access & 7])
                    .append(invalid ? " invalid" : "").append(' ').append(nxe ? "" : "!").append("nxe ")
                    .append(adDisabled ? "!" : "").append("ad root ").append(rootCount).append(' ')
                    .append(unsync ? "unsync" : "sync");
            return s;
        }
    }

    public void getPage(Role r, boolean created) {
        r.text(p()).append(created ? " new" : " existing");
        emit(FLAGS_PREEMPT1, "kvm_mmu_get_page");
    }

    public void prepareZap(Role r) {
        r.text(p());
        emit(FLAGS_PREEMPT1, "kvm_mmu_prepare_zap_page");
    }

    public void spteRequested(long gfn, long pfn, int level) {
        StringBuilder s = p().append("gfn ");
        hex(s, gfn).append(" pfn ");
        hex(s, pfn).append(" level ").append(level);
        emit(FLAGS_PREEMPT1, "kvm_mmu_spte_requested");
    }

    /** kvm_mmu_set_spte for the non-EPT masks (user bit 2 → a fourth letter). */
    public void setSpte(long gfn, long spte, int level, long sptep) {
        StringBuilder s = p().append("gfn ");
        hex(s, gfn).append(" spte ");
        hex(s, spte).append(" (").append((spte & 1) != 0 ? 'r' : '-').append((spte & 2) != 0 ? 'w' : '-')
                .append(spte < 0 ? '-' : 'x').append((spte & 4) != 0 ? 'u' : '-').append(") level ").append(level)
                .append(" at ");
        hex(s, sptep);
        emit(FLAGS_PREEMPT1, "kvm_mmu_set_spte");
    }

    public void zapAllFast(int gen, long usedPages) {
        StringBuilder s = p().append("kvm-mmu-valid-gen ").append(gen).append(" used_pages ");
        hex(s, usedPages);
        emit(FLAGS_PREEMPT1, "kvm_mmu_zap_all_fast");
    }

    /** mark_mmio_spte: {@code sptep:%p} prints a hashed pointer (16 hex digits). */
    public void markMmioSpte(long sptepHash, long gfn, int access, long gen) {
        StringBuilder s = p().append("sptep:");
        TraceWriter.hex16(s, sptepHash).append(" gfn ");
        hex(s, gfn).append(" access ");
        hex(s, access).append(" gen ");
        hex(s, gen);
        emit(FLAGS_PREEMPT1, "mark_mmio_spte");
    }

    public void handleMmioPageFault(long addr, long gfn, int access) {
        StringBuilder s = p().append("addr:");
        hex(s, addr).append(" gfn ");
        hex(s, gfn).append(" access ");
        hex(s, access);
        emit(FLAGS_NONE, "handle_mmio_page_fault");
    }

    public void checkMmioSpte(long spte, long kvmGen, long spteGen, boolean valid) {
        StringBuilder s = p().append("spte ");
        hex(s, spte).append(" kvm_gen ");
        hex(s, kvmGen).append(" spte-gen ");
        hex(s, spteGen).append(" valid ").append(valid ? 1 : 0);
        emit(FLAGS_NONE, "check_mmio_spte");
    }

    public void tdpSpteChanged(int asId, long gfn, int level, long oldSpte, long newSpte) {
        StringBuilder s = p().append("as id ").append(asId).append(" gfn ");
        hex(s, gfn).append(" level ").append(level).append(" old_spte ");
        hex(s, oldSpte).append(" new_spte ");
        hex(s, newSpte);
        emit(FLAGS_PREEMPT1, "kvm_tdp_mmu_spte_changed");
    }

    // ---------------------------------------------------------------------------------------------------- kvm

    /** kvm_page_fault, 6.10+ format: {@code vcpu %u rip 0x%lx address 0x%016llx error_code 0x%llx}. */
    public void pageFault(int vcpu, long rip, long addr, long errorCode) {
        StringBuilder s = p().append("vcpu ").append(vcpu).append(" rip 0x");
        hex(s, rip).append(" address 0x");
        TraceWriter.hex16(s, addr).append(" error_code 0x");
        hex(s, errorCode);
        emit(FLAGS_NONE, "kvm_page_fault");
    }

    /** kvm_cr: {@code cr_%s %x = 0x%lx}. */
    public void crWrite(int cr, long value) {
        StringBuilder s = p().append("cr_write ").append(cr).append(" = 0x");
        hex(s, value);
        emit(FLAGS_NONE, "kvm_cr");
    }

    /** kvm_mmio: {@code mmio %s len %u gpa 0x%llx val 0x%llx}; type unsatisfied-read / read / write. */
    public void mmio(String type, int len, long gpa, long val) {
        StringBuilder s = p().append("mmio ").append(type).append(" len ").append(len).append(" gpa 0x");
        hex(s, gpa).append(" val 0x");
        hex(s, val);
        emit(FLAGS_NONE, "kvm_mmio");
    }

    /** kvm_emulate_insn: {@code %x:%llx:%s (%s)%s}. */
    public void emulateInsn(long csBase, long rip, String bytes, String mode) {
        StringBuilder s = p();
        hex(s, csBase).append(':');
        hex(s, rip).append(':').append(bytes).append(" (").append(mode).append(')');
        emit(FLAGS_NONE, "kvm_emulate_insn");
    }

    public void userspaceExitMmio() {
        p().append("reason KVM_EXIT_MMIO (6)");
        emit(FLAGS_NONE, "kvm_userspace_exit");
    }

    /** kvm_userspace_exit for a KVM_RUN that failed with -errno: {@code reason error (errno)}. */
    public void userspaceExitError(int errno) {
        p().append("reason error (").append(errno).append(')');
        emit(FLAGS_NONE, "kvm_userspace_exit");
    }

    /**
     * kvm_exit on SVM (5.13+): {@code vcpu %u reason %s%s%s rip 0x%lx info1 0x%016llx info2 0x%016llx intr_info
     * 0x%08x error_code 0x%08x}; the SVM reason symbols have no flags (e.g. {@code npf}, {@code PF excp}).
     */
    public void kvmExitSvm(String reason, long rip, long info1, long info2) {
        StringBuilder s = p().append("vcpu 0 reason ").append(reason).append(" rip 0x");
        hex(s, rip).append(" info1 0x");
        TraceWriter.hex16(s, info1).append(" info2 0x");
        TraceWriter.hex16(s, info2).append(" intr_info 0x00000000 error_code 0x00000000");
        emit(FLAGS_NONE, "kvm_exit");
    }

    public void injPf(long code) {
        StringBuilder s = p().append("#PF (0x");
        hex(s, code).append(')');
        emit(FLAGS_NONE, "kvm_inj_exception");
    }

    /** A VMM phase marker ({@code tracing_mark_write: kvmrec ...}, as the recording VMM writes them). */
    public void marker(String text) {
        p().append(text);
        emit(FLAGS_PREEMPT1, "tracing_mark_write");
    }
}
