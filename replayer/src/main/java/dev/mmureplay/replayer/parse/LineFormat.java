package dev.mmureplay.replayer.parse;

/** Which tool printed a line; detected per line from its layout (see {@link TraceLineParser}). */
public enum LineFormat {
    /** The kernel's tracefs {@code trace} / {@code trace_pipe} text (kernel/trace/trace_output.c). */
    TRACEFS,
    /** {@code trace-cmd report} default output (tracecmd/trace-read.c + libtraceevent). */
    TRACE_CMD
}
