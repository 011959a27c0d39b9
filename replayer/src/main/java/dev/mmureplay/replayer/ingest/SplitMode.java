package dev.mmureplay.replayer.ingest;

/** How ingest decides which VM a line belongs to (see {@link Ingest} for the rules). */
public enum SplitMode {
    /** One VM per input (or one VM for all inputs with --vm). */
    NONE,
    /** One VM per VMM process: the record-tgid column; kernel-thread lines join the VM they work for. */
    TGID
}
