package dev.mmureplay.replayer.parse;

/**
 * A line does not have the shape its format promises. The message is the dead-letter reason, e.g.
 * {@code "kvm_mmu_set_spte: bad hex in spte 'xyz'"}. Thrown only on the error path, so it carries no stack trace.
 */
final class TraceParseException extends Exception {

    TraceParseException(String reason) {
        super(reason, null, false, false);
    }
}
