package dev.mmureplay.replayer.parse;

import dev.mmureplay.avro.EmulationMode;
import dev.mmureplay.avro.KvmCr;
import dev.mmureplay.avro.KvmEmulateInsn;
import dev.mmureplay.avro.KvmExit;
import dev.mmureplay.avro.KvmInjException;
import dev.mmureplay.avro.KvmMmio;
import dev.mmureplay.avro.KvmPageFault;
import dev.mmureplay.avro.KvmPio;
import dev.mmureplay.avro.KvmUnmapHvaRange;
import dev.mmureplay.avro.KvmUserspaceExit;
import dev.mmureplay.avro.MmioType;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One rule per MMU-relevant kvm tracepoint. Each method quotes the TP_printk formats it reads — arch/x86/kvm/trace.h
 * and include/trace/events/kvm.h, current and older kernels — and, where libtraceevent's plugin_kvm.c renders the
 * event itself in trace-cmd report (kvm_exit, kvm_emulate_insn), that text too.
 */
final class KvmPayloads {

    private KvmPayloads() {
    }

    private static final byte[] VCPU = Cursor.ascii("vcpu ");
    private static final byte[] RIP_0X = Cursor.ascii(" rip 0x");
    private static final byte[] SPACE = Cursor.ascii(" ");
    private static final byte[] ADDRESS = Cursor.ascii("address ");
    private static final byte[] ERROR_CODE = Cursor.ascii(" error_code ");
    private static final byte[] CR_ = Cursor.ascii("cr_");
    private static final byte[] READ = Cursor.ascii("read");
    private static final byte[] WRITE = Cursor.ascii("write");
    private static final byte[] EQ_0X = Cursor.ascii(" = 0x");
    private static final byte[] REASON = Cursor.ascii("reason ");
    private static final byte[] RIP = Cursor.ascii("rip");
    private static final byte[] INFO1 = Cursor.ascii(" info1 0x");
    private static final byte[] INFO2 = Cursor.ascii(" info2 0x");
    private static final byte[] INTR_INFO = Cursor.ascii(" intr_info 0x");
    private static final byte[] ERROR_CODE_0X = Cursor.ascii(" error_code 0x");
    private static final byte[] INFO = Cursor.ascii(" info ");
    private static final byte[] UNKNOWN = Cursor.ascii("UNKNOWN");
    private static final byte[] MMIO = Cursor.ascii("mmio ");
    private static final byte[] LEN = Cursor.ascii(" len ");
    private static final byte[] GPA_0X = Cursor.ascii(" gpa 0x");
    private static final byte[] VAL_0X = Cursor.ascii(" val 0x");
    private static final byte[] FAILED = Cursor.ascii(" failed");
    private static final byte[] FAIL = Cursor.ascii(" FAIL");
    private static final byte[] UNMAP = Cursor.ascii("mmu notifier unmap range: ");
    private static final byte[] DASHES = Cursor.ascii(" -- ");
    private static final byte[] OPEN_0X = Cursor.ascii(" (0x");
    private static final byte[] REINJECTED = Cursor.ascii(" [reinjected]");
    private static final byte[] PIO_ = Cursor.ascii("pio_");
    private static final byte[] AT_0X = Cursor.ascii(" at 0x");
    private static final byte[] SIZE = Cursor.ascii(" size ");
    private static final byte[] COUNT = Cursor.ascii(" count ");
    private static final byte[] MORE = Cursor.ascii(" (...)");
    private static final byte[] OPEN_PAREN = Cursor.ascii(" (");
    private static final byte[] CLOSE_PAREN = Cursor.ascii(")");
    private static final byte[] COLON = Cursor.ascii(":");
    private static final byte[] SP_0X = Cursor.ascii(" 0x");

    // ------------------------------------------------------------------ kvm_page_fault

