package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test's helper process: {@code main} of a class of this package in a fresh JVM, under a
 * {@code ulimit -n} of its own, driven by lines on its stdin and answering on its stdout (the
 * pattern of {@link AcceptorEmfileTest}). Its stderr goes to a temporary file, shown in failure
 * messages. {@link #close()} sends {@code quit}, waits, and kills it if it does not end.
 */
final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final Path stderr;
    private final PrintWriter toChild;
    private final BlockingQueue<String> fromChild = new LinkedBlockingQueue<>();

    /**
     * Starts {@code mainClass} with {@code args} under {@code ulimit -n fdLimit} and heap
     * {@code xmx} (a JVM option such as {@code -Xmx256m}). Only the class directories and Agrona of
     * this JVM's class path are passed on.
     */
    ChildJvm(Class<?> mainClass, int fdLimit, String xmx, String... args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        StringBuilder cp = new StringBuilder();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (new File(e).isDirectory() || new File(e).getName().startsWith("agrona")) {
                cp.append(cp.length() == 0 ? "" : File.pathSeparator).append(e);
            }
        }
        StringBuilder command = new StringBuilder("ulimit -n ").append(fdLimit).append(" && exec ")
                .append(quote(java))
                .append(" --add-opens java.base/jdk.internal.misc=ALL-UNNAMED")
                .append(" ").append(xmx)
                .append(" -XX:+UseSerialGC -XX:-UsePerfData -XX:AutoBoxCacheMax=65536")
                .append(" -cp ").append(quote(cp.toString()))
                .append(" ").append(mainClass.getName());
        for (String a : args) {
            command.append(' ').append(quote(a));
        }
        stderr = Files.createTempFile("muduo4j-child", ".err");
        process = new ProcessBuilder("bash", "-c", command.toString())
                .redirectError(stderr.toFile())
                .start();
        toChild = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (var in = process.inputReader(StandardCharsets.UTF_8)) {
                String line;
                while ((line = in.readLine()) != null) {
                    fromChild.add(line);
                }
            } catch (IOException e) {
                // the child ended
            }
        }, "child-stdout-" + mainClass.getSimpleName());
        reader.setDaemon(true);
        reader.start();
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** The next line the child prints; fails after {@code seconds}. */
    String readLine(long seconds, String what) throws InterruptedException {
        String line = fromChild.poll(seconds, TimeUnit.SECONDS);
        if (line == null) {
            fail("no " + what + " from the child within " + seconds + " s: " + info());
        }
        return line;
    }

    /** Sends {@code command} and returns the child's one-line answer. */
    String ask(String command, long seconds) throws InterruptedException {
        toChild.println(command);
        return readLine(seconds, "answer to '" + command + "'");
    }

    Process process() {
        return process;
    }

    /** Whether it is alive, its exit value, and its stderr so far. */
    String info() {
        String err;
        try {
            err = Files.readString(stderr);
        } catch (IOException e) {
            err = "<" + e + ">";
        }
        return "child " + (process.isAlive() ? "alive" : "exited " + process.exitValue()) + ", stderr:\n" + err;
    }

    String stderr() throws IOException {
        return Files.readString(stderr);
    }

    @Override
    public void close() throws Exception {
        try {
            toChild.println("quit");
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            Files.deleteIfExists(stderr);
        }
    }
}
