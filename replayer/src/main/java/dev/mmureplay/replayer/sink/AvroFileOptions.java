package dev.mmureplay.replayer.sink;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How an Avro container file is written: codec, block size, header metadata, and whether encoding + compression run
 * on a background writer thread. Immutable; {@code with...} return copies.
 *
 * <p>Defaults (chosen by measurement, see {@code docs/benchmarks.md} / {@code AvroCodecBenchTest}): codec
 * {@link AvroCompression#DEFAULT}, 1 MiB blocks, and a background writer thread when the machine has more than one
 * core. The caller always encodes records into the current block (so they may change afterwards); with the background
 * thread, full blocks are compressed and written there, overlapping with the caller's parsing.
 */
public final class AvroFileOptions {

    /** 1 MiB: large blocks compress better and amortize per-block costs; memory stays a few MiB. */
    public static final int DEFAULT_SYNC_INTERVAL = 1 << 20;

    private final AvroCompression compression;
    private final int syncIntervalBytes;
    private final Map<String, String> metadata;
    private final boolean background;

    private AvroFileOptions(AvroCompression compression, int syncIntervalBytes, Map<String, String> metadata,
                            boolean background) {
        this.compression = Objects.requireNonNull(compression, "compression");
        if (syncIntervalBytes < 32 || syncIntervalBytes > (1 << 30)) {
            throw new IllegalArgumentException("sync interval must be in 32..2^30 bytes, not " + syncIntervalBytes);
        }
        this.syncIntervalBytes = syncIntervalBytes;
        this.metadata = Map.copyOf(metadata);
        for (String key : metadata.keySet()) {
            if (key.startsWith("avro.")) {
                throw new IllegalArgumentException("metadata key " + key + " is reserved by Avro");
            }
        }
        this.background = background;
    }

    public static AvroFileOptions defaults() {
        return new AvroFileOptions(AvroCompression.DEFAULT, DEFAULT_SYNC_INTERVAL, Map.of(),
                Runtime.getRuntime().availableProcessors() > 1);
    }

    public AvroFileOptions withCompression(AvroCompression c) {
        return new AvroFileOptions(c, syncIntervalBytes, metadata, background);
    }

    public AvroFileOptions withSyncInterval(int bytes) {
        return new AvroFileOptions(compression, bytes, metadata, background);
    }

    /** Replaces the user metadata of the file header (keys must not start with "avro."). */
    public AvroFileOptions withMetadata(Map<String, String> m) {
        return new AvroFileOptions(compression, syncIntervalBytes, m, background);
    }

    public AvroFileOptions withMetadata(String key, String value) {
        Map<String, String> m = new LinkedHashMap<>(metadata);
        m.put(key, value);
        return new AvroFileOptions(compression, syncIntervalBytes, m, background);
    }

    /** Whether a background thread compresses and writes the full blocks. */
    public AvroFileOptions withBackgroundWriter(boolean b) {
        return new AvroFileOptions(compression, syncIntervalBytes, metadata, b);
    }

    public AvroCompression compression() {
        return compression;
    }

    public int syncIntervalBytes() {
        return syncIntervalBytes;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public boolean backgroundWriter() {
        return background;
    }

    @Override
    public String toString() {
        return "AvroFileOptions{codec=" + compression + ", block=" + syncIntervalBytes + ", background=" + background
                + ", metadata=" + metadata.keySet() + "}";
    }
}
