package dev.mmureplay.model;

import dev.mmureplay.model.snapshot.SnapshotInput;
import dev.mmureplay.model.snapshot.SnapshotOutput;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * The binary snapshot of a whole {@link MmuStateMachine}, format version {@value #VERSION}: hand-written, layout
 * independent, self-contained, deterministic. No reflection: each class that holds model state writes and reads
 * exactly its state fields in one documented place ({@code writeTo} / {@code readFrom}, see the list below).
 *
 * <h2>Layout</h2>
 * <pre>
 * u8 version (= 2)
 * section*            in this order, each: u8 tag, varint payload length, payload, u32 CRC-32 of (tag, payload)
 *   1 config          {@link Profile#writeTo} (name, base, switch ids), {@link ModelConfig#writeTo} (every setting)
 *   2 machine         {@link MmuStateMachine#writeTo}: event count, learned facts, pending #PF, prediction queue
 *                     ({@link Expected#writeTo} per entry)
 *   3 mmu             {@link dev.mmureplay.model.mmu.ShadowMmu#writeState}: generation, ids, lists, tracking maps
 *                     ({@link dev.mmureplay.model.mmu.LongIntMap#writeTo})
 *   4 pages           {@link dev.mmureplay.model.mmu.ShadowMmu#writePages}: live shadow pages by ascending id
 *                     (ShadowPage.writeTo: links, parents, regions, sparse SPTE / translation tables)
 *   5 vcpus           {@link dev.mmureplay.model.mmu.ShadowMmu#writeVcpus}: per vCPU slot VcpuMmu.writeTo (control
 *                     bits, roots, requests) with its walk (GuestWalker.writeTo) and fault (PageFault.writeTo)
 *   6 guest-memory    {@link dev.mmureplay.model.mmu.GuestMemory#writeTo}: observed guest PTEs by ascending gpa
 *   7 trailer         fixed64 {@link MmuStateMachine#digest()} of the written state
 * </pre>
 * Primitive encodings (varints, zig-zag, NX-rotated 64-bit patterns, sparse arrays of (index delta, XOR delta)) are
 * those of {@link SnapshotOutput}. Enums are written by name or by an explicit code table, never by ordinal;
 * hash-ordered structures are written in sorted key order; derived fields (SPTE masks, the MMIO generation layout,
 * guest paging formats, permission tables, root roles, the gfn-region index, presence and unsync-child counts) are
 * recomputed on read; per-operation scratch is not state (each class's {@code writeTo} says what it leaves out and
 * why).
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>Replaying the remaining events on a restored model gives the same steps and digests as an uninterrupted
 *       run; {@code snapshot(restore(snapshot))} is byte-identical; equal states give equal bytes.</li>
 *   <li>Self-contained: the profile and config travel by value. A built-in profile is restored as the built-in
 *       instance, {@link ModelConfig#DEFAULT} as itself.</li>
 *   <li>The reader consumes exactly the snapshot's bytes. An unknown version, a truncated stream, a section with a
 *       wrong tag or checksum, a malformed value, or trailing bytes in a section are an {@link IOException} naming
 *       the version or the section; a restored state whose digest differs from the trailer's is
 *       {@code IOException("snapshot digest mismatch ...")}. No other exception escapes, and no corrupt length makes
 *       the reader allocate more than the data actually present (sections are read in chunks, counts are bounded
 *       by the bytes left).</li>
 * </ul>
 * Note: {@link MmuStateMachine#footprint()}'s heap estimate may be lower after a restore (array capacities and
 * emptied index lists are not state); its live-SPTE count is exact.
 *
 * <h2>Evolution (how a v3 adds state)</h2>
 * <ol>
 *   <li>Bump {@link #VERSION} to 3; readers dispatch on the version byte and keep reading 2.</li>
 *   <li>A new field is appended at the <em>end</em> of its class's section part (or, for a new class, in a new
 *       section with the next tag, placed before the trailer). A new boolean takes the next free bit of the flag
 *       word it belongs to.</li>
 *   <li>The v3 reader reads the new field only when the version byte is 3; reading a v2 snapshot it fills the
 *       default that reproduces v2 behaviour (the value a fresh model would hold, or the value the old code
 *       implied). A field that is removed is still read (and dropped) from v2 input.</li>
 *   <li>Existing fields never change meaning or encoding within a version; a change of meaning is a new field.</li>
 *   <li>The golden v2 file in the tests ({@code snapshots/v2-*.snap}) stays: the v3 reader must keep restoring it
 *       and the continued replay must keep reaching its recorded final digest (regenerate only when the model's
 *       behaviour, not the format, changes — see {@code SnapshotGolden}).</li>
 * </ol>
 * Old readers do not read newer versions (they throw naming the version).
 */
final class ModelSnapshot {

    static final int VERSION = 2;

    /** Upper bound of one section's declared length (a corrupt length beyond it is rejected outright). */
    static final int MAX_SECTION = 1 << 30;

    static final int CONFIG = 1;
    static final int MACHINE = 2;
    static final int MMU = 3;
    static final int PAGES = 4;
    static final int VCPUS = 5;
    static final int GUEST_MEMORY = 6;
    static final int TRAILER = 7;
    /** The TDP MMU ({@code mmu.TdpMmu#writeTo}); present only when the config has tdp=true, before the trailer. */
    static final int TDP = 8;

    private static final String[] NAMES = {"?", "config", "machine", "mmu", "pages", "vcpus", "guest-memory",
            "trailer", "tdp"};

    private ModelSnapshot() {
    }

    // ================================================================================================ write

    static void write(MmuStateMachine m, DataOutput out) throws IOException {
        out.writeByte(VERSION);
        SnapshotOutput s = new SnapshotOutput();
        m.profile().writeTo(s);
        m.config().writeTo(s);
        section(out, CONFIG, s);
        m.writeTo(s);
        section(out, MACHINE, s);
        m.mmu().writeState(s);
        section(out, MMU, s);
        m.mmu().writePages(s);
        section(out, PAGES, s);
        m.mmu().writeVcpus(s);
        section(out, VCPUS, s);
        m.mmu().guestMemory().writeTo(s);
        section(out, GUEST_MEMORY, s);
        if (m.tdp() != null) {
            m.tdp().writeTo(s);
            section(out, TDP, s);
        }
        s.fixed64(m.digest());
        section(out, TRAILER, s);
    }

    private static void section(DataOutput out, int tag, SnapshotOutput s) throws IOException {
        out.writeByte(tag);
        long len = s.size();
        while ((len & ~0x7fL) != 0) {
            out.writeByte((int) ((len & 0x7f) | 0x80));
            len >>>= 7;
        }
        out.writeByte((int) len);
        s.copyTo(out);
        CRC32 crc = new CRC32();
        crc.update(tag);
        s.updateChecksum(crc);
        out.writeInt((int) crc.getValue());
        s.reset();
    }

    // ================================================================================================ read

    static MmuStateMachine read(DataInput in) throws IOException {
        int v;
        try {
            v = in.readUnsignedByte();
        } catch (EOFException e) {
            throw new IOException("MmuStateMachine snapshot truncated: no format version byte", e);
        }
        if (v != VERSION) {
            throw new IOException("unknown MmuStateMachine snapshot format version " + v + " (this reader knows "
                    + "version " + VERSION + ")");
        }
        // every section is read and its checksum verified before any is interpreted
        SnapshotInput config = section(in, CONFIG);
        SnapshotInput machine = section(in, MACHINE);
        SnapshotInput mmu = section(in, MMU);
        SnapshotInput pages = section(in, PAGES);
        SnapshotInput vcpus = section(in, VCPUS);
        SnapshotInput memory = section(in, GUEST_MEMORY);
        // the optional tdp section (tdp=true hosts) comes before the trailer: shadow-paging snapshots are unchanged
        int next = readTag(in, NAMES[TRAILER]);
        SnapshotInput tdp = null;
        if (next == TDP) {
            tdp = section(in, TDP, TDP);
            next = readTag(in, NAMES[TRAILER]);
        }
        SnapshotInput trailer = section(in, TRAILER, next);
        String at = NAMES[CONFIG];
        try {
            Profile profile = Profile.readFrom(config);
            ModelConfig cfg = ModelConfig.readFrom(config);
            config.end();
            at = "machine, mmu, pages, vcpus or guest-memory";
            MmuStateMachine m = MmuStateMachine.readFrom(profile, cfg, machine, mmu, pages, vcpus, memory, tdp);
            if (tdp != null) {
                tdp.end();
            }
            machine.end();
            mmu.end();
            pages.end();
            vcpus.end();
            memory.end();
            at = NAMES[TRAILER];
            long stored = trailer.fixed64();
            trailer.end();
            long restored = m.digest();
            if (restored != stored) {
                throw new IOException("snapshot digest mismatch: the trailer holds " + Long.toHexString(stored)
                        + ", the restored state digests to " + Long.toHexString(restored)
                        + " (corrupt snapshot or a reader that does not restore what the writer wrote)");
            }
            return m;
        } catch (RuntimeException e) {
            throw new IOException("corrupt snapshot: section " + at + ": " + e, e);
        }
    }

    /** Reads one raw section: tag, length, payload, checksum; EOF anywhere in it names the section. */
    private static SnapshotInput section(DataInput in, int tag) throws IOException {
        return section(in, tag, readTag(in, NAMES[tag]));
    }

    private static int readTag(DataInput in, String name) throws IOException {
        try {
            return in.readUnsignedByte();
        } catch (EOFException e) {
            throw new IOException("snapshot truncated in section " + name, e);
        }
    }

    /** Reads one raw section whose tag byte {@code t} was already read. */
    private static SnapshotInput section(DataInput in, int tag, int t) throws IOException {
        String name = NAMES[tag];
        try {
            if (t != tag) {
                throw new IOException("corrupt snapshot: expected section " + name + " (tag " + tag + "), found tag "
                        + t);
            }
            long len = 0;
            for (int shift = 0; ; shift += 7) {
                if (shift > 28) {
                    throw new IOException("corrupt snapshot: section " + name + ": malformed length");
                }
                int b = in.readUnsignedByte();
                len |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    break;
                }
            }
            if (len > MAX_SECTION) {
                throw new IOException("corrupt snapshot: section " + name + ": length " + len + " exceeds "
                        + MAX_SECTION);
            }
            // in chunks: a corrupt length meets the end of the stream before it can allocate much
            byte[] payload = new byte[(int) Math.min(len, 1 << 16)];
            int n = 0;
            while (n < len) {
                int chunk = (int) Math.min(len - n, 1 << 16);
                if (n + chunk > payload.length) {
                    payload = Arrays.copyOf(payload, (int) Math.min(len, Math.max(n + chunk, 2L * payload.length)));
                }
                in.readFully(payload, n, chunk);
                n += chunk;
            }
            int stored = in.readInt();
            CRC32 crc = new CRC32();
            crc.update(tag);
            crc.update(payload, 0, payload.length);
            if ((int) crc.getValue() != stored) {
                throw new IOException("corrupt snapshot: section " + name + ": checksum mismatch");
            }
            return new SnapshotInput(payload, name);
        } catch (EOFException e) {
            throw new IOException("snapshot truncated in section " + name, e);
        }
    }
}
