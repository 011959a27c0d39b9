package dev.mmureplay.model;

import dev.mmureplay.model.event.ModelEvent;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * TEST HELPER: writes the committed golden v2 snapshot that {@code SnapshotTest.goldenV2SnapshotRestoresAndReplays}
 * restores (the cross-version guarantee: every future reader must keep restoring it). Not run by the build.
 *
 * <p>The golden state is {@value #TRACE} replayed up to event {@value #CUT} under {@code upstream} and
 * {@link ModelConfig#DEFAULT} (8 queued predictions, a finished fault, 15 live SPTEs). Regenerate only when the
 * model's <em>behaviour</em> changes (the recorded digests then no longer hold), never for a format change — a new
 * format version gets its own golden file next to this one:
 * <pre>
 * ./mvnw -B -ntp -o -pl mmu-model test-compile
 * java -cp mmu-model/target/classes:mmu-model/target/test-classes dev.mmureplay.model.SnapshotGolden \
 *      mmu-model/src/test/resources/snapshots
 * </pre>
 * It writes {@code v2-long_user_memslot-407.snap} and {@code .properties} (trace, cut, digest at the cut, final
 * digest of the uninterrupted run).
 */
public final class SnapshotGolden {

    static final String TRACE = "long_user_memslot.trace";
    static final int CUT = 407;
    static final String NAME = "v2-long_user_memslot-" + CUT;

    private SnapshotGolden() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "mmu-model/src/test/resources/snapshots");
        List<ModelEvent> events = TraceLines.resource(TRACE);
        MmuStateMachine m = MmuStateMachine.create(Profile.UPSTREAM, ModelConfig.DEFAULT);
        for (ModelEvent e : events.subList(0, CUT)) {
            m.apply(e);
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        m.writeSnapshot(new DataOutputStream(b));
        long atCut = m.digest();
        for (ModelEvent e : events.subList(CUT, events.size())) {
            m.apply(e);
        }
        Files.createDirectories(dir);
        Files.write(dir.resolve(NAME + ".snap"), b.toByteArray());
        String props = "# golden v2 snapshot, written by dev.mmureplay.model.SnapshotGolden (see its javadoc)\n"
                + "trace=" + TRACE + "\n"
                + "cut=" + CUT + "\n"
                + "profile=upstream\n"
                + "config=DEFAULT\n"
                + "digestAtCut=" + Long.toHexString(atCut) + "\n"
                + "finalDigest=" + Long.toHexString(m.digest()) + "\n";
        Files.writeString(dir.resolve(NAME + ".properties"), props, StandardCharsets.UTF_8);
        System.out.println("wrote " + dir.resolve(NAME + ".snap") + " (" + b.size() + " B)");
    }
}
