package dev.mmureplay.replayer.sink;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdInputStream;
import org.xerial.snappy.Snappy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The reading side of {@link BlockCodec}: one Avro container block's data, decompressed in one call, for readers that
 * walk a container file block by block (the replay job's file source). The codecs are Avro's, byte for byte:
 * {@code null}; {@code deflate} (raw deflate, no zlib header); {@code snappy} (the compressed bytes, then the
 * big-endian CRC-32 of the uncompressed ones, checked); {@code zstandard} (one frame: in one call when the frame
 * states its size, as {@code mmu-replay ingest} writes it; streamed when it does not, as Avro's own writer does).
 * Not thread-safe (a kept zstd context / inflater); one per reader.
 */
public abstract class BlockDecompressor implements Closeable {

    /** The Avro codec names this reads (the {@code avro.codec} metadata of a container file). */
    public static final java.util.List<String> CODECS = java.util.List.of("null", "deflate", "snappy", "zstandard");

    /**
     * The decompressor of a codec name.
     *
     * @throws IOException naming the codec when it is not one of {@link #CODECS}
     */
    public static BlockDecompressor of(String codec) throws IOException {
        return switch (codec) {
            case "null" -> new BlockDecompressor() {
                @Override
                public byte[] decompress(byte[] data, int len) {
                    return len == data.length ? data : java.util.Arrays.copyOf(data, len);
                }
            };
            case "deflate" -> new Deflate();
            case "snappy" -> new SnappyBlocks();
            case "zstandard" -> new ZstdBlocks();
            default -> throw new IOException("Avro codec '" + codec + "' is not supported (" + CODECS + ")");
        };
    }

    /**
     * The uncompressed bytes of one block's data, {@code data[0, len)}: a new array, or {@code data} itself for
     * {@code null} when {@code len} is its length (a caller that reuses {@code data} checks for that).
     */
    public abstract byte[] decompress(byte[] data, int len) throws IOException;

    @Override
    public void close() {
    }

    private static final class Deflate extends BlockDecompressor {
        private final Inflater inflater = new Inflater(true);

        @Override
        public byte[] decompress(byte[] data, int len) throws IOException {
            inflater.reset();
            inflater.setInput(data, 0, len);
            byte[] out = new byte[Math.max(64, len * 4)];
            int n = 0;
            try {
                while (!inflater.finished()) {
                    if (n == out.length) {
                        out = java.util.Arrays.copyOf(out, out.length * 2);
                    }
                    int k = inflater.inflate(out, n, out.length - n);
                    if (k == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                        throw new IOException("deflate block ends before its data does");
                    }
                    n += k;
                }
            } catch (DataFormatException e) {
                throw new IOException("corrupt deflate block: " + e.getMessage(), e);
            }
            return java.util.Arrays.copyOf(out, n);
        }

        @Override
        public void close() {
            inflater.end();
        }
    }

    private static final class SnappyBlocks extends BlockDecompressor {
        private final CRC32 crc = new CRC32();

        @Override
        public byte[] decompress(byte[] data, int size) throws IOException {
            if (size < 4) {
                throw new IOException("snappy block of " + size + " bytes has no checksum");
            }
            int len = size - 4;
            if (!Snappy.isValidCompressedBuffer(data, 0, len)) {
                throw new IOException("corrupt snappy block");
            }
            byte[] out = new byte[Snappy.uncompressedLength(data, 0, len)];
            Snappy.uncompress(data, 0, len, out, 0);
            crc.reset();
            crc.update(out, 0, out.length);
            int want = (data[len] & 0xff) << 24 | (data[len + 1] & 0xff) << 16 | (data[len + 2] & 0xff) << 8
                    | (data[len + 3] & 0xff);
            if ((int) crc.getValue() != want) {
                throw new IOException("snappy block checksum mismatch");
            }
            return out;
        }
    }

    private static final class ZstdBlocks extends BlockDecompressor {
        private final ZstdDecompressCtx ctx = new ZstdDecompressCtx();

        @Override
        public byte[] decompress(byte[] data, int len) throws IOException {
            long n = Zstd.getFrameContentSize(data, 0, len);
            if (n >= 0 && n < Integer.MAX_VALUE - 8) {
                byte[] out = new byte[(int) n];
                int got;
                try {
                    got = ctx.decompressByteArray(out, 0, out.length, data, 0, len);
                } catch (RuntimeException e) {   // zstd-jni's ZstdException
                    throw new IOException("corrupt zstd block: " + e.getMessage(), e);
                }
                if (got != n) {
                    throw new IOException("zstd block decompressed to " + got + " bytes, its frame says " + n);
                }
                return out;
            }
            // no size in the frame header (a streaming writer): stream it
            try (ZstdInputStream in = new ZstdInputStream(new ByteArrayInputStream(data, 0, len))) {
                ByteArrayOutputStream out = new ByteArrayOutputStream(len * 4);
                in.transferTo(out);
                return out.toByteArray();
            } catch (RuntimeException e) {
                throw new IOException("corrupt zstd block: " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            ctx.close();
        }
    }
}
