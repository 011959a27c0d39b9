package dev.mmureplay.replayer.sink;

import java.io.IOException;
import java.util.List;

/** Helpers shared by the sinks. */
final class Sinks {

    private Sinks() {
    }

    interface IoAction<S> {
        void run(S sink) throws IOException;
    }

    /** Runs the action on every sink, then throws the first failure with the later ones suppressed. */
    static <S> void forAll(List<S> sinks, IoAction<? super S> action) throws IOException {
        Throwable first = null;
        for (S s : sinks) {
            try {
                action.run(s);
            } catch (IOException | RuntimeException | Error e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first instanceof IOException) {
            throw (IOException) first;
        }
        if (first instanceof RuntimeException) {
            throw (RuntimeException) first;
        }
        if (first instanceof Error) {
            throw (Error) first;
        }
    }
}
