package dev.mmureplay.model.mmu;

/**
 * An order-sensitive 64-bit hash accumulator with a fixed, platform-independent definition (multiply / xor-shift
 * mixing on {@code long}s only): equal inputs in equal order give equal digests on every JVM and machine.
 */
public final class Digest {

    private long h = 0x6A09E667F3BCC908L;
    private long n;

    /** Mixes one value in; the position matters. */
    public Digest add(long v) {
        n++;
        long x = v + n * 0x9E3779B97F4A7C15L;
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        x ^= x >>> 31;
        h = Long.rotateLeft(h ^ x, 27) * 0x9E3779B97F4A7C15L + 0x52DCE729L;
        return this;
    }

    public Digest add(boolean b) {
        return add(b ? 1 : 0);
    }

    public long value() {
        long x = h ^ n;
        x = (x ^ (x >>> 33)) * 0xFF51AFD7ED558CCDL;
        x = (x ^ (x >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return x ^ (x >>> 33);
    }
}
