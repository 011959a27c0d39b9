package dev.mmureplay.testing;

import dev.mmureplay.avro.DeadLetter;
import dev.mmureplay.avro.EmulationMode;
import dev.mmureplay.avro.GenericEvent;
import dev.mmureplay.avro.KvmEmulateInsn;
import dev.mmureplay.avro.KvmMmio;
import dev.mmureplay.avro.KvmMmuGetPage;
import dev.mmureplay.avro.KvmMmuPagetableWalk;
import dev.mmureplay.avro.KvmMmuPagingElement;
import dev.mmureplay.avro.KvmMmuPrepareZapPage;
import dev.mmureplay.avro.KvmMmuSetAccessedBit;
import dev.mmureplay.avro.KvmMmuSetDirtyBit;
import dev.mmureplay.avro.KvmMmuSetSpte;
import dev.mmureplay.avro.KvmMmuSpteRequested;
import dev.mmureplay.avro.KvmPio;
import dev.mmureplay.avro.KvmUserspaceExit;
import dev.mmureplay.avro.Marker;
import dev.mmureplay.avro.MmioType;
import dev.mmureplay.avro.PfErrorCode;
import dev.mmureplay.avro.Place;
import dev.mmureplay.avro.ShadowPage;
import dev.mmureplay.avro.Source;
import dev.mmureplay.avro.TraceEvent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Realistic {@link TraceEvent}s for sink tests and codec measurements, built from the real traces in
 * {@code examples/traces/} by a deliberately tiny line reader (the common event kinds typed, everything else kept as
 * {@link GenericEvent}). It is a fixture generator, not the product parser: the end-to-end tests use the real parser.
 *
 * <p>Self-contained (only the generated Avro classes), so the {@code jobs} module can reuse it.
 */
public final class SampleEvents {

    /** Header of a raw tracefs line: task-pid [cpu] flags secs.usecs: event: payload. */
    private static final Pattern LINE = Pattern.compile(
            "^\\s*(.+?)-(\\d+)\\s+\\[(\\d+)]\\s+(\\S{4,5})\\s+(\\d+)\\.(\\d+):\\s+(\\w+):\\s?(.*)$");
    private static final Pattern SP = Pattern.compile(
            "sp gen (\\d+) gfn ([0-9a-f]+) l(\\d) (\\d)-byte q(\\d)( direct)? (\\S{3})( nxe)?( !?ad)? root (\\d+) (sync|unsync)( new| existing)?");
    private static final Pattern SET_SPTE = Pattern.compile(
            "gfn ([0-9a-f]+) spte ([0-9a-f]+) \\((.)(.)(.)(.?)\\) level (\\d+) at ([0-9a-f]+)");

    private SampleEvents() {
    }

    /** The repository's examples/traces directory, found from the module directory or the repository root. */
    public static Path tracesDir() {
        String prop = System.getProperty("mmureplay.traces");
        if (prop != null) {
            return Paths.get(prop);
        }
        for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("examples").resolve("traces");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("examples/traces not found above " + Paths.get("").toAbsolutePath());
    }

