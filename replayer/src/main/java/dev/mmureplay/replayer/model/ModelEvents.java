package dev.mmureplay.replayer.model;

import dev.mmureplay.avro.CheckMmioSpte;
import dev.mmureplay.avro.EmulationMode;
import dev.mmureplay.avro.FastPageFault;
import dev.mmureplay.avro.GenericEvent;
import dev.mmureplay.avro.HandleMmioPageFault;
import dev.mmureplay.avro.KvmCr;
import dev.mmureplay.avro.KvmEmulateInsn;
import dev.mmureplay.avro.KvmExit;
import dev.mmureplay.avro.KvmInjException;
import dev.mmureplay.avro.KvmMmio;
import dev.mmureplay.avro.KvmMmuGetPage;
import dev.mmureplay.avro.KvmMmuPagetableWalk;
import dev.mmureplay.avro.KvmMmuPagingElement;
import dev.mmureplay.avro.KvmMmuPrepareZapPage;
import dev.mmureplay.avro.KvmMmuSetAccessedBit;
import dev.mmureplay.avro.KvmMmuSetDirtyBit;
import dev.mmureplay.avro.KvmMmuSetSpte;
import dev.mmureplay.avro.KvmMmuSplitHugePage;
import dev.mmureplay.avro.KvmMmuSpteRequested;
import dev.mmureplay.avro.KvmMmuSyncPage;
import dev.mmureplay.avro.KvmMmuUnsyncPage;
import dev.mmureplay.avro.KvmMmuWalkerError;
import dev.mmureplay.avro.KvmMmuZapAllFast;
import dev.mmureplay.avro.KvmPageFault;
import dev.mmureplay.avro.KvmPio;
import dev.mmureplay.avro.KvmTdpMmuSpteChanged;
import dev.mmureplay.avro.KvmUnmapHvaRange;
import dev.mmureplay.avro.KvmUserspaceExit;
import dev.mmureplay.avro.MarkMmioSpte;
import dev.mmureplay.avro.Marker;
import dev.mmureplay.avro.MmioType;
import dev.mmureplay.avro.ShadowPage;
import dev.mmureplay.avro.TraceEvent;
import dev.mmureplay.model.event.ModelEvent;
import dev.mmureplay.model.event.ShadowPageInfo;

import java.nio.ByteBuffer;

/**
 * The adapter from the Avro data contract ({@link TraceEvent}) to the model's input ({@link ModelEvent}): one
 * model record per Avro payload, field for field. A pure function of the event; it allocates the model record (and
 * its {@link ShadowPageInfo}) and nothing else, except the instruction-bytes text of {@code kvm_emulate_insn}.
 *
 * <h2>Rules</h2>
 * <ul>
 *   <li>{@code seq} and {@code vcpu} come from the envelope (ingest already took the vCPU from the task name or the
 *       payload's own vcpu field).</li>
 *   <li>A null Avro field (a value the trace format did not print) becomes the model's unknown sentinel:
 *       {@link ModelEvent#UNKNOWN} for {@code long}s, {@link ModelEvent#UNKNOWN_INT} for {@code int}s. Strings the
 *       format did not print (the emulation mode in trace-cmd text) become {@code null}; the model never reads them.</li>
 *   <li>Error codes ({@code PfErrorCode}) are passed as their raw {@code value}.</li>
 *   <li>Shadow pages: {@code gen}/{@code gfn} null → UNKNOWN; {@code cr0Wp} null → UNKNOWN_INT, else 0/1;
 *       {@code adDisabled} null → false (trace-cmd does not print it; A/D bits are enabled for shadow paging unless the
 *       raw text says {@code !ad}). {@code smep_andnot_wp}, {@code smap_andnot_wp} and {@code smm} have no model field.</li>
 *   <li>{@code kvm_mmu_set_spte}'s letters are rebuilt exactly as mmutrace.h prints them: {@code r|-}, {@code w|-},
 *       {@code x|-}, then {@code u|-} or nothing when the kernel printed no u (EPT). The strings are constants.</li>
 *   <li>{@code kvm_mmio} type and {@code kvm_emulate_insn} mode are the kernel's printed symbols
 *       ({@code read}, {@code write}, {@code unsatisfied-read}; {@code real}, {@code vm16}, {@code prot16},
 *       {@code prot32}, {@code prot64}); instruction bytes are printed like {@code __print_hex} ({@code "0f 20 c0"}).</li>
 *   <li>{@code GenericEvent} → {@link ModelEvent.Other} (name, raw text); {@code Marker} → {@link ModelEvent.Marker}.</li>
 * </ul>
 * No Avro payload corresponds to {@link ModelEvent.MemslotChange} (memslot ioctls are not tracepoints on the
 * recording host); a source that knows memslot changes builds that record itself.
 *
 * <p>{@link TraceEventDecoder} applies the same rules to the Avro bytes directly (the replay job's fast path) and
 * calls the helpers here; a rule changed here must give the same result there (TraceEventDecoderTest compares the
 * two on every event of every trace).
 */
