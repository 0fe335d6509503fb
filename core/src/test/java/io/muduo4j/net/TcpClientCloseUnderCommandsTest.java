package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A {@link TcpClient} whose connection gets cross-thread commands ({@code startRead},
 * {@code stopRead}) from other threads while it closes (the peer closes it, or the client is
 * closed while connected), and whose loop then ends: once {@code close()}'s future completed and
 * the loop ended, the connection's socket is closed and its down callback ran once, many times
 * over. The client's loop has a task queue of 2 kept full by filler threads, so a commander that
 * set the first bit of the connection's command word spins before it can queue the command
 * task (see {@link TcpServerStopUnderCommandsTest}); the destroy of a connection closed by its
 * peer used to be posted to the connection and could merge into that task, which the end of the
 * loop then refused: the socket stayed open.
 *
 * <p>No {@code send} here: a direct write that fails (the peer closed) posts its error while
 * holding the connection's staging lock, and with the queue full that post waits for the loop,
 * which may itself be waiting for that lock (a deadlock of {@code TcpConnection} under a full task
 * queue, outside this test's subject).
 */
@Timeout(120)
class TcpClientCloseUnderCommandsTest {
    private static final int ITERATIONS = 10;
    private static final int COMMANDERS = 2;
    private static final int FILLERS = 2;
    private static final int WARM_UP_OPS = 10; // per thread, before the close

    enum Closer { PEER, CLIENT }

    static List<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            for (Closer c : Closer.values()) {
                a.add(Arguments.of(m, c));
            }
        }
        return a;
    }

    @ParameterizedTest(name = "{0}, closed by {1}")
    @MethodSource("cases")
    void closedConnectionIsDestroyedWhileCommandsAreInFlight(EventLoop.WaitMode mode, Closer closer) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("client-cmd-server");
            CompletableFuture<TcpConnection>[] serverSide = new CompletableFuture[1];
            TcpServer server = TcpTestSupport.server(loops, base, "client-cmd-server", 0, s ->
                    s.setConnectionCallback(c -> {
                        if (c.connected()) {
                            serverSide[0].complete(c);
                        }
                    }));
            for (int it = 0; it < ITERATIONS; it++) {
                serverSide[0] = new CompletableFuture<>();
                oneClose(mode, closer, server, serverSide[0], "client-cmd-" + mode + "-" + closer + "-" + it);
            }
            server.close();
        }
    }

    private static void oneClose(EventLoop.WaitMode mode, Closer closer, TcpServer server,
                                 CompletableFuture<TcpConnection> serverSide, String name) throws Exception {
        EventLoopThread clientThread = new EventLoopThread(name, TcpTestSupport.options(mode).taskQueueCapacity(2), null);
        List<Thread> threads = new ArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Throwable> threadErrors = new CopyOnWriteArrayList<>();
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<Void> down = new CompletableFuture<>();
        AtomicInteger downs = new AtomicInteger();
        TcpConnection conn;
        try {
            EventLoop loop = clientThread.startLoop();
            TcpClient client = new TcpClient(loop, server.listenAddress(), name);
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                } else {
                    downs.incrementAndGet();
                    down.complete(null);
                }
            });
            client.connect();
            conn = get(up, name + ": client connection");
            TcpConnection peer = get(serverSide, name + ": server side");
            CountDownLatch busy = new CountDownLatch(COMMANDERS + FILLERS);
            for (int t = 0; t < COMMANDERS; t++) {
                threads.add(new Thread(() -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    long n = 0;
                    while (running.get()) {
                        if (r.nextBoolean()) {
                            conn.stopRead();
                        } else {
                            conn.startRead();
                        }
                        if (++n == WARM_UP_OPS) {
                            busy.countDown();
                        }
                    }
                    if (n < WARM_UP_OPS) {
                        busy.countDown();
                    }
                }, name + "-commander-" + t));
            }
            Runnable noop = () -> { };
            for (int t = 0; t < FILLERS; t++) {
                threads.add(new Thread(() -> {
                    long n = 0;
                    try {
                        while (running.get()) {
                            loop.execute(noop);
                            if (++n == WARM_UP_OPS) {
                                busy.countDown();
                            }
                        }
                    } catch (RejectedExecutionException e) {
                        // the loop ended
                    }
                    if (n < WARM_UP_OPS) {
                        busy.countDown();
                    }
                }, name + "-filler-" + t));
            }
            for (Thread t : threads) {
                t.setUncaughtExceptionHandler((th, e) -> threadErrors.add(e));
                t.start();
            }
            LoopTestSupport.await(busy, name + ": commanders and fillers at work");
            if (closer == Closer.PEER) {
                peer.forceClose();
                get(down, name + ": the client to see the peer's close");
            }
            get(client.close(), name + ": client close");
            assertTrue(down.isDone(), name + ": close() completed before the down callback");
        } finally {
            clientThread.close(); // the loop ends while the fillers still keep its queue full
            running.set(false);
            for (Thread t : threads) {
                LoopTestSupport.join(t);
            }
        }

        assertTrue(threadErrors.isEmpty(), name + ": commander or filler threads failed: " + threadErrors);
        assertTrue(conn.disconnected(), name + ": " + conn);
        assertFalse(conn.loop().poller().isOpen(conn), name + ": socket of " + conn + " open after close() and the loop's end");
        assertEquals(1, downs.get(), name + ": down callbacks");
    }
}