    /**
     * kvm_page_fault, three generations:
     * <pre>
     *   "vcpu %u rip 0x%lx address 0x%016llx error_code 0x%llx"   (6.10+, 64-bit error code)
     *   "vcpu %u rip 0x%lx address 0x%lx error_code %x"           (~6.0-6.9)
     *   "address %lx error_code %x"                              (older)
     * </pre>
     */
    static KvmPageFault pageFault(Cursor c) throws TraceParseException {
        Integer vcpu = null;
        Long rip = null;
        if (c.tryLit(VCPU)) {
            vcpu = c.decInt("vcpu");
            c.lit(RIP_0X);
            rip = c.hex("rip");
            c.lit(SPACE);
        }
        c.lit(ADDRESS);
        long address = c.hexOpt0x("address");
        c.lit(ERROR_CODE);
        long ec = c.hexOpt0x("error_code");
        c.end();
        return new KvmPageFault(vcpu, rip, address, PfErrorFlags.decode(ec));
    }

    // ------------------------------------------------------------------ kvm_cr

    /** kvm_cr: "cr_%s %x = 0x%lx" (rw ? "write" : "read", cr, val). */
    /** The "read" / "write" after a "cr_" or "pio_" prefix (already consumed): true for write. */
    private static boolean readOrWrite(Cursor c, String prefix) throws TraceParseException {
        if (c.tryLit(WRITE)) {
            return true;
        }
        if (c.tryLit(READ)) {
            return false;
        }
        throw c.atEnd() ? c.fail("truncated: expected 'read' or 'write' but the payload ends")
                : c.fail("expected '" + prefix + "read' or '" + prefix + "write' at '" + prefix + c.snippet(c.pos) + "'");
    }

    static KvmCr cr(Cursor c) throws TraceParseException {
        c.lit(CR_);
        boolean write = readOrWrite(c, "cr_");
        c.lit(SPACE);
        int cr = c.hexInt("cr");
        c.lit(EQ_0X);
        long value = c.hex("value");
        c.end();
        return new KvmCr(write, cr, value);
    }

    // ------------------------------------------------------------------ kvm_exit

    /**
     * kvm_exit:
     * <pre>
     *   "vcpu %u reason %s%s%s rip 0x%lx info1 0x%016llx info2 0x%016llx intr_info 0x%08x error_code 0x%08x"  (5.13+)
     *   "reason %s%s%s rip 0x%lx info1 0x%016llx info2 0x%016llx intr_info 0x%08x error_code 0x%08x"          (5.11-5.12)
     *   "reason %s rip 0x%lx info %llx %llx"                                                                   (older)
     * </pre>
     * where "%s%s%s" is the reason symbol (VMX_EXIT_REASONS / SVM_EXIT_REASONS, or 0x%x when unknown), then for
     * VMX " " and the exit-reason flags joined by " " (e.g. FAILED_VMENTRY). trace-cmd report (plugin_kvm.c
     * kvm_exit_handler): "reason %s" (or "reason UNKNOWN (%llu)") " rip 0x%llx" [" func" ["+0x%llx"]]
     * [" info %llx %llx"]; the optional function name is the symbol of rip and is not kept.
     */
    static KvmExit exit(Cursor c) throws TraceParseException {
        Integer vcpu = null;
        if (c.tryLit(VCPU)) {
            vcpu = c.decInt("vcpu");
            c.lit(SPACE);
        }
        c.lit(REASON);
        String reason;
        if (c.tryLit(UNKNOWN)) {
            if (c.tryLit(OPEN_PAREN)) {   // plugin_kvm.c: "reason UNKNOWN (%llu)"
                int s = c.pos;
                c.dec("exit reason");
                reason = new String(c.b, s, c.pos - s, StandardCharsets.US_ASCII);
                c.lit(CLOSE_PAREN);
            } else {
                reason = "UNKNOWN";
            }
        } else {
            reason = c.word("exit reason");
        }
        StringBuilder flags = null;
        while (true) {
            c.lit(SPACE);
            if (c.tryLit(RIP)) {
                if (c.atEnd() || c.peek() == ' ') {
                    break;
                }
                c.pos -= RIP.length;
            }
            String flag = c.word("exit reason flag or 'rip'");
            flags = flags == null ? new StringBuilder(flag) : flags.append(' ').append(flag);
        }
        c.lit(SP_0X);
        long rip = c.hex("rip");
        if (c.tryLit(INFO1)) {
            long info1 = c.hex("info1");
            c.lit(INFO2);
            long info2 = c.hex("info2");
            c.lit(INTR_INFO);
            long intr = c.hex("intr_info");
            c.lit(ERROR_CODE_0X);
            long ec = c.hex("error_code");
            c.end();
            return new KvmExit(vcpu, reason, flags == null ? null : flags.toString(), rip, info1, info2, intr, ec);
        }
        if (!c.tryLit(INFO)) {
            // plugin_kvm.c add_rip_function: " %s" symbol of rip, optionally "+0x%llx"
            if (c.remaining() > 1 && c.peek() == ' ') {
                c.pos++;
                c.pos = c.wordEnd("rip symbol");
            }
            c.lit(INFO);
        }
        long info1 = c.hex("info1");
        c.lit(SPACE);
        long info2 = c.hex("info2");
        c.end();
        return new KvmExit(vcpu, reason, flags == null ? null : flags.toString(), rip, info1, info2, null, null);
    }

