package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Out of file descriptors, the acceptor closes the connections it cannot take (the peer sees EOF
 * or a reset, not a hang), the connections it has keep working, its loop does not spin, and
 * accepting resumes when descriptors free up. The server runs in a child JVM
 * ({@link EmfileEchoServerMain}) under {@code ulimit -n} {@value #FD_LIMIT}.
 *
 * <p>"Does not spin" is counted, not timed: per refused connection, the acceptor makes a bounded
 * number of {@code accept} calls and handles a bounded number of readiness events, and the base
 * loop (in blocking mode) runs a bounded number of iterations; the whole exhaustion is logged in a
 * bounded number of lines (the acceptor's count, checked against the child's stderr).
 */
@EnabledOnOs(OS.LINUX)
@Timeout(90)
class AcceptorEmfileTest {
    private static final int FD_LIMIT = 64;
    private static final int MAX_CONNECTIONS = 4 * FD_LIMIT;
    private static final int IO_TIMEOUT_MS = 5_000;
    private static final int REFUSED_ATTEMPTS = 100;
    private static final int FREED = 5;
    /**
     * A refusal costs three {@code accept} calls (fail, fail, succeed on the freed reserve); out of
     * descriptors even an empty backlog fails {@code accept} (Linux takes the descriptor first), so
     * the end of each readiness event costs three more (fail, fail, nothing pending).
     */
    private static final int MAX_ACCEPT_CALLS_PER_REFUSAL = 3;
    private static final int MAX_ACCEPT_CALLS_PER_EVENT_END = 3;
    private static final int MAX_READ_EVENTS_PER_REFUSAL = 2;
    private static final int MAX_BLOCKING_ITERATIONS_PER_REFUSAL = 4;
    private static final int MAX_LOG_LINES = 6;
    private static final Pattern STATS = Pattern.compile(
            "STATS refused=(\\d+) connections=(\\d+) acceptCalls=(\\d+) readEvents=(\\d+) pauses=(\\d+)"
            + " logLines=(\\d+) iterations=(\\d+) cpuNanos=(\\d+) fds=(-?\\d+)");

    private Process child;
    private Path childStderr;
    private PrintWriter toChild;
    private final BlockingQueue<String> fromChild = new LinkedBlockingQueue<>();
    private final List<Socket> live = new ArrayList<>();

    /** What became of one connection attempt. */
    enum Outcome { ECHOED, CLOSED_BY_SERVER }

    @AfterEach
    void tearDown() throws Exception {
        for (Socket s : live) {
            s.close();
        }
        if (child != null) {
            if (toChild != null) {
                toChild.println("quit");
                toChild.flush();
            }
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                child.destroyForcibly();
                child.waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (childStderr != null) {
            Files.deleteIfExists(childStderr);
        }
    }

    /**
     * In both wait modes: a spinning loop that idles with a back-off strategy parks when it has
     * nothing to do, so a loop kept busy by a listener it cannot drain shows there as well (its
     * iterations are not bounded per refusal, a spinning loop iterates anyway; its accept calls and
     * readiness events are).
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void outOfDescriptorsTheServerClosesExcessConnectionsKeepsServingDoesNotSpinAndRecovers(EventLoop.WaitMode mode)
            throws Exception {
        InetSocketAddress addr = startChild(mode);
        Stats initial = stats();
        assertEquals(0, initial.refused, "refusals before any load");
        assertEquals(0, initial.logLines, "accept failures logged before any load");

        // 1. Connect until the child is out of descriptors: every connection either echoes or is
        //    closed by the server at once.
        int closed = 0;
        for (int i = 0; i < MAX_CONNECTIONS && closed < 3; i++) {
            Socket s = connect(addr);
            if (probe(s, i) == Outcome.ECHOED) {
                assertEquals(0, closed, "a connection echoed after the server had started refusing: " + childInfo());
                live.add(s);
            } else {
                s.close();
                closed++;
            }
        }
        assertTrue(closed == 3, "the child never ran out of descriptors in " + MAX_CONNECTIONS
                + " connections: " + childInfo());
        assertTrue(live.size() >= 10 && live.size() < FD_LIMIT,
                "connections accepted under ulimit -n " + FD_LIMIT + ": " + live.size());
        Stats exhausted = stats();
        assertEquals(live.size(), exhausted.connections, "connections the server holds");
        assertTrue(exhausted.refused >= closed, "the acceptor refused " + exhausted.refused
                + " connections for " + closed + " closed ones");

        // 2. The connections it has still echo.
        echoAll("after running out of descriptors");

        // 3. Clients keep trying: each attempt is closed promptly, and what the child does per
        //    refused connection is bounded (a spinning acceptor would multiply all of it).
        long cpuBefore = childCpuNanos();
        long wallBefore = System.nanoTime();
        for (int i = 0; i < REFUSED_ATTEMPTS; i++) {
            try (Socket s = connect(addr)) {
                assertEquals(Outcome.CLOSED_BY_SERVER, probe(s, i),
                        "a connection beyond the limit was served: " + childInfo());
            }
        }
        Stats afterWindow = stats();
        long wall = System.nanoTime() - wallBefore;
        double share = (childCpuNanos() - cpuBefore) / (double) wall;
        long refused = afterWindow.refused - exhausted.refused;
        long calls = afterWindow.acceptCalls - exhausted.acceptCalls;
        long events = afterWindow.readEvents - exhausted.readEvents;
        long iterations = afterWindow.iterations - exhausted.iterations;
        System.out.printf("[AcceptorEmfileTest] %s, ulimit -n %d: %d connections served, %d refused while exhausted;"
                + " %d attempts in %d ms: %d refused, %d accept calls, %d read events, %d loop iterations,"
                + " %d pauses, child CPU %.1f%% (not asserted)%n",
                mode, FD_LIMIT, live.size(), closed, REFUSED_ATTEMPTS, TimeUnit.NANOSECONDS.toMillis(wall),
                refused, calls, events, iterations, afterWindow.pauses - exhausted.pauses, 100 * share);
        assertTrue(refused >= REFUSED_ATTEMPTS, refused + " refusals counted for " + REFUSED_ATTEMPTS + " attempts");
        assertTrue(events <= MAX_READ_EVENTS_PER_REFUSAL * refused,
                events + " readiness events for " + refused + " refused connections");
        assertTrue(calls <= MAX_ACCEPT_CALLS_PER_REFUSAL * refused + MAX_ACCEPT_CALLS_PER_EVENT_END * events,
                calls + " accept calls for " + refused + " refused connections in " + events + " readiness events");
        if (mode == EventLoop.WaitMode.BLOCKING) {
            assertTrue(iterations <= MAX_BLOCKING_ITERATIONS_PER_REFUSAL * refused,
                    iterations + " loop iterations for " + refused + " refused connections");
        }
        assertTrue(afterWindow.logLines <= 2, "log lines while out of descriptors: " + afterWindow.logLines);
        echoAll("after the refusals");

        // 4. Free some descriptors: the server accepts and echoes again, up to the limit.
        for (int i = 0; i < FREED; i++) {
            live.remove(live.size() - 1).close();
        }
        int expected = live.size();
        awaitChild(st -> st.connections == expected, "the server to close the " + FREED + " connections");
        int accepted = 0;
        int refusedWhileFreeing = 0;
        for (int i = 0; accepted < FREED; i++) {
            // The server closes a socket a moment after it drops the connection (the selector
            // releases the descriptor at its next select), so an attempt may still be refused.
            assertTrue(i < 10 * FREED, "only " + accepted + " of " + FREED + " freed descriptors were"
                    + " used by new connections in " + i + " attempts: " + childInfo());
            Socket s = connect(addr);
            if (probe(s, i) == Outcome.ECHOED) {
                live.add(s);
                accepted++;
            } else {
                s.close();
                refusedWhileFreeing++;
            }
        }
        try (Socket s = connect(addr)) {
            assertEquals(Outcome.CLOSED_BY_SERVER, probe(s, 0), "the limit is back: one more is refused");
        }
        echoAll("after recovering");
        Stats end = stats();
        assertEquals(live.size(), end.connections);
        System.out.printf("[AcceptorEmfileTest] recovered: %d new connections after %d freed (%d refused meanwhile);"
                + " %d refused, %d pauses, %d log lines in all%n", accepted, FREED, refusedWhileFreeing, end.refused,
                end.pauses, end.logLines);
        assertTrue(end.logLines <= MAX_LOG_LINES, "log lines: " + end.logLines);
        String stderr = Files.readString(childStderr);
        long logged = stderr.lines().filter(l -> l.contains("accept on ")).count();
        assertEquals(end.logLines, logged, "accept log lines on the child's stderr:\n" + stderr);
        assertTrue(!stderr.contains("Error") && !stderr.contains("uncaught"), "child reported errors:\n" + stderr);
    }

    // ------------------------------------------------------------------ the child

    private InetSocketAddress startChild(EventLoop.WaitMode mode) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        StringBuilder cp = new StringBuilder();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            // The classes directories and Agrona; each jar on the class path would hold a descriptor.
            if (new File(e).isDirectory() || new File(e).getName().startsWith("agrona")) {
                cp.append(cp.length() == 0 ? "" : File.pathSeparator).append(e);
            }
        }
        String command = "ulimit -n " + FD_LIMIT + " && exec " + quote(java)
                + " --add-opens java.base/jdk.internal.misc=ALL-UNNAMED"
                + " -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData"
                + " -cp " + quote(cp.toString()) + " " + EmfileEchoServerMain.class.getName() + " " + mode.name();
        childStderr = Files.createTempFile("emfile-child", ".err");
        child = new ProcessBuilder("bash", "-c", command)
                .redirectError(childStderr.toFile())
                .start();
        toChild = new PrintWriter(child.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (var in = child.inputReader(StandardCharsets.UTF_8)) {
                String line;
                while ((line = in.readLine()) != null) {
                    fromChild.add(line);
                }
            } catch (IOException e) {
                // the child ended
            }
        }, "emfile-child-stdout");
        reader.setDaemon(true);
        reader.start();
        String first = fromChild.poll(30, TimeUnit.SECONDS);
        if (first == null || !first.startsWith("PORT ")) {
            fail("child did not start (" + first + "): " + childInfo());
        }
        return new InetSocketAddress("127.0.0.1", Integer.parseInt(first.substring(5).trim()));
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    record Stats(long refused, int connections, long acceptCalls, long readEvents, long pauses, long logLines,
                 long iterations, long cpuNanos, int fds) {
    }

    private Stats stats() throws Exception {
        toChild.println("stats");
        String line = fromChild.poll(15, TimeUnit.SECONDS);
        Matcher m = line == null ? null : STATS.matcher(line);
        if (m == null || !m.matches()) {
            fail("no stats from the child (" + line + "): " + childInfo());
        }
        return new Stats(Long.parseLong(m.group(1)), Integer.parseInt(m.group(2)), Long.parseLong(m.group(3)),
                Long.parseLong(m.group(4)), Long.parseLong(m.group(5)), Long.parseLong(m.group(6)),
                Long.parseLong(m.group(7)), Long.parseLong(m.group(8)), Integer.parseInt(m.group(9)));
    }

    private void awaitChild(java.util.function.Predicate<Stats> condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Stats s;
        while (!condition.test(s = stats())) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting for " + what + "; last " + s);
            }
            Thread.sleep(10); // polling a condition on another process, bounded by the deadline
        }
    }

    /** The child's CPU time (user + system) as the OS reports it to us. */
    private long childCpuNanos() {
        Duration d = child.toHandle().info().totalCpuDuration().orElse(null);
        if (d == null) {
            fail("no CPU time for the child process");
        }
        return d.toNanos();
    }

    private String childInfo() {
        String err;
        try {
            err = Files.readString(childStderr);
        } catch (IOException e) {
            err = "<" + e + ">";
        }
        return "child " + (child.isAlive() ? "alive" : "exited " + child.exitValue()) + ", stderr:\n" + err;
    }

    // ------------------------------------------------------------------ the clients

    private static Socket connect(InetSocketAddress addr) throws IOException {
        Socket s = new Socket();
        s.connect(addr, IO_TIMEOUT_MS); // completes in the kernel's backlog whether or not it is accepted
        s.setSoTimeout(IO_TIMEOUT_MS);
        s.setTcpNoDelay(true);
        return s;
    }

    /**
     * Sends one byte and reads the answer: the echo, or the server's close (EOF or reset). A
     * connection that neither answers nor closes within the timeout fails the test: that is
     * the hang this test is about.
     */
    private Outcome probe(Socket s, int i) throws IOException {
        int b = (i * 7 + 1) & 0x7F;
        try {
            OutputStream out = s.getOutputStream();
            out.write(b);
            out.flush();
            InputStream in = s.getInputStream();
            int r = in.read();
            if (r < 0) {
                return Outcome.CLOSED_BY_SERVER;
            }
            assertEquals(b, r, "echoed byte");
            return Outcome.ECHOED;
        } catch (SocketTimeoutException e) {
            fail("connection " + i + " neither echoed nor was closed within " + IO_TIMEOUT_MS + " ms: " + childInfo());
            throw e;
        } catch (SocketException e) {
            return Outcome.CLOSED_BY_SERVER; // reset (or broken pipe): closed with our byte unread
        }
    }

    private void echoAll(String when) throws IOException {
        for (int i = 0; i < live.size(); i++) {
            assertEquals(Outcome.ECHOED, probe(live.get(i), i), "connection " + i + " " + when + ": " + childInfo());
        }
    }
}
