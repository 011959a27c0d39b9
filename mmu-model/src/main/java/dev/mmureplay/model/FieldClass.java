package dev.mmureplay.model;

/** How a recorded field takes part in conformance. See {@link Field} for the one table that assigns them. */
public enum FieldClass {
    /** Predicted by the model's rules and compared; a difference is a mismatch. */
    EXACT,
    /** Chosen by the host or the guest outside the trace; adopted from the recording, never counted. */
    LEARNED,
    /** Not compared (host addresses, redundant text). */
    IGNORED
}