public final class ModelEvents {

    /** The 24 letter groups of kvm_mmu_set_spte, indexed by r | w<<1 | x<<2 | (u: none 0, '-' 1, 'u' 2)<<3. */
    private static final String[] PERMS = new String[24];

    static {
        for (int i = 0; i < PERMS.length; i++) {
            int u = i >>> 3;
            PERMS[i] = ((i & 1) != 0 ? "r" : "-") + ((i & 2) != 0 ? "w" : "-") + ((i & 4) != 0 ? "x" : "-")
                    + (u == 0 ? "" : u == 1 ? "-" : "u");
        }
    }

    private ModelEvents() {
    }

    /**
     * The model event of one Avro trace event.
     *
     * @throws IllegalArgumentException when the payload is not one of the TraceEvent union's records (never for
     *                                  events ingest or a TraceEvent file produced)
     */
    public static ModelEvent of(TraceEvent e) {
        return of(e.getSeq(), e.getVcpu(), e.getPayload());
    }

    /** The model event of one payload with its envelope's seq and vcpu. */
    public static ModelEvent of(long seq, int vcpu, Object payload) {
        // most frequent kinds first (walks and their elements are ~2/3 of a real trace)
        if (payload instanceof KvmMmuPagingElement p) {
            return new ModelEvent.PagingElement(seq, vcpu, p.getPte(), p.getLevel());
        } else if (payload instanceof KvmMmuPagetableWalk p) {
            return new ModelEvent.PageTableWalk(seq, vcpu, p.getAddr(), p.getPferr().getValue());
        } else if (payload instanceof KvmMmuSetAccessedBit p) {
            return new ModelEvent.SetAccessedBit(seq, vcpu, p.getGpa());
        } else if (payload instanceof KvmMmuSetDirtyBit p) {
            return new ModelEvent.SetDirtyBit(seq, vcpu, p.getGpa());
        } else if (payload instanceof KvmMmuSpteRequested p) {
            return new ModelEvent.SpteRequested(seq, vcpu, p.getGfn(), p.getPfn(), p.getLevel());
        } else if (payload instanceof KvmMmuSetSpte p) {
            return new ModelEvent.SetSpte(seq, vcpu, p.getGfn(), p.getSpte(), perms(p), p.getLevel(), p.getSptep());
        } else if (payload instanceof KvmMmuGetPage p) {
            return new ModelEvent.GetPage(seq, vcpu, shadowPage(p.getSp()), p.getCreated());
        } else if (payload instanceof KvmMmuWalkerError p) {
            return new ModelEvent.WalkerError(seq, vcpu, p.getPferr().getValue());
        } else if (payload instanceof KvmMmuSyncPage p) {
            return new ModelEvent.SyncPage(seq, vcpu, shadowPage(p.getSp()));
        } else if (payload instanceof KvmMmuUnsyncPage p) {
            return new ModelEvent.UnsyncPage(seq, vcpu, shadowPage(p.getSp()));
        } else if (payload instanceof KvmMmuPrepareZapPage p) {
            return new ModelEvent.PrepareZapPage(seq, vcpu, shadowPage(p.getSp()));
        } else if (payload instanceof KvmMmuZapAllFast p) {
            return new ModelEvent.ZapAllFast(seq, vcpu, p.getValidGen(), p.getUsedPages());
        } else if (payload instanceof MarkMmioSpte p) {
            return new ModelEvent.MarkMmioSpte(seq, vcpu, orUnknown(p.getSptep()), p.getGfn(), p.getAccess(),
                    p.getGen());
        } else if (payload instanceof HandleMmioPageFault p) {
            return new ModelEvent.HandleMmioPageFault(seq, vcpu, p.getAddr(), p.getGfn(), p.getAccess());
        } else if (payload instanceof CheckMmioSpte p) {
            return new ModelEvent.CheckMmioSpte(seq, vcpu, p.getSpte(), p.getKvmGen(), p.getSpteGen(), p.getValid());
        } else if (payload instanceof FastPageFault p) {
            return new ModelEvent.FastPageFault(seq, vcpu, p.getGva(), p.getErrorCode().getValue(),
                    orUnknown(p.getSptep()), p.getOldSpte(), p.getNewSpte(), p.getSpurious(), p.getFixed());
        } else if (payload instanceof KvmTdpMmuSpteChanged p) {
            return new ModelEvent.TdpMmuSpteChanged(seq, vcpu, p.getAsId(), p.getGfn(), p.getLevel(), p.getOldSpte(),
                    p.getNewSpte());
        } else if (payload instanceof KvmMmuSplitHugePage p) {
            return new ModelEvent.SplitHugePage(seq, vcpu, p.getGfn(), p.getSpte(), p.getLevel(), p.getErrno());
        } else if (payload instanceof KvmPageFault p) {
            return new ModelEvent.KvmPageFault(seq, vcpu, p.getAddress(), p.getErrorCode().getValue(),
                    orUnknown(p.getRip()));
        } else if (payload instanceof KvmCr p) {
            return new ModelEvent.KvmCr(seq, vcpu, p.getWrite(), p.getCr(), p.getValue());
        } else if (payload instanceof KvmExit p) {
            return new ModelEvent.KvmExit(seq, vcpu, p.getReason(), p.getRip(), p.getInfo1(), p.getInfo2());
        } else if (payload instanceof KvmMmio p) {
            return new ModelEvent.Mmio(seq, vcpu, mmioType(p.getType()), p.getLen(), p.getGpa(), p.getVal());
        } else if (payload instanceof KvmEmulateInsn p) {
            return new ModelEvent.EmulateInsn(seq, vcpu, p.getCsBase(), p.getRip(), hex(p.getInsn()),
                    emulationMode(p.getMode()), p.getFailed());
        } else if (payload instanceof KvmUnmapHvaRange p) {
            return new ModelEvent.UnmapHvaRange(seq, vcpu, p.getStart(), p.getEnd());
        } else if (payload instanceof KvmInjException p) {
            return new ModelEvent.InjectedException(seq, vcpu, p.getVector(), orUnknown(p.getErrorCode()));
        } else if (payload instanceof KvmPio p) {
            return new ModelEvent.Pio(seq, vcpu, p.getWrite(), p.getPort(), p.getSize(), p.getCount(), p.getVal());
        } else if (payload instanceof KvmUserspaceExit p) {
            return new ModelEvent.UserspaceExit(seq, vcpu, p.getReason(), p.getCode());
        } else if (payload instanceof Marker p) {
            return new ModelEvent.Marker(seq, vcpu, p.getText());
        } else if (payload instanceof GenericEvent p) {
            return new ModelEvent.Other(seq, vcpu, p.getName(), p.getText());
        }
        throw new IllegalArgumentException("not a TraceEvent payload: "
                + (payload == null ? "null" : payload.getClass().getName()));
    }

