package io.muduo4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** The {@code main}s as the README runs them: separate JVMs, arguments, standard input and output. */
@Timeout(120)
class ExampleMainsTest {
    private static final Pattern LISTENING = Pattern.compile(".* listening on ([0-9.]+):(\\d+) \\(transport (nio|epoll)\\)");

    /** A child JVM running one example's {@code main}; killed on close. */
    private static final class Child implements AutoCloseable {
        final Process process;
        final PrintWriter stdin;
        final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();

        Child(Class<?> main, String... args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xmx64m",
                    "-cp", System.getProperty("java.class.path"), main.getName()));
            cmd.addAll(List.of(args));
            process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (var in = process.inputReader(StandardCharsets.UTF_8)) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        stdout.add(line);
                    }
                } catch (IOException e) {
                    // the child ended
                }
            }, "stdout-" + main.getSimpleName());
            reader.setDaemon(true);
            reader.start();
        }

        String line(String what) throws InterruptedException {
            String l = stdout.poll(30, TimeUnit.SECONDS);
            if (l == null) {
                fail("no " + what + " within 30 s (child " + (process.isAlive() ? "alive" : "exited " + process.exitValue()) + ")");
            }
            return l;
        }

        InetSocketAddress listening() throws InterruptedException {
            String l = line("'listening on' line");
            Matcher m = LISTENING.matcher(l);
            assertTrue(m.matches(), "first line: " + l);
            return new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2)));
        }

        @Override
        public void close() {
            process.destroy(); // SIGTERM: the shutdown hook closes the server
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void daytimeServerMain() throws Exception {
        try (Child server = new Child(DaytimeServer.class, "--port", "0")) {
            InetSocketAddress at = server.listening();
            try (Socket s = ExampleTestSupport.connect(at)) {
                Instant told = Instant.parse(ExampleTestSupport.readLine(s));
                assertTrue(Math.abs(told.toEpochMilli() - System.currentTimeMillis()) < 60_000, "time: " + told);
            }
        }
    }

    @Test
    void chatServerAndTwoChatClientMains() throws Exception {
        try (Child server = new Child(ChatServer.class, "--port", "0", "--threads", "1")) {
            InetSocketAddress at = server.listening();
            String port = String.valueOf(at.getPort());
            try (Child alice = new Child(ChatClient.class, "--port", port);
                 Child bob = new Child(ChatClient.class, "--port", port)) {
                assertTrue(alice.line("alice connected").startsWith("connected to "));
                assertTrue(bob.line("bob connected").startsWith("connected to "));
                // Bob's connection is registered once he can hear himself.
                bob.stdin.println("bob here");
                assertEquals("bob here", bob.line("bob's own message"));
                assertEquals("bob here", alice.line("bob's message at alice"));
                alice.stdin.println("hello, bob");
                assertEquals("hello, bob", bob.line("alice's message at bob"));
                alice.stdin.close(); // end of input: the client disconnects and exits 0
                assertTrue(alice.process.waitFor(20, TimeUnit.SECONDS), "alice exits at the end of her input");
                assertEquals(0, alice.process.exitValue());
            }
        }
    }

    @Test
    void badArgumentsExitWithUsageErrors() {
        Object[] commands = {new DiscardServer.Main(), new DaytimeServer.Main(), new ChargenServer.Main(),
            new ChatServer.Main(), new ChatClient.Main(), new TcpRelay.Main(), new IdleEchoServer.Main(),
            new MaxConnectionServer.Main(), new MetricsEchoServer.Main()};
        for (Object c : commands) {
            CommandLine cl = new CommandLine(c);
            cl.setOut(new PrintWriter(java.io.Writer.nullWriter()));
            cl.setErr(new PrintWriter(java.io.Writer.nullWriter()));
            assertEquals(0, cl.execute("--help"), cl.getCommandName() + " --help");
            String[] badPort = cl.getCommandSpec().findOption("--backend-port") != null
                    ? new String[] {"--port", "70000", "--backend-port", "1"} : new String[] {"--port", "70000"};
            assertEquals(2, cl.execute(badPort), cl.getCommandName() + " bad port");
            assertEquals(2, cl.execute(), cl.getCommandName() + " without the required --port");
        }
    }
}
