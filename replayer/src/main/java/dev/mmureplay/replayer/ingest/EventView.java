package dev.mmureplay.replayer.ingest;

import dev.mmureplay.avro.Source;
import dev.mmureplay.avro.TraceEvent;

/**
 * One event's fields as {@link Ingest} has them, before (and, for sinks that can, instead of) a {@link TraceEvent}
 * with its {@link Source}: the same values, field for field. Ingest reuses one instance for every event, so a sink
 * must use it within {@link EventSink#accept(EventView)} and not keep it; {@link #toTraceEvent()} makes a record
 * that can be kept.
 *
 * <p>Why: building a TraceEvent, a Source and their boxed numbers for every line, only for a file sink to take them
 * apart again, was a large share of ingest's cost per line; the Avro file and Kafka sinks encode straight from here.
 */
public final class EventView {

    String vm;
    int vcpu;
    long seq;
    long timestampNs;
    String task;
    int pid;
    boolean hasTgid;
    int tgid;
    int cpu;
    String irqFlags;
    String origin;
    long line;
    Object payload;

    /** An empty view, for sinks' tests; Ingest fills its own. */
    public EventView() {
    }

    /** A view of an existing event (tests; the Avro writer's byte-identity check). */
    public static EventView of(TraceEvent e) {
        EventView v = new EventView();
        Source s = e.getSource();
        v.vm = e.getVm();
        v.vcpu = e.getVcpu();
        v.seq = e.getSeq();
        v.timestampNs = e.getTimestampNs();
        v.task = s.getTask();
        v.pid = s.getPid();
        v.hasTgid = s.getTgid() != null;
        v.tgid = v.hasTgid ? s.getTgid() : 0;
        v.cpu = s.getCpu();
        v.irqFlags = s.getIrqFlags();
        v.origin = s.getOrigin();
        v.line = s.getLine();
        v.payload = e.getPayload();
        return v;
    }

    /** The equal TraceEvent (a new record, safe to keep). */
    public TraceEvent toTraceEvent() {
        return new TraceEvent(vm, vcpu, seq, timestampNs,
                new Source(task, pid, hasTgid ? Integer.valueOf(tgid) : null, cpu, irqFlags, origin, line), payload);
    }

    public String vm() {
        return vm;
    }

    public int vcpu() {
        return vcpu;
    }

    public long seq() {
        return seq;
    }

    public long timestampNs() {
        return timestampNs;
    }

    public String task() {
        return task;
    }

    public int pid() {
        return pid;
    }

    /** Whether Source.tgid is set (else null). */
    public boolean hasTgid() {
        return hasTgid;
    }

    public int tgid() {
        return tgid;
    }

    public int cpu() {
        return cpu;
    }

    /** Source.irqFlags: null when the line had no flag columns. */
    public String irqFlags() {
        return irqFlags;
    }

    public String origin() {
        return origin;
    }

    public long line() {
        return line;
    }

    /** The payload record (a typed record of dev.mmureplay.avro, or a GenericEvent); shared, not copied. */
    public Object payload() {
        return payload;
    }

    @Override
    public String toString() {
        return toTraceEvent().toString();
    }
}
