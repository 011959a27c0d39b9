package dev.mmureplay.testing;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/** Stops the JVM's embedded broker when the test run ends, before JVM shutdown (see EmbeddedKafka#closeIfStarted). */
public final class EmbeddedKafkaSessionListener implements LauncherSessionListener {

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        EmbeddedKafka.closeIfStarted();
    }
}