    // ------------------------------------------------------------------ kvm_mmio

    /**
     * kvm_mmio: "mmio %s len %u gpa 0x%llx val 0x%llx" with __print_symbolic(type, { 0, "unsatisfied-read" },
     * { 1, "read" }, { 2, "write" }) (an unknown type prints as 0x%x: UNKNOWN).
     */
    static KvmMmio mmio(Cursor c) throws TraceParseException {
        c.lit(MMIO);
        int s = c.pos;
        int e = c.wordEnd("mmio type");
        MmioType type;
        String t = new String(c.b, s, e - s, StandardCharsets.US_ASCII);
        switch (t) {
            case "unsatisfied-read": type = MmioType.UNSATISFIED_READ; break;
            case "read": type = MmioType.READ; break;
            case "write": type = MmioType.WRITE; break;
            default:
                c.hex0x("mmio type");    // only the symbolic fallback 0x%x is acceptable
                if (c.pos != e) {
                    throw c.fail("unknown mmio type '" + c.token(s, e) + "'");
                }
                type = MmioType.UNKNOWN;
        }
        c.pos = e;
        c.lit(LEN);
        int len = c.decInt("len");
        c.lit(GPA_0X);
        long gpa = c.hex("gpa");
        c.lit(VAL_0X);
        long val = c.hex("val");
        c.end();
        return new KvmMmio(type, len, gpa, val);
    }

    // ------------------------------------------------------------------ kvm_emulate_insn

    /**
     * kvm_emulate_insn: raw "%x:%llx:%s (%s)%s" — csbase, rip, __print_hex(insn, len) ("%02x" joined by ' '),
     * __print_symbolic(flags, real | vm16 | prot16 | prot32 | prot64), failed ? " failed" : "".
     * trace-cmd (plugin_kvm.c kvm_emulate_insn_handler without udis86): "%llx:%llx" [" func" ["+0x.."]]
     * ": %s%s" — the bytes as "%02x " joined, failed ? " FAIL" : "", and no mode. A plugin built with udis86 prints
     * disassembly instead of bytes: not supported (the schema keeps bytes), such lines are dead letters.
     */
    static KvmEmulateInsn emulateInsn(Cursor c) throws TraceParseException {
        long csBase = c.hex("csbase");
        c.lit(COLON);
        long rip = c.hex("rip");
        // The raw form ends with "(mode)" or "(mode) failed"; the trace-cmd form never has a parenthesis.
        int last = c.end - 1;
        boolean failed;
        int textEnd = c.end;
        boolean raw;
        if (endsWith(c, FAILED) && c.end - FAILED.length - 1 > c.pos && c.b[c.end - FAILED.length - 1] == ')') {
            raw = true;
            failed = true;
            textEnd = c.end - FAILED.length;
        } else {
            raw = last >= c.pos && c.b[last] == ')';
            failed = false;
        }
        if (raw) {
            c.lit(COLON);
            int open = textEnd - 1;
            while (open > c.pos && c.b[open] != '(') {
                open--;
            }
            if (c.b[open] != '(' || open == c.pos || c.b[open - 1] != ' ') {
                throw c.fail("expected ' (mode)' at the end of '" + c.snippet(c.pos) + "'");
            }
            ByteBuffer insn = hexBytes(c, c.pos, open - 1);
            EmulationMode mode = mode(c, open + 1, textEnd - 1);
            c.pos = c.end;
            return new KvmEmulateInsn(csBase, rip, insn, mode, failed);
        }
        if (!c.tryLit(COLON)) {
            // add_rip_function: " %s" [+0x..] before ": "
            c.lit(SPACE);
            int e = c.pos;
            while (e < c.end && c.b[e] != ':') {
                e++;
            }
            if (e == c.pos) {
                throw c.fail("expected ':' or a rip symbol at '" + c.snippet(c.pos) + "'");
            }
            c.pos = e;
            c.lit(COLON);
        }
        c.lit(SPACE);
        int end = c.end;
        if (endsWith(c, FAIL)) {
            failed = true;
            end -= FAIL.length;
        }
        ByteBuffer insn = hexBytes(c, c.pos, end);
        c.pos = c.end;
        return new KvmEmulateInsn(csBase, rip, insn, null, failed);
    }

