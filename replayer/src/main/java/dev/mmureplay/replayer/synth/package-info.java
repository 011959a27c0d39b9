/**
 * The synthetic trace generator behind {@code mmu-replay synth}: scenarios that write raw tracefs text (the layout
 * of a real {@code /sys/kernel/tracing/trace} file, kvm/kvmmmu TP_printk payloads), so synthetic traces go through
 * the same parser, ingest and model as recorded ones.
 *
 * <ul>
 *   <li>{@link dev.mmureplay.replayer.synth.Synth} — the entry point and scenario registry.</li>
 *   <li>{@link dev.mmureplay.replayer.synth.TraceWriter} — line layout, header, timestamps, exact event count.</li>
 *   <li>{@link dev.mmureplay.replayer.synth.Kvm} — one method per tracepoint text.</li>
 *   <li>Scenarios: {@code scale} (boot-like first-touch faults at any length in constant memory, conformance
 *       ≥ 0.99 under the upstream model) and one per seed behaviour: {@code mmio-gen}, {@code mmio-gen-wrap}, {@code pae-toggle},
 *       {@code nonpaging-pae}, {@code nx-recovery}, {@code private-fault}.</li>
 * </ul>
 *
 * <p>Determinism: same scenario + event count + seed → same bytes. Randomness comes only from
 * {@link java.util.SplittableRandom} seeded with the seed; no clock, no hash iteration, no static mutable state.
 */
package dev.mmureplay.replayer.synth;
