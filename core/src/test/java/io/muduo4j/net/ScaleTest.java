package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Thousands of connections open at once to a {@link TcpServer} with 2 I/O threads, each echoing:
 * every connection is established and echoes a message of its own, then (all of them still open)
 * every one echoes a second message sent from another thread, and only then do they close. The
 * server runs in a child JVM ({@link ScaleEchoServerMain}) so that the clients' descriptors and
 * the server's each have a process limit of their own; the server reports how many connections it
 * holds. Afterwards both processes are back to the descriptors they had before.
 *
 * <p>The clients are muduo4j {@link TcpClient}s (one connection each) spread over
 * {@value #CLIENT_LOOPS} client loops, so the library's connect path is loaded as much as its
 * accept path; connects are started through a window of {@value #CONNECT_WINDOW} in flight,
 * below the listen backlog, so no SYN is dropped and waits for a retransmit.
 */
@EnabledOnOs(OS.LINUX)
@Timeout(240)
class ScaleTest {
    private static final int CLIENT_LOOPS = 4;
    private static final int CONNECT_WINDOW = 256;
    private static final int SERVER_IO_THREADS = 2;
    private static final int MESSAGE = 16;
    private static final int MAGIC = 0x5CA1E5CA;
    private static final Pattern STATS = Pattern.compile("STATS connections=(\\d+) fds=(-?\\d+)");

    /**
     * 10,000 connections (the figure; {@code -Dmuduo4j.scale.connections=N} changes it),
     * in both wait modes. About 2 s each on 2 cores, so it is part of the fast suite.
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void tenThousandConcurrentConnectionsEcho(EventLoop.WaitMode mode) throws Exception {
        run(Integer.getInteger("muduo4j.scale.connections", 10_000), mode);
    }

    /** One client connection: its state is touched on its client loop only, except as noted. */
    static final class Peer {
        final int index;
        final TcpClient client;
        volatile TcpConnection conn;
        /** Written before the send that starts a round (the send's queue hand-off publishes it). */
        volatile int round;
        int matched;

        Peer(int index, TcpClient client) {
            this.index = index;
            this.client = client;
        }
    }

    static byte[] message(int index, int round) {
        ByteBuffer b = ByteBuffer.allocate(MESSAGE);
        b.putInt(MAGIC).putInt(index).putInt(round).putInt(index * 0x9E3779B1 ^ round * 0x85EBCA6B);
        return b.array();
    }

    private void run(int connections, EventLoop.WaitMode mode) throws Exception {
        int needed = connections + 1024;
        long limit = fdLimit();
        assertTrue(limit >= needed, "this test needs ulimit -n >= " + needed + " for its clients, the process has "
                + limit + " (raise the soft limit, e.g. ulimit -n 20000)");
        try (ChildJvm child = new ChildJvm(ScaleEchoServerMain.class, needed, "-Xmx384m",
                Integer.toString(SERVER_IO_THREADS), mode.name());
             TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            String first = child.readLine(30, "PORT line");
            assertTrue(first.startsWith("PORT "), "child did not start (" + first + "): " + child.info());
            InetSocketAddress addr = new InetSocketAddress("127.0.0.1", Integer.parseInt(first.substring(5).trim()));
            EventLoop[] clientLoops = new EventLoop[CLIENT_LOOPS];
            for (int i = 0; i < CLIENT_LOOPS; i++) {
                clientLoops[i] = loops.start("scale-client-" + i);
            }
            int fdsBefore = TcpTestSupport.openFds();
            int childFdsBefore = childStats(child)[1];

            Peer[] peers = new Peer[connections];
            AtomicInteger launched = new AtomicInteger();
            AtomicInteger round1 = new AtomicInteger();
            AtomicInteger round2 = new AtomicInteger();
            AtomicInteger connectFailures = new AtomicInteger();
            AtomicInteger unexpectedDowns = new AtomicInteger();
            CompletableFuture<Void> allOpen = new CompletableFuture<>();
            CompletableFuture<Void> allEchoedAgain = new CompletableFuture<>();
            ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
            AtomicBoolean closing = new AtomicBoolean();

            Runnable[] launch = new Runnable[1];
            launch[0] = () -> {
                int i = launched.getAndIncrement();
                if (i >= connections) {
                    return;
                }
                EventLoop loop = clientLoops[i % CLIENT_LOOPS];
                loop.execute(() -> {
                    TcpClient c = new TcpClient(loop, addr, "scale-" + i);
                    Peer p = new Peer(i, c);
                    peers[i] = p;
                    c.setConnectTimeoutMs(60_000);
                    c.setConnectFailedCallback((cause, attempt, delay) -> {
                        connectFailures.incrementAndGet();
                        errors.add("connect " + i + " attempt " + attempt + ": " + cause);
                    });
                    c.setConnectionCallback(conn -> {
                        if (conn.connected()) {
                            p.conn = conn;
                            p.round = 1;
                            conn.send(message(i, 1));
                        } else if (!closing.get()) {
                            unexpectedDowns.incrementAndGet();
                            errors.add("connection " + i + " closed early, cause " + conn.closeCause());
                            allOpen.completeExceptionally(new AssertionError("connection " + i + " closed early"));
                            allEchoedAgain.completeExceptionally(new AssertionError("connection " + i + " closed early"));
                        }
                    });
                    c.setMessageCallback((conn, buf, t) -> {
                        byte[] expected = message(i, p.round);
                        while (buf.readableBytes() > 0) {
                            byte b = buf.readInt8();
                            if (p.matched >= MESSAGE || b != expected[p.matched]) {
                                String why = "connection " + i + " round " + p.round + ": wrong echo byte " + p.matched;
                                errors.add(why);
                                allOpen.completeExceptionally(new AssertionError(why));
                                allEchoedAgain.completeExceptionally(new AssertionError(why));
                                buf.retrieveAll();
                                return;
                            }
                            if (++p.matched == MESSAGE) {
                                p.matched = 0;
                                if (p.round == 1) {
                                    if (round1.incrementAndGet() == connections) {
                                        allOpen.complete(null);
                                    }
                                    launch[0].run();
                                } else if (round2.incrementAndGet() == connections) {
                                    allEchoedAgain.complete(null);
                                }
                            }
                        }
                    });
                    c.connect();
                });
            };

            long start = System.nanoTime();
            for (int k = 0; k < CONNECT_WINDOW; k++) {
                launch[0].run();
            }
            get(allOpen, 120, connections + " connections (" + round1.get() + " echoed; errors " + errors + ")");
            long opened = System.nanoTime();
            int[] stats = childStats(child);
            assertEquals(connections, stats[0], "connections the server holds at once");
            assertTrue(stats[1] >= connections, "server descriptors: " + stats[1]);
            assertTrue(TcpTestSupport.openFds() >= fdsBefore + connections, "client descriptors");

            // Every connection, all still open, echoes once more: sent from this thread.
            for (Peer p : peers) {
                p.round = 2;
                assertTrue(p.conn.send(message(p.index, 2)), "send on connection " + p.index);
            }
            get(allEchoedAgain, 120, "second echo on all " + connections + " connections (" + round2.get()
                    + " echoed; errors " + errors + ")");
            long echoed = System.nanoTime();
            assertEquals(0, connectFailures.get(), "failed connect attempts: " + errors);
            assertEquals(0, unexpectedDowns.get(), "connections closed early: " + errors);

            // Close them all: a reset (no TIME_WAIT left holding ephemeral ports for later tests).
            List<CompletableFuture<Void>> closed = new ArrayList<>(connections);
            closing.set(true);
            for (Peer p : peers) {
                CompletableFuture<Void> f = new CompletableFuture<>();
                closed.add(f);
                p.client.loop().execute(() -> {
                    p.conn.abort();
                    p.client.close().whenComplete((v, t) -> f.complete(null));
                });
            }
            get(CompletableFuture.allOf(closed.toArray(new CompletableFuture<?>[0])), 60, "all clients closed");
            awaitChildConnections(child, 0);
            long end = System.nanoTime();
            TcpTestSupport.awaitAtMost(TcpTestSupport::openFds, fdsBefore, "client descriptors after closing");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TcpTestSupport.WAIT_SECONDS);
            int childFds;
            while ((childFds = childStats(child)[1]) > childFdsBefore) {
                if (System.nanoTime() - deadline > 0) {
                    fail("server descriptors after closing: " + childFds + ", before " + childFdsBefore);
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
            System.out.printf("[ScaleTest] %s: %d connections open and echoed in %d ms, echoed again in %d ms,"
                    + " closed in %d ms (total %d ms)%n", mode, connections,
                    TimeUnit.NANOSECONDS.toMillis(opened - start), TimeUnit.NANOSECONDS.toMillis(echoed - opened),
                    TimeUnit.NANOSECONDS.toMillis(end - echoed), TimeUnit.NANOSECONDS.toMillis(end - start));
            String err = child.stderr();
            assertTrue(!err.contains("Exception") && !err.contains("Error"), "the server reported errors:\n" + err);
        }
    }

    private static int[] childStats(ChildJvm child) throws InterruptedException {
        String line = child.ask("stats", 15);
        Matcher m = STATS.matcher(line);
        if (!m.matches()) {
            fail("bad stats from the child (" + line + "): " + child.info());
        }
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    private static void awaitChildConnections(ChildJvm child, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int n;
        while ((n = childStats(child)[0]) != expected) {
            if (System.nanoTime() - deadline > 0) {
                fail("the server holds " + n + " connections, expected " + expected);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /** The soft limit on open files of this process. */
    private static long fdLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                return f[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[0]);
            }
        }
        return -1;
    }
}