    private static boolean endsWith(Cursor c, byte[] suffix) {
        int n = suffix.length;
        if (c.end - c.pos < n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (c.b[c.end - n + i] != suffix[i]) {
                return false;
            }
        }
        return true;
    }

    /** Instruction bytes "ba e9 00": pairs of hex digits separated by single spaces (possibly none at all). */
    private static ByteBuffer hexBytes(Cursor c, int from, int to) throws TraceParseException {
        int n = to - from;
        if (n == 0) {
            return ByteBuffer.allocate(0);
        }
        if ((n + 1) % 3 != 0) {
            throw c.fail("bad instruction bytes '" + c.token(from, to) + "'");
        }
        int count = (n + 1) / 3;
        if (count > 15) {
            throw c.fail("too many instruction bytes (" + count + ", at most 15)");
        }
        byte[] out = new byte[count];
        for (int i = 0; i < count; i++) {
            int p = from + 3 * i;
            int hi = Cursor.hexDigit(c.b[p]);
            int lo = Cursor.hexDigit(c.b[p + 1]);
            if (hi < 0 || lo < 0 || (i + 1 < count && c.b[p + 2] != ' ')) {
                throw c.fail("bad instruction bytes '" + c.token(from, to) + "'");
            }
            out[i] = (byte) (hi << 4 | lo);
        }
        return ByteBuffer.wrap(out);
    }

    /** kvm_trace_symbol_emul_flags: real, vm16, prot16, prot32, prot64; anything else prints as 0x%x. */
    private static EmulationMode mode(Cursor c, int from, int to) throws TraceParseException {
        String m = new String(c.b, from, to - from, StandardCharsets.US_ASCII);
        switch (m) {
            case "real": return EmulationMode.REAL;
            case "vm16": return EmulationMode.VM16;
            case "prot16": return EmulationMode.PROT16;
            case "prot32": return EmulationMode.PROT32;
            case "prot64": return EmulationMode.PROT64;
            default:
                if (m.length() > 2 && m.startsWith("0x") && m.substring(2).chars().allMatch(ch -> Character.digit(ch, 16) >= 0)) {
                    return EmulationMode.UNKNOWN;
                }
                throw c.fail("unknown emulation mode '" + c.token(from, to) + "'");
        }
    }

    // ------------------------------------------------------------------ kvm_unmap_hva_range

    /** kvm_unmap_hva_range: "mmu notifier unmap range: %#016lx -- %#016lx" (%# omits 0x for zero). */
    static KvmUnmapHvaRange unmapHvaRange(Cursor c) throws TraceParseException {
        c.lit(UNMAP);
        long start = c.hexOpt0x("start");
        c.lit(DASHES);
        long end = c.hexOpt0x("end");
        c.end();
        return new KvmUnmapHvaRange(start, end);
    }

    // ------------------------------------------------------------------ kvm_inj_exception

