package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every example in the README compiles against this build and prints what it promises. */
@Timeout(120)
class ReadmeExampleTest {
    /** Each example class the README has, and the lines it prints. */
    private static final Map<String, List<String>> EXPECTED = Map.of(
            "EchoExample", List.of("hello, muduo4j"),
            "ConnectNowExample", List.of("sent before any callback ran"),
            "RelayExample", List.of("relayed 16777216 bytes intact"));

    @Test
    void readmeExamplesCompileAndRun(@TempDir Path dir) throws Exception {
        Path readme = Path.of("..", "README.md");
        String text = Files.readString(readme, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(text);
        Set<String> seen = new HashSet<>();
        while (m.find()) {
            String source = m.group(1);
            Matcher cls = Pattern.compile("public class (\\w+)").matcher(source);
            assertTrue(cls.find(), "every java block of the README declares a public class");
            String className = cls.group(1);
            assertTrue(EXPECTED.containsKey(className), "an example this test does not know: " + className);
            seen.add(className);
            assertEquals(EXPECTED.get(className), compileAndRun(dir, className, source), className + " prints");
        }
        assertEquals(EXPECTED.keySet(), seen, "examples in the README");
    }

    private static List<String> compileAndRun(Path dir, String className, String source) throws Exception {
        Path file = dir.resolve(className + ".java");
        Files.writeString(file, source, StandardCharsets.UTF_8);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "tests need a JDK");
        String cp = System.getProperty("java.class.path");
        int rc = javac.run(null, null, null, "-d", dir.toString(), "-cp", cp, file.toString());
        assertEquals(0, rc, className + " compiles");

        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", dir + File.pathSeparator + cp, className)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), className + " finishes");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), className + " exit code");
        return out.lines().toList();
    }
}