    /**
     * A model event as one line in the trace's own terms, for reports: the tracepoint name, then each field as
     * {@code name value} with addresses, gfns, pfns, SPTEs and error codes in hex (as the kernel prints them),
     * unknown values as {@code ?}; {@code seq} is left out (reports print it separately). E.g.
     * {@code kvm_mmu_set_spte vcpu -1 gfn 10 spte 123b48a25 perms r-xu level 1 sptep 12b9a9080}.
     */
    public static String text(ModelEvent e) {
        if (e == null) {
            return "-";
        }
        StringBuilder sb = new StringBuilder(e.kind().tracepoint());
        for (java.lang.reflect.RecordComponent c : e.getClass().getRecordComponents()) {
            String name = c.getName();
            if (name.equals("seq")) {
                continue;
            }
            Object v;
            try {
                v = c.getAccessor().invoke(e);
            } catch (ReflectiveOperationException ex) {
                throw new IllegalStateException(ex);
            }
            sb.append(' ').append(name).append(' ');
            if (v instanceof Long l) {
                sb.append(l == ModelEvent.UNKNOWN ? "?" : Long.toHexString(l));
            } else if (v instanceof Integer i) {
                sb.append(i == ModelEvent.UNKNOWN_INT ? "?" : i.toString());
            } else if (v instanceof ShadowPageInfo sp) {
                sb.append('(').append(sp).append(')');
            } else {
                sb.append(v);
            }
        }
        return sb.toString();
    }

