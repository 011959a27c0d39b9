package dev.mmureplay.replayer.parse;

import java.nio.charset.StandardCharsets;

/**
 * A forward-only reader over one payload's bytes (ASCII), the only way payload rules look at text. Every method
 * either consumes exactly what the kernel's format prints or throws a {@link TraceParseException} whose message
 * names the event and the field: {@code "<event>: bad hex in <field> '<token>'"}. No regex, no String.split, no
 * allocation on the success path except the values themselves.
 *
 * <p>A <em>token</em> is a maximal run of {@code [0-9A-Za-z_]} bytes: the printf conversions of the trace formats
 * (%x, %llx, %u, %d) print nothing else, and every separator of the formats (space, ':', '|', '(', ')') ends one.
 */
final class Cursor {

    private static final int SNIPPET = 40;

    byte[] b;
    int pos;
    int end;
    /** Event name used as the prefix of error reasons. */
    String event;

    Cursor reset(byte[] buf, int from, int to, String eventName) {
        this.b = buf;
        this.pos = from;
        this.end = to;
        this.event = eventName;
        return this;
    }

    boolean atEnd() {
        return pos >= end;
    }

    int remaining() {
        return end - pos;
    }

    byte peek() {
        return b[pos];
    }

    TraceParseException fail(String detail) {
        return new TraceParseException(event + ": " + detail);
    }

    // ------------------------------------------------------------------ literals

    /** True (and consumed) when the next bytes are exactly lit. */
    boolean tryLit(byte[] lit) {
        int n = lit.length;
        if (end - pos < n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (b[pos + i] != lit[i]) {
                return false;
            }
        }
        pos += n;
        return true;
    }

    boolean tryByte(byte c) {
        if (pos < end && b[pos] == c) {
            pos++;
            return true;
        }
        return false;
    }

    /** Consumes lit or fails with "expected 'lit' at '...'" ("truncated: ..." when the payload ends first). */
    void lit(byte[] lit) throws TraceParseException {
        if (!tryLit(lit)) {
            throw expected(lit);
        }
    }

    TraceParseException expected(byte[] lit) {
        String what = new String(lit, StandardCharsets.US_ASCII);
        if (pos >= end) {
            return fail("truncated: expected '" + what + "' but the payload ends");
        }
        int n = end - pos;
        boolean prefix = n < lit.length;
        for (int i = 0; prefix && i < n; i++) {
            prefix = b[pos + i] == lit[i];
        }
        if (prefix) {
            return fail("truncated: expected '" + what + "' but the payload ends with '" + snippet(pos) + "'");
        }
        return fail("expected '" + what + "' at '" + snippet(pos) + "'");
    }

    /** Fails unless the whole payload has been consumed. */
    void end() throws TraceParseException {
        if (pos < end) {
            throw fail("unexpected trailing text '" + snippet(pos) + "'");
        }
    }

    // ------------------------------------------------------------------ tokens

    private static final boolean[] TOKEN = new boolean[256];

