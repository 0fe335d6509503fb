package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Agrona 2.x needs {@code --add-opens java.base/jdk.internal.misc=ALL-UNNAMED}: without it the
 * library fails fast, at the first {@code new EventLoop()}, with a message naming the flag (not an
 * obscure {@code IllegalAccessError} deep in a queue). Checked in a child JVM launched without the
 * flag; the same child launched with it succeeds.
 */
@Timeout(60)
class AddOpensFailFastTest {
    private static final String FLAG = "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED";

    private record Result(int exit, String output) {
    }

    private static Result runProbe(boolean withFlag) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xshare:auto");
        cmd.add("-XX:TieredStopAtLevel=1"); // a short-lived child: start fast
        if (withFlag) {
            cmd.add("--add-opens");
            cmd.add("java.base/jdk.internal.misc=ALL-UNNAMED");
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(AddOpensProbe.class.getName());
        Path out = Files.createTempFile("addopens-probe", ".txt");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().remove("JDK_JAVA_OPTIONS"); // the flag must not sneak in from outside
            pb.environment().remove("JAVA_TOOL_OPTIONS");
            Process p = pb.start();
            if (!p.waitFor(40, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("probe JVM did not finish");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test
    void withoutTheFlagTheFirstLoopFailsNamingIt() throws Exception {
        Result r = runProbe(false);
        assertEquals(2, r.exit(), "both attempts must fail without the flag:\n" + r.output());
        for (String line : r.output().lines().filter(l -> l.startsWith("attempt ")).toList()) {
            assertTrue(line.contains(FLAG), "the error names the flag: " + line);
        }
        assertFalse(r.output().contains("created"), r.output());
    }

    @Test
    void withTheFlagTheSameProbeSucceeds() throws Exception {
        Result r = runProbe(true);
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("attempt 1: created") && r.output().contains("attempt 2: created"),
                r.output());
    }
}