    /** The model's shadow-page text of an Avro {@link ShadowPage}. */
    public static ShadowPageInfo shadowPage(ShadowPage sp) {
        return new ShadowPageInfo(orUnknown(sp.getGen()), orUnknown(sp.getGfn()), sp.getLevel(), sp.getHas4ByteGpte(),
                sp.getQuadrant(), sp.getDirect(), sp.getAccess(), sp.getInvalid(), sp.getEferNx(),
                adDisabled(sp.getAdDisabled()), cr0Wp(sp.getCr0Wp()), sp.getRootCount(), sp.getUnsync());
    }

    /** The model's role.ad_disabled of a shadow page's printed {@code adDisabled}: not printed (null) → false. */
    static boolean adDisabled(Boolean printed) {
        return printed != null && printed;
    }

    /** The model's role.cr0_wp of a shadow page's printed {@code cr0Wp}: not printed (null) → UNKNOWN_INT, else 0/1. */
    static int cr0Wp(Boolean printed) {
        return printed == null ? ModelEvent.UNKNOWN_INT : printed ? 1 : 0;
    }

    /** kvm_mmu_set_spte's "(%s%s%s%s)" letters. */
    static String perms(KvmMmuSetSpte s) {
        return perms(s.getR(), s.getW(), s.getX(), s.getU());
    }

    /** kvm_mmu_set_spte's letters of r, w, x and u; {@code u} null when the kernel printed no u letter (EPT). */
    static String perms(boolean r, boolean w, boolean x, Boolean u) {
        return PERMS[(r ? 1 : 0) | (w ? 2 : 0) | (x ? 4 : 0) | (u == null ? 0 : u ? 16 : 8)];
    }

    private static long orUnknown(Long v) {
        return v == null ? ModelEvent.UNKNOWN : v;
    }

    /** kvm_mmio's printed type (trace.h kvm_trace_symbol_mmio), or null when the trace did not say. */
    static String mmioType(MmioType t) {
        if (t == null) {
            return null;
        }
        return switch (t) {
            case READ -> "read";
            case WRITE -> "write";
            case UNSATISFIED_READ -> "unsatisfied-read";
            default -> null;
        };
    }

    /** kvm_emulate_insn's printed mode (trace.h kvm_trace_symbol_emul_flags), or null when not printed. */
    static String emulationMode(EmulationMode m) {
        if (m == null) {
            return null;
        }
        return switch (m) {
            case REAL -> "real";
            case VM16 -> "vm16";
            case PROT16 -> "prot16";
            case PROT32 -> "prot32";
            case PROT64 -> "prot64";
            default -> null;
        };
    }

    /** The instruction bytes as __print_hex prints them ("0f 20 c0"); "" for none. */
    static String hex(ByteBuffer b) {
        if (b == null) {
            return "";
        }
        if (b.hasArray()) {
            return hex(b.array(), b.arrayOffset() + b.position(), b.remaining());
        }
        byte[] copy = new byte[b.remaining()];
        b.duplicate().get(copy);
        return hex(copy, 0, copy.length);
    }

    /** The bytes {@code b[off, off + n)} as __print_hex prints them ("0f 20 c0"); "" for none. */
    static String hex(byte[] b, int off, int n) {
        if (n == 0) {
            return "";
        }
        char[] out = new char[n * 3 - 1];
        for (int i = 0; i < n; i++) {
            int v = b[off + i] & 0xff;
            int o = i * 3;
            out[o] = Character.forDigit(v >>> 4, 16);
            out[o + 1] = Character.forDigit(v & 15, 16);
            if (i + 1 < n) {
                out[o + 2] = ' ';
            }
        }
        return new String(out);
    }
}
