package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A loop whose selector cannot be opened (file descriptors exhausted) fails with that cause and
 * leaves its thread unbound: a retry reports the same cause, not "one loop per thread". Checked in
 * a child JVM whose {@code SelectorProvider} always fails.
 */
@Timeout(60)
class ConstructorFailureTest {

    @Test
    void failedConstructorLeavesTheThreadWithoutALoop() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1",
                "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-Djava.nio.channels.spi.SelectorProvider=" + FailingSelectorProvider.class.getName(),
                "-cp", System.getProperty("java.class.path"),
                ConstructorFailureProbe.class.getName());
        Path out = Files.createTempFile("ctor-probe", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(40, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("probe JVM did not finish");
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), output);
            for (int attempt = 1; attempt <= 2; attempt++) {
                assertTrue(output.contains("attempt " + attempt + ": java.io.UncheckedIOException"),
                        "attempt " + attempt + " fails with the selector's error:\n" + output);
                assertTrue(output.contains("current after attempt " + attempt + ": null"),
                        "the thread is not left bound to a half-built loop:\n" + output);
            }
            assertTrue(output.contains("Too many open files (simulated)"), output);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
