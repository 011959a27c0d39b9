package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.event.ShadowPageInfo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TEST-ONLY: turns a few raw tracefs lines into ModelEvents so tests read like the traces. Minimal on purpose —
 * the real parser lives in the replayer module. Every event gets vcpu -1 (the traces' threads are not named
 * "CPU n/KVM"), seq = 1-based position.
 */
final class TraceLines {

    private static final Pattern LINE = Pattern.compile(
            "^\\s*(.+?)-(\\d+)\\s+\\[(\\d+)\\]\\s+(?:\\S+\\s+)?(\\d+\\.\\d+):\\s+(\\w+):\\s?(.*)$");
    private static final Pattern SHORT = Pattern.compile("^\\s*(\\w+):\\s?(.*)$");

    private TraceLines() {
    }

    /** Parses lines of a raw trace, or short lines of the form {@code event: payload}. */
    /** Every event of the snippets, in order, through one fresh model of {@code profile} on {@code config}. */
    static List<ReplayStep> replay(Profile profile, ModelConfig config, String... snippets) {
        MmuStateMachine m = MmuStateMachine.create(profile, config);
        List<ReplayStep> steps = new java.util.ArrayList<>();
        for (String s : snippets) {
            for (ModelEvent e : parse(s)) {
                steps.add(m.apply(e));
            }
        }
        return steps;
    }