    /**
     * kvm_inj_exception:
     * <pre>
     *   "%s%s%s%s%s"  symbol, has_error ? " (" : "", __print_symbolic(error_code, { }) (= 0x%x), ")", " [reinjected]"  (6.0+)
     *   "%s (0x%x)%s" symbol, has_error ? error_code : 0, reinjected ? " [reinjected]" : ""                         (5.x)
     *   "%s (0x%x)"                                                                                                (older)
     * </pre>
     * with the symbol from kvm_trace_sym_exc ("#DE", ..., "#PF", ...) or 0x%x when the vector has no name.
     */
    static KvmInjException injException(Cursor c) throws TraceParseException {
        int s = c.pos;
        int e = c.wordEnd("exception");
        String symbol = new String(c.b, s, e - s, StandardCharsets.US_ASCII);
        int vector = vector(symbol);
        if (vector < 0) {
            if (!symbol.startsWith("0x")) {
                throw c.fail("unknown exception '" + c.token(s, e) + "'");
            }
            long v = c.hex0x("exception");
            if (c.pos != e || v > 255) {
                throw c.fail("unknown exception '" + c.token(s, e) + "'");
            }
            vector = (int) v;
        }
        c.pos = e;
        Long errorCode = null;
        if (c.tryLit(OPEN_0X)) {
            errorCode = c.hex("error code");
            c.lit(CLOSE_PAREN);
        }
        boolean reinjected = c.tryLit(REINJECTED);
        c.end();
        return new KvmInjException(symbol, vector, errorCode,
                vector == 14 && errorCode != null ? PfErrorFlags.decode(errorCode) : null, reinjected);
    }

    /** EXS(x) { x##_VECTOR, "#" #x } of kvm_trace_sym_exc, plus the other architectural mnemonics. */
    private static int vector(String symbol) {
        switch (symbol) {
            case "#DE": return 0;
            case "#DB": return 1;
            case "#BP": return 3;
            case "#OF": return 4;
            case "#BR": return 5;
            case "#UD": return 6;
            case "#NM": return 7;
            case "#DF": return 8;
            case "#TS": return 10;
            case "#NP": return 11;
            case "#SS": return 12;
            case "#GP": return 13;
            case "#PF": return 14;
            case "#MF": return 16;
            case "#AC": return 17;
            case "#MC": return 18;
            case "#XM": return 19;
            case "#VE": return 20;
            case "#CP": return 21;
            case "#HV": return 28;
            case "#VC": return 29;
            case "#SX": return 30;
            default: return -1;
        }
    }

    // ------------------------------------------------------------------ kvm_pio

    /**
     * kvm_pio: "pio_%s at 0x%x size %d count %d val 0x%x %s" (rw ? "write" : "read", ..., count > 1 ? "(...)" : ""),
     * so a single access ends with a space after val.
     */
    static KvmPio pio(Cursor c) throws TraceParseException {
        c.lit(PIO_);
        boolean write = readOrWrite(c, "pio_");
        c.lit(AT_0X);
        int port = c.hexInt("port");
        c.lit(SIZE);
        int size = c.decInt("size");
        c.lit(COUNT);
        int count = c.decInt("count");
        c.lit(VAL_0X);
        long val = c.hex("val");
        boolean more = c.tryLit(MORE);
        if (!more) {
            c.tryLit(SPACE);   // the "%s" of "" after a space; tolerate it being stripped
        }
        c.end();
        return new KvmPio(write, port, size, count, val, more);
    }

    // ------------------------------------------------------------------ kvm_userspace_exit

    /**
     * kvm_userspace_exit: "reason %s (%d)" — errno < 0 ? (errno == -EINTR ? "restart" : "error") :
     * __print_symbolic(reason, KVM_EXIT_*), then errno < 0 ? -errno : reason.
     */
    static KvmUserspaceExit userspaceExit(Cursor c) throws TraceParseException {
        c.lit(REASON);
        String reason = c.word("reason");
        c.lit(OPEN_PAREN);
        int code = c.decInt("code");
        c.lit(CLOSE_PAREN);
        c.end();
        return new KvmUserspaceExit(reason, code);
    }
}
