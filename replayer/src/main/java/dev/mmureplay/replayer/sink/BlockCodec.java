package dev.mmureplay.replayer.sink;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import org.xerial.snappy.Snappy;

import java.io.Closeable;
import java.io.IOException;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Compresses the data of one Avro container-file block the way the Avro specification defines each codec, into a
 * reused output buffer. Any Avro reader (ours is Avro's own) decodes the result.
 *
 * <p>Why not Avro's {@code Codec}s: Avro's zstandard codec opens a new streaming compressor (a fresh native context)
 * and copies through two byte streams for every block; here one context is kept and a block is compressed in one
 * call. The formats are the spec's: {@code null} as is; {@code deflate} raw RFC 1951 data (no zlib header);
 * {@code snappy} the compressed data then the big-endian CRC32 of the uncompressed data; {@code zstandard} one
 * zstd frame (no checksum, as {@link AvroCompression#codecFactory()} writes).
 *
 * <p>Not thread-safe: one per writer.
 */
abstract class BlockCodec implements Closeable {

    /** The output buffer of the last {@link #compress} (for the null codec: the input array itself). */
    protected byte[] out = new byte[0];

    /** Compresses src[0, len); returns the compressed length, the bytes being {@code output()[0, length)}. */
    abstract int compress(byte[] src, int len) throws IOException;

    final byte[] output() {
        return out;
    }

    /** Makes the output buffer hold at least n bytes; a buffer grown by one huge block is dropped afterwards. */
    protected final byte[] outputOf(int n) {
        if (out.length < n || out.length > 2 * n + (4 << 20)) {
            out = new byte[n];
        }
        return out;
    }

    @Override
    public void close() {
    }

    static BlockCodec of(AvroCompression c) {
        switch (c.avroName()) {
            case "zstandard": return new ZstdBlocks(c.level());
            case "snappy": return new SnappyBlocks();
            case "deflate": return new DeflateBlocks(c.level());
            case "null": return new NullBlocks();
            default: throw new IllegalArgumentException("no block codec for " + c);
        }
    }

    private static final class NullBlocks extends BlockCodec {
        @Override
        int compress(byte[] src, int len) {
            out = src;
            return len;
        }
    }

    private static final class ZstdBlocks extends BlockCodec {
        private final ZstdCompressCtx ctx = new ZstdCompressCtx();

        ZstdBlocks(int level) {
            ctx.setLevel(level);
            ctx.setChecksum(false);
            if (level <= 1) {
                // Why: the fast levels' own tables (hash log 13, window 512 KiB for 1 MiB blocks) outgrow the core's
                // caches, while what repeats in this data is local (consecutive events share vm, task, origin and
                // payload shape). A 4K-entry hash table and a 256 KiB window, measured on the ingest benchmark:
                // level 1 compresses in ~90 instead of ~103 ns per event, to 9.48 instead of 9.20 bytes.
                ctx.setHashLog(12);
                ctx.setWindowLog(18);
            }
        }

        @Override
        int compress(byte[] src, int len) {
            byte[] dst = outputOf((int) Zstd.compressBound(len));
            return ctx.compressByteArray(dst, 0, dst.length, src, 0, len);
        }

        @Override
        public void close() {
            ctx.close();
        }
    }

    private static final class SnappyBlocks extends BlockCodec {
        private final CRC32 crc = new CRC32();

        @Override
        int compress(byte[] src, int len) throws IOException {
            byte[] dst = outputOf(Snappy.maxCompressedLength(len) + 4);
            int n = Snappy.compress(src, 0, len, dst, 0);
            crc.reset();
            crc.update(src, 0, len);
            int v = (int) crc.getValue();
            dst[n] = (byte) (v >>> 24);
            dst[n + 1] = (byte) (v >>> 16);
            dst[n + 2] = (byte) (v >>> 8);
            dst[n + 3] = (byte) v;
            return n + 4;
        }
    }

    private static final class DeflateBlocks extends BlockCodec {
        private final Deflater deflater;

        DeflateBlocks(int level) {
            deflater = new Deflater(level, true);
        }

        @Override
        int compress(byte[] src, int len) {
            deflater.reset();
            deflater.setInput(src, 0, len);
            deflater.finish();
            byte[] dst = outputOf(len + len / 1000 + 64);
            int n = 0;
            while (!deflater.finished()) {
                if (n == dst.length) {
                    dst = java.util.Arrays.copyOf(dst, dst.length * 2);
                    out = dst;
                }
                n += deflater.deflate(dst, n, dst.length - n);
            }
            return n;
        }

        @Override
        public void close() {
            deflater.end();
        }
    }
}
