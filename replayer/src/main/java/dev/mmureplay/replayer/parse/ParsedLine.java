package dev.mmureplay.replayer.parse;

/**
 * The result of parsing one line: an event, a line to skip, or an error with its reason. One instance is reused by
 * its {@link TraceLineParser}: read it before parsing the next line.
 */
public final class ParsedLine {

    /** What a line turned out to be. */
    public enum Kind { EVENT, SKIP, ERROR }

    Kind kind;
    // EVENT
    TaskInfo task;
    int pid;
    int tgid;
    boolean hasTgid;
    int cpu;
    String irqFlags;
    long timestampNs;
    String eventName;
    Object payload;
    int payloadVcpu;
    LineFormat format;
    // SKIP
    String skipReason;
    long lostEvents;
    // ERROR
    String errorReason;

    void clear() {
        task = null;
        hasTgid = false;
        irqFlags = null;
        eventName = null;
        payload = null;
        payloadVcpu = -1;
        format = null;
        skipReason = null;
        lostEvents = 0;
        errorReason = null;
    }

    public Kind kind() {
        return kind;
    }

    /** The task (comm) and what its name tells: a QEMU vCPU thread, a kernel thread. */
    public TaskInfo task() {
        return task;
    }

    public String taskName() {
        return task == null ? null : task.name();
    }

    public int pid() {
        return pid;
    }

    /** Whether the line printed a known tgid (record-tgid column with a number, not "(-------)"). */
    public boolean hasTgid() {
        return hasTgid;
    }

    public int tgid() {
        return tgid;
    }

    public Integer tgidOrNull() {
        return hasTgid ? tgid : null;
    }

    public int cpu() {
        return cpu;
    }

    /** The irq-info flag columns as printed ("...1.", 4 or 5 characters), or null when the line has none. */
    public String irqFlags() {
        return irqFlags;
    }

    public long timestampNs() {
        return timestampNs;
    }

    /**
     * The event name: the tracepoint of a typed payload ("tracing_mark_write" for markers, also when trace-cmd
     * printed them as "print"), else the name as printed.
     */
    public String eventName() {
        return eventName;
    }

    /** A typed record of dev.mmureplay.avro, or a GenericEvent. */
    public Object payload() {
        return payload;
    }

    /** vCPU index: n of a task "CPU n/KVM", else the payload's vcpu field when it has one, else -1. */
    public int vcpu() {
        if (task != null && task.vcpu() >= 0) {
            return task.vcpu();
        }
        return payloadVcpu;
    }

    public LineFormat format() {
        return format;
    }

    /** Why a SKIP line carries no event (e.g. "comment", "blank", "trace-cmd header", "lost events"). */
    public String skipReason() {
        return skipReason;
    }

    /** For a SKIP line that reports lost events ("CPU:1 [LOST 42 EVENTS]"): how many, else 0. */
    public long lostEvents() {
        return lostEvents;
    }

    /** For an ERROR line: the reason, e.g. "kvm_mmu_set_spte: bad hex in spte 'xyz'". */
    public String errorReason() {
        return errorReason;
    }

    @Override
    public String toString() {
        switch (kind) {
            case SKIP: return "SKIP(" + skipReason + ")";
            case ERROR: return "ERROR(" + errorReason + ")";
            default:
                return "EVENT(" + taskName() + "-" + pid + (hasTgid ? " (" + tgid + ")" : "") + " [" + cpu + "] "
                        + (irqFlags == null ? "" : irqFlags + " ") + timestampNs + " " + eventName + ": " + payload + ")";
        }
    }
}