    static {
        for (int c = 0; c < 256; c++) {
            TOKEN[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        }
    }

    static boolean isTokenByte(byte c) {
        return TOKEN[c & 0xff];
    }

    private int tokenEnd(int from) {
        int i = from;
        while (i < end && isTokenByte(b[i])) {
            i++;
        }
        return i;
    }

    /** Bytes up to the next space (or the end): a printed %s word. Fails when empty. */
    int wordEnd(String field) throws TraceParseException {
        int i = pos;
        while (i < end && b[i] != ' ') {
            i++;
        }
        if (i == pos) {
            throw missing(field);
        }
        return i;
    }

    /** A printed %s word as a String (up to the next space). */
    String word(String field) throws TraceParseException {
        int e = wordEnd(field);
        String s = new String(b, pos, e - pos, StandardCharsets.UTF_8);
        pos = e;
        return s;
    }

    private TraceParseException missing(String field) {
        if (pos >= end) {
            return fail("truncated: no " + field);
        }
        return fail("missing " + field + " at '" + snippet(pos) + "'");
    }

    // ------------------------------------------------------------------ numbers

    /** Hex digit values, -1 for other bytes (as {@link #hexDigit}). */
    private static final byte[] HEX = new byte[256];

    static {
        for (int c = 0; c < 256; c++) {
            HEX[c] = (byte) hexDigit((byte) c);
        }
    }

    /** %x / %llx: 1 to 16 hex digits, no prefix; the value as an unsigned 64-bit pattern. */
    long hex(String field) throws TraceParseException {
        // Fast path, one pass: up to 16 digits that end the token, as %llx prints them. Anything else (no digit, a
        // longer or bad token) goes the exact way below, which finds the token first and names what is wrong.
        int i = pos;
        int lim = Math.min(end, pos + 16);
        long v = 0;
        while (i < lim) {
            int d = HEX[b[i] & 0xff];
            if (d < 0) {
                break;
            }
            v = (v << 4) | d;
            i++;
        }
        if (i > pos && (i == end || !isTokenByte(b[i]))) {
            pos = i;
            return v;
        }
        return hexToken(field);
    }

    private long hexToken(String field) throws TraceParseException {
        int e = tokenEnd(pos);
        if (e == pos) {
            throw missingNumber(field, "hex");
        }
        long v = hexValue(pos, e, field);
        pos = e;
        return v;
    }

    /** "0x%llx": the 0x prefix is part of the format. */
    long hex0x(String field) throws TraceParseException {
        int e = tokenEnd(pos);
        if (e - pos < 3 || b[pos] != '0' || b[pos + 1] != 'x') {
            if (e == pos) {
                throw missingNumber(field, "hex");
            }
            throw fail("bad hex in " + field + " '" + token(pos, e) + "' (expected 0x prefix)");
        }
        long v = hexValue(pos + 2, e, field);
        pos = e;
        return v;
    }

    /** %#llx (0x prefix except for zero) or a field printed sometimes with, sometimes without 0x. */
    long hexOpt0x(String field) throws TraceParseException {
        int e = tokenEnd(pos);
        if (e == pos) {
            throw missingNumber(field, "hex");
        }
        int from = pos;
        if (e - pos >= 3 && b[pos] == '0' && b[pos + 1] == 'x') {
            from += 2;
        }
        long v = hexValue(from, e, field);
        pos = e;
        return v;
    }

    private long hexValue(int from, int to, String field) throws TraceParseException {
        int n = to - from;
        if (n > 16) {
            // leading zeros are harmless ("0x%016llx" prints at least 16 digits, never more than 16 significant)
            int z = from;
            while (z < to - 16 && b[z] == '0') {
                z++;
            }
            if (to - z > 16) {
                throw fail("hex value too long in " + field + " '" + token(pos, to) + "'");
            }
            from = z;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = hexDigit(b[i]);
            if (d < 0) {
                throw fail("bad hex in " + field + " '" + token(pos, to) + "'");
            }
            v = (v << 4) | d;
        }
        return v;
    }

    static int hexDigit(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /** %d / %u / %lld: optional '-', decimal digits, within the long range. */
    long dec(String field) throws TraceParseException {
        // Fast path, one pass: up to 18 digits (no overflow possible) that end the token; anything else goes the
        // exact way below
        int i = pos;
        boolean minus = i < end && b[i] == '-';
        if (minus) {
            i++;
        }
        int from = i;
        int lim = Math.min(end, from + 18);
        long v = 0;
        while (i < lim) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                break;
            }
            v = v * 10 + d;
            i++;
        }
        if (i > from && (i == end || !isTokenByte(b[i]))) {
            pos = i;
            return minus ? -v : v;
        }
        return decToken(field);
    }

    private long decToken(String field) throws TraceParseException {
        int start = pos;
        boolean neg = pos < end && b[pos] == '-';
        int from = neg ? pos + 1 : pos;
        int e = tokenEnd(from);
        if (e == from) {
            if (neg) {
                throw fail("bad decimal in " + field + " '-'");
            }
            throw missingNumber(field, "decimal");
        }
        long v = 0;
        for (int i = from; i < e; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                throw fail("bad decimal in " + field + " '" + token(start, e) + "'");
            }
            if (v > (Long.MAX_VALUE - d) / 10) {
                throw fail("decimal out of range in " + field + " '" + token(start, e) + "'");
            }
            v = v * 10 + d;
        }
        pos = e;
        return neg ? -v : v;
    }

    /** A decimal that must fit a Java int (pids, levels, counts, errnos). */
    int decInt(String field) throws TraceParseException {
        int start = pos;
        long v = dec(field);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw fail("decimal out of range in " + field + " '" + token(start, pos) + "'");
        }
        return (int) v;
    }

    /** %x of a 32-bit field stored as int (e.g. a port number or a CR number). */
    int hexInt(String field) throws TraceParseException {
        int start = pos;
        long v = hex(field);
        if ((v >>> 32) != 0) {
            throw fail("hex out of range in " + field + " '" + token(start, pos) + "'");
        }
        return (int) v;
    }

    /** %d printed for a bool-valued expression: exactly 0 or 1. */
    boolean bit(String field) throws TraceParseException {
        int start = pos;
        long v = dec(field);
        if (v != 0 && v != 1) {
            throw fail("expected 0 or 1 in " + field + " '" + token(start, pos) + "'");
        }
        return v == 1;
    }

    private TraceParseException missingNumber(String field, String kind) {
        if (pos >= end) {
            return fail("truncated: no " + field);
        }
        int e = pos;
        while (e < end && b[e] != ' ' && e - pos < SNIPPET) {
            e++;
        }
        if (e == pos) {
            e = Math.min(end, pos + 1);
        }
        return fail("bad " + kind + " in " + field + " '" + token(pos, e) + "'");
    }

    // ------------------------------------------------------------------ messages

    String token(int from, int to) {
        return render(b, from, Math.min(to, from + SNIPPET)) + (to - from > SNIPPET ? "..." : "");
    }

    String snippet(int from) {
        return token(from, end);
    }

    /** Printable ASCII as is; anything else as \xNN, so reasons stay one readable line. */
    static String render(byte[] buf, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from + 8);
        for (int i = from; i < to; i++) {
            int c = buf[i] & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '\\') {
                sb.append((char) c);
            } else if (c == '\\') {
                sb.append("\\\\");
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.toString();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