    static List<ModelEvent> parse(String text) {
        List<ModelEvent> out = new ArrayList<>();
        long seq = 0;
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String name;
            String payload;
            Matcher m = LINE.matcher(line);
            if (m.matches()) {
                name = m.group(5);
                payload = m.group(6).trim();
            } else {
                Matcher s = SHORT.matcher(line);
                if (!s.matches()) {
                    throw new IllegalArgumentException("unparsable: " + line);
                }
                name = s.group(1);
                payload = s.group(2).trim();
            }
            out.add(event(++seq, -1, name, payload));
        }
        return out;
    }

    static List<ModelEvent> resource(String name) {
        try (InputStream in = TraceLines.class.getResourceAsStream("/traces/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no trace " + name);
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long hex(String s) {
        if (s.startsWith("0x")) {
            s = s.substring(2);
        }
        return Long.parseUnsignedLong(s, 16);
    }

    private static String[] w(String p) {
        return p.trim().split("\\s+");
    }

    static ModelEvent event(long seq, int vcpu, String name, String p) {
        String[] t = w(p);
        switch (name) {
            case "kvm_mmu_pagetable_walk":
                return new ModelEvent.PageTableWalk(seq, vcpu, hex(t[1]), hex(t[3]));
            case "kvm_mmu_paging_element":
                return new ModelEvent.PagingElement(seq, vcpu, hex(t[1]), Integer.parseInt(t[3]));
            case "kvm_mmu_set_accessed_bit":
                return new ModelEvent.SetAccessedBit(seq, vcpu, hex(t[1]));
            case "kvm_mmu_set_dirty_bit":
                return new ModelEvent.SetDirtyBit(seq, vcpu, hex(t[1]));
            case "kvm_mmu_walker_error":
                return new ModelEvent.WalkerError(seq, vcpu, hex(t[1]));
            case "kvm_inj_exception": {
                Matcher m = Pattern.compile("#(\\w+)(?: \\((0x[0-9a-f]+)\\))?").matcher(p);
                if (!m.find()) {
                    return new ModelEvent.Other(seq, vcpu, name, p);
                }
                int vec = switch (m.group(1)) {
                    case "PF" -> 14;
                    case "GP" -> 13;
                    case "UD" -> 6;
                    case "DF" -> 8;
                    default -> -1;
                };
                return new ModelEvent.InjectedException(seq, vcpu, vec,
                        m.group(2) == null ? ModelEvent.UNKNOWN : hex(m.group(2)));
            }
            case "kvm_mmu_get_page":
                return new ModelEvent.GetPage(seq, vcpu, sp(p), p.trim().endsWith(" new"));
            case "kvm_mmu_sync_page":
                return new ModelEvent.SyncPage(seq, vcpu, sp(p));
            case "kvm_mmu_unsync_page":
                return new ModelEvent.UnsyncPage(seq, vcpu, sp(p));
            case "kvm_mmu_prepare_zap_page":
                return new ModelEvent.PrepareZapPage(seq, vcpu, sp(p));
            case "kvm_mmu_spte_requested":
                return new ModelEvent.SpteRequested(seq, vcpu, hex(t[1]), hex(t[3]), Integer.parseInt(t[5]));
            case "kvm_mmu_set_spte": {
                // gfn %llx spte %llx (%s) level %d at %llx
                String perms = p.substring(p.indexOf('(') + 1, p.indexOf(')'));
                return new ModelEvent.SetSpte(seq, vcpu, hex(t[1]), hex(t[3]), perms, Integer.parseInt(t[6]),
                        hex(t[8]));
            }
            case "mark_mmio_spte":
                // sptep:%p gfn %llx access %x gen %x
                return new ModelEvent.MarkMmioSpte(seq, vcpu, hex(t[0].substring(t[0].indexOf(':') + 1)),
                        hex(t[2]), (int) hex(t[4]), hex(t[6]));
            case "check_mmio_spte":
                // spte %llx kvm_gen %x spte-gen %x valid %d
                return new ModelEvent.CheckMmioSpte(seq, vcpu, hex(t[1]), hex(t[3]), hex(t[5]), t[7].equals("1"));
            case "handle_mmio_page_fault":
                // addr:%llx gfn %llx access %x
                return new ModelEvent.HandleMmioPageFault(seq, vcpu, hex(t[0].substring(t[0].indexOf(':') + 1)),
                        hex(t[2]), (int) hex(t[4]));
            case "kvm_tdp_mmu_spte_changed":
                // as id %d gfn %llx level %d old_spte %llx new_spte %llx
                return new ModelEvent.TdpMmuSpteChanged(seq, vcpu, Integer.parseInt(t[2]), hex(t[4]),
                        Integer.parseInt(t[6]), hex(t[8]), hex(t[10]));
            case "kvm_mmu_split_huge_page":
                // gfn %llx spte %llx level %d errno %d
                return new ModelEvent.SplitHugePage(seq, vcpu, hex(t[1]), hex(t[3]), Integer.parseInt(t[5]),
                        Integer.parseInt(t[7]));
            case "kvm_mmu_zap_all_fast":
                return new ModelEvent.ZapAllFast(seq, vcpu, Long.parseLong(t[1]), hex(t[3]));
            case "kvm_page_fault": {
                Matcher m = Pattern.compile("address (0x)?([0-9a-f]+) error_code (0x)?([0-9a-f]+)").matcher(p);
                m.find();
                return new ModelEvent.KvmPageFault(seq, vcpu, hex(m.group(2)), hex(m.group(4)), ModelEvent.UNKNOWN);
            }
            case "kvm_cr": {
                Matcher m = Pattern.compile("cr_(\\w+) (\\w+) = (0x[0-9a-f]+)").matcher(p);
                m.find();
                return new ModelEvent.KvmCr(seq, vcpu, m.group(1).equals("write"), Integer.parseInt(m.group(2), 16),
                        hex(m.group(3)));
            }
            case "kvm_unmap_hva_range":
                return new ModelEvent.UnmapHvaRange(seq, vcpu, hex(t[4]), hex(t[6]));
            case "kvm_emulate_insn":
                return new ModelEvent.EmulateInsn(seq, vcpu, 0, 0, p, "", p.endsWith("failed"));
            case "kvm_mmio":
                return new ModelEvent.Mmio(seq, vcpu, t[1], Integer.parseInt(t[3]), hex(t[5]), hex(t[7]));
            case "kvm_pio":
                return new ModelEvent.Pio(seq, vcpu, t[0].equals("pio_write"), (int) hex(t[2]),
                        Integer.parseInt(t[4]), Integer.parseInt(t[6]), hex(t[8]));
            case "kvm_userspace_exit": {
                Matcher m = Pattern.compile("reason (.+) \\((-?\\d+)\\)").matcher(p);
                m.find();
                return new ModelEvent.UserspaceExit(seq, vcpu, m.group(1), Integer.parseInt(m.group(2)));
            }
            case "kvm_exit": {
                Matcher m = Pattern.compile("reason (.+) rip 0x([0-9a-f]+) info1 0x([0-9a-f]+) info2 0x([0-9a-f]+)")
                        .matcher(p);
                m.find();
                return new ModelEvent.KvmExit(seq, vcpu, m.group(1), hex(m.group(2)), hex(m.group(3)),
                        hex(m.group(4)));
            }
            case "tracing_mark_write":
                return new ModelEvent.Marker(seq, vcpu, p);
            default:
                return new ModelEvent.Other(seq, vcpu, name, p);
        }
    }

    /** {@code sp gen %u gfn %llx l%u %u-byte q%u[ direct] acc[ invalid] [!]nxe [!]ad root %u sync|unsync}. */
    static ShadowPageInfo sp(String p) {
        String[] t = w(p);
        int i = 1;
        long gen = ModelEvent.UNKNOWN;
        long gfn = ModelEvent.UNKNOWN;
        if (t[i].equals("gen")) {
            gen = Long.parseLong(t[i + 1]);
            i += 2;
        }
        if (t[i].equals("gfn")) {
            gfn = hex(t[i + 1]);
            i += 2;
        }
        int level = Integer.parseInt(t[i++].substring(1));
        boolean four = t[i++].startsWith("4");
        int quadrant = Integer.parseInt(t[i++].substring(1));
        boolean direct = false;
        if (t[i].equals("direct")) {
            direct = true;
            i++;
        }
        String acc = t[i++];
        int access = (acc.charAt(0) == 'w' ? 2 : 0) | (acc.charAt(1) == 'u' ? 4 : 0) | (acc.charAt(2) == 'x' ? 1 : 0);
        boolean invalid = false;
        if (t[i].equals("invalid")) {
            invalid = true;
            i++;
        }
        boolean nxe = !t[i++].startsWith("!");
        boolean ad = !t[i++].startsWith("!");
        int root = Integer.parseInt(t[i + 1]);
        boolean unsync = t[i + 2].equals("unsync");
        return new ShadowPageInfo(gen, gfn, level, four, quadrant, direct, access, invalid, nxe, !ad,
                ModelEvent.UNKNOWN_INT, root, unsync);
    }
}