    /** Events of one real trace file, as one VM named {@code vm}, seq dense from 0. */
    public static List<TraceEvent> fromTrace(String traceFile, String vm) {
        Path file = tracesDir().resolve(traceFile);
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<TraceEvent> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = LINE.matcher(lines.get(i));
            if (!m.matches()) {
                continue;
            }
            String task = m.group(1);
            int cpu = Integer.parseInt(m.group(3));
            long ts = Long.parseLong(m.group(5)) * 1_000_000_000L + Long.parseLong(m.group(6)) * 1_000L;
            Source source = new Source(task, Integer.parseInt(m.group(2)), null, cpu, m.group(4), traceFile, (long) i + 1);
            Object payload = payload(m.group(7), m.group(8));
            out.add(new TraceEvent(vm, task.startsWith("CPU ") ? cpu : -1, (long) out.size(), ts, source, payload));
        }
        return out;
    }

    /**
     * A few hundred events of three VMs, interleaved as several traces would be in one stream: the first
     * {@code perVm} events of three real traces, round-robin.
     */
    public static List<TraceEvent> threeVms(int perVm) {
        List<List<TraceEvent>> vms = List.of(
                fromTrace("long_user_basic.trace", "vm-basic"),
                fromTrace("long_user_memslot.trace", "vm-memslot"),
                fromTrace("long_kernel_emulated.trace", "vm-emulated"));
        List<TraceEvent> out = new ArrayList<>();
        for (int i = 0; i < perVm; i++) {
            for (List<TraceEvent> vm : vms) {
                if (i < vm.size()) {
                    out.add(vm.get(i));
                }
            }
        }
        return out;
    }

    /** All events of all four long real traces, as one VM each (about 4,600 events). */
    public static List<TraceEvent> allRealTraces() {
        List<TraceEvent> out = new ArrayList<>();
        for (String t : List.of("long_user_basic.trace", "long_user_many_pages.trace", "long_user_memslot.trace",
                "long_kernel_emulated.trace", "real_io.trace")) {
            out.addAll(fromTrace(t, t.replace(".trace", "")));
        }
        return out;
    }

    /** Dead letters with the usual kinds of raw input: text, a long line, and bytes that are not UTF-8. */
    public static List<DeadLetter> deadLetters() {
        byte[] garbage = new byte[64];
        for (int i = 0; i < garbage.length; i++) {
            garbage[i] = (byte) (i * 37 + 0x80);
        }
        String longLine = "x".repeat(100_000);
        return List.of(
                dl("t.trace", 12L, "   kvmrec-1 [000] .....   1.000001: kvm_mmu_set_spte: gfn zz", "bad hex 'zz' in gfn"),
                dl("t.trace", 13L, "tab\tquote\"backslash\\ nul\u0000 é ✓", "unknown flag name"),
                new DeadLetter(new Place("-", null, "mmu.trace", 3, 42L), ByteBuffer.wrap(garbage),
                        "not a single-object record", "decode"),
                dl("big.trace", 99L, longLine, "line longer than 65536 bytes"),
                dl("empty.trace", 1L, "", "truncated line"));
    }

    private static DeadLetter dl(String origin, Long line, String raw, String reason) {
        return new DeadLetter(new Place(origin, line, null, null, null),
                ByteBuffer.wrap(raw.getBytes(StandardCharsets.UTF_8)), reason, "parse");
    }

    private static Object payload(String name, String text) {
        String[] f = text.trim().split(" ");
        switch (name) {
            case "kvm_mmu_paging_element":
                return new KvmMmuPagingElement(hex(f[1]), Integer.parseInt(f[3]));
            case "kvm_mmu_pagetable_walk":
                return new KvmMmuPagetableWalk(hex(f[1]), pferr(hex(f[3])));
            case "kvm_mmu_set_accessed_bit":
                return new KvmMmuSetAccessedBit(hex(f[1]));
            case "kvm_mmu_set_dirty_bit":
                return new KvmMmuSetDirtyBit(hex(f[1]));
            case "kvm_mmu_spte_requested":
                return new KvmMmuSpteRequested(hex(f[1]), hex(f[3]), Integer.parseInt(f[5]));
            case "kvm_mmu_set_spte": {
                Matcher m = SET_SPTE.matcher(text);
                if (!m.find()) {
                    break;
                }
                return new KvmMmuSetSpte(hex(m.group(1)), hex(m.group(2)), m.group(3).equals("r"),
                        m.group(4).equals("w"), m.group(5).equals("x"),
                        m.group(6).isEmpty() ? null : m.group(6).equals("u"),
                        Integer.parseInt(m.group(7)), hex(m.group(8)));
            }
            case "kvm_mmu_get_page": {
                ShadowPage sp = shadowPage(text);
                return sp == null ? generic(name, text) : new KvmMmuGetPage(sp, text.endsWith(" new"));
            }
            case "kvm_mmu_prepare_zap_page": {
                ShadowPage sp = shadowPage(text);
                return sp == null ? generic(name, text) : new KvmMmuPrepareZapPage(sp);
            }
            case "kvm_emulate_insn": {
                // "0:10000:b0 01 (prot64)"
                int c1 = text.indexOf(':');
                int c2 = text.indexOf(':', c1 + 1);
                int paren = text.indexOf(" (", c2);
                if (c1 < 0 || c2 < 0 || paren < 0) {
                    break;
                }
                byte[] insn = HexFormat.of().parseHex(text.substring(c2 + 1, paren).replace(" ", ""));
                String mode = text.substring(paren + 2, text.indexOf(')', paren));
                return new KvmEmulateInsn(hex(text.substring(0, c1)), hex(text.substring(c1 + 1, c2)),
                        ByteBuffer.wrap(insn), EmulationMode.valueOf(mode.toUpperCase()), text.endsWith("failed"));
            }
            case "kvm_userspace_exit": {
                String code = f[2].substring(1, f[2].length() - 1);
                return new KvmUserspaceExit(f[1], Integer.parseInt(code));
            }
            case "kvm_pio":
                return new KvmPio(f[0].equals("pio_write"), (int) hex(f[2].substring(2)), Integer.parseInt(f[4]),
                        Integer.parseInt(f[6]), hex(f[8].substring(2)), text.contains("(...)"));
            case "kvm_mmio": {
                MmioType type = Map.of("unsatisfied-read", MmioType.UNSATISFIED_READ, "read", MmioType.READ,
                        "write", MmioType.WRITE).getOrDefault(f[1], MmioType.UNKNOWN);
                return new KvmMmio(type, Integer.parseInt(f[3]), hex(f[5].substring(2)), hex(f[7].substring(2)));
            }
            case "tracing_mark_write":
                return new Marker(text);
            default:
                break;
        }
        return generic(name, text);
    }

    private static GenericEvent generic(String name, String text) {
        return new GenericEvent(name, text);
    }

    private static ShadowPage shadowPage(String text) {
        Matcher m = SP.matcher(text);
        if (!m.find()) {
            return null;
        }
        String acc = m.group(7);
        int access = (acc.charAt(0) == 'w' ? 2 : 0) | (acc.charAt(1) == 'u' ? 4 : 0) | (acc.charAt(2) == 'x' ? 1 : 0);
        Boolean adDisabled = m.group(9) == null ? null : m.group(9).trim().startsWith("!");
        return new ShadowPage(Long.parseLong(m.group(1)), hex(m.group(2)), Integer.parseInt(m.group(3)),
                m.group(4).equals("4"), Integer.parseInt(m.group(5)), m.group(6) != null, access,
                (access & 1) != 0, (access & 2) != 0, (access & 4) != 0, false, m.group(8) != null,
                adDisabled, null, null, null, null, Integer.parseInt(m.group(10)), m.group(11).equals("unsync"));
    }

    /** A page-fault error code with its PFERR_* bits decoded. */
    public static PfErrorCode pferr(long v) {
        return new PfErrorCode(v, bit(v, 0), bit(v, 1), bit(v, 2), bit(v, 3), bit(v, 4), bit(v, 5), bit(v, 6),
                bit(v, 15), bit(v, 31), bit(v, 32), bit(v, 33), bit(v, 34), bit(v, 35), bit(v, 36), bit(v, 48),
                bit(v, 49));
    }

    private static boolean bit(long v, int b) {
        return (v >>> b & 1) != 0;
    }

    private static long hex(String s) {
        return Long.parseUnsignedLong(s, 16);
    }
}
