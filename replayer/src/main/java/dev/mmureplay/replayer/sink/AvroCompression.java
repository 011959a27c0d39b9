package dev.mmureplay.replayer.sink;

import org.apache.avro.file.CodecFactory;

import java.util.Locale;
import java.util.Objects;

/**
 * The block compression of an Avro object container file, parsed from a {@code --codec} value:
 * {@code zstd} / {@code zstd:LEVEL} (zstandard, levels -5..22), {@code snappy}, {@code deflate} /
 * {@code deflate:LEVEL} (1..9), {@code null} / {@code none}.
 *
 * <p>The default, {@code zstd:1}, was chosen by measurement ({@code AvroCodecBenchTest}, events shaped like the real
 * traces, 1 MiB blocks, 2-core VM, writing on the calling thread): none 162 ns and 88.9 bytes per event, snappy
 * 206 ns / 16.6 B, zstd:-1 238 ns / 10.7 B, <b>zstd:1 252 ns / 9.7 B</b>, zstd:3 296 ns / 9.5 B, deflate:1 482 ns /
 * 11.0 B. Of that, ~125 ns is Avro encoding; zstd:1 costs ~45 ns more than snappy for files 42% smaller, and deflate
 * is both slower and larger. With the background writer ({@link AvroFileOptions}) the calling thread pays ~23 ns per
 * event whatever the codec. {@code snappy} and {@code deflate} are the most widely supported if another tool must
 * read the files.
 */
public final class AvroCompression {

    public static final AvroCompression NONE = new AvroCompression("null", 0);
    public static final AvroCompression SNAPPY = new AvroCompression("snappy", 0);
    public static final AvroCompression DEFAULT = zstd(1);

    private final String name;
    private final int level;

    private AvroCompression(String name, int level) {
        this.name = name;
        this.level = level;
    }

    public static AvroCompression zstd(int level) {
        if (level < -5 || level > 22) {
            throw new IllegalArgumentException("zstd level must be in -5..22, not " + level);
        }
        return new AvroCompression("zstandard", level);
    }

    public static AvroCompression deflate(int level) {
        if (level < 1 || level > 9) {
            throw new IllegalArgumentException("deflate level must be in 1..9, not " + level);
        }
        return new AvroCompression("deflate", level);
    }

    /**
     * Parses a codec spec: {@code zstd[:LEVEL]} (also {@code zstandard}), {@code snappy}, {@code deflate[:LEVEL]},
     * {@code null} or {@code none}. Case-insensitive.
     *
     * @throws IllegalArgumentException with the accepted forms, for anything else
     */
    public static AvroCompression parse(String spec) {
        Objects.requireNonNull(spec, "codec");
        String s = spec.trim().toLowerCase(Locale.ROOT);
        String base = s;
        Integer level = null;
        int colon = s.indexOf(':');
        if (colon >= 0) {
            base = s.substring(0, colon);
            try {
                level = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw invalid(spec);
            }
        }
        switch (base) {
            case "zstd":
            case "zstandard":
                return level == null ? DEFAULT : zstd(level);
            case "deflate":
                return deflate(level == null ? 1 : level);
            case "snappy":
                if (level != null) {
                    throw invalid(spec);
                }
                return SNAPPY;
            case "null":
            case "none":
                if (level != null) {
                    throw invalid(spec);
                }
                return NONE;
            default:
                throw invalid(spec);
        }
    }

    private static IllegalArgumentException invalid(String spec) {
        return new IllegalArgumentException("unknown codec '" + spec
                + "': expected zstd[:LEVEL], snappy, deflate[:LEVEL] or none");
    }

    /** The Avro codec name written in the file header ("zstandard", "snappy", "deflate", "null"). */
    public String avroName() {
        return name;
    }

    public int level() {
        return level;
    }

    public CodecFactory codecFactory() {
        switch (name) {
            case "zstandard":
                // no per-block checksum (Avro's sync markers and the datum decoder catch corruption); buffer pool on,
                // so that a block does not allocate fresh native-sized buffers
                return CodecFactory.zstandardCodec(level, false, true);
            case "deflate":
                return CodecFactory.deflateCodec(level);
            case "snappy":
                return CodecFactory.snappyCodec();
            default:
                return CodecFactory.nullCodec();
        }
    }

    /** The spec that {@link #parse} reads back: "zstd:1", "deflate:1", "snappy", "none". */
    @Override
    public String toString() {
        switch (name) {
            case "zstandard":
                return "zstd:" + level;
            case "deflate":
                return "deflate:" + level;
            case "snappy":
                return "snappy";
            default:
                return "none";
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AvroCompression && ((AvroCompression) o).name.equals(name)
                && ((AvroCompression) o).level == level;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + level;
    }
}
