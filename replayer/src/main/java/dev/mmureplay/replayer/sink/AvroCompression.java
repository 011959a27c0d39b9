package dev.mmureplay.replayer.sink;

import org.apache.avro.file.CodecFactory;

import java.util.Locale;
import java.util.Objects;

/**
 * The block compression of an Avro object container file, parsed from a {@code --codec} value:
 * {@code zstd} / {@code zstd:LEVEL} (zstandard, levels -5..22), {@code snappy}, {@code deflate} /
 * {@code deflate:LEVEL} (1..9), {@code null} / {@code none}.
 *
 * <p>The default, {@code zstd:1}, was chosen by measurement: compression time per event (measured around the
 * compress call while ingesting the benchmark trace, 1 MiB blocks of ~77 encoded bytes per event, one core of the
 * 2-vCPU development VM) and file bytes per event: none 0 ns / 77 B, snappy 61 ns / 15.5 B, zstd:-1 83 ns / 11.0 B,
 * <b>zstd:1 92 ns / 9.5 B</b>, zstd:3 146 ns / 8.7 B, deflate:1 330 ns / 10.9 B. zstd:1 costs ~30 ns per event more
 * than snappy for files 39% smaller; deflate is both slower and larger. Compression is about a third of ingest's CPU
 * time per line (see docs/benchmarks.md); with the background writer ({@link AvroFileOptions}) it runs beside the
 * parsing when there is a second core. {@code snappy} and {@code deflate} are the most widely supported if another
 * tool must read the files. Levels &lt;= 1 use a smaller zstd hash table and window (see {@link BlockCodec}).
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
