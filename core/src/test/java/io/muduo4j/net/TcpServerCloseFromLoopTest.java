package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link TcpServer#close()} called on one of the server's own loop threads: from a message
 * callback (a "shutdown" command from a client; on an I/O loop, or on the base loop with 0 I/O
 * threads) and from a task on the base loop. It starts the stop and returns at once; the stop
 * completes (its future) within a bound, the port is released, and every connection got its down
 * callback exactly once. It used to throw on the base loop thread and to block an I/O loop for
 * 30 s.
 */
@Timeout(60)
class TcpServerCloseFromLoopTest {
    private static final int CONNECTIONS = 6;
    private static final long CLOSE_RETURNS_WITHIN_MS = 1_000;

    enum From { MESSAGE_CALLBACK, BASE_LOOP_TASK }

    static List<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            for (From f : From.values()) {
                a.add(Arguments.of(m, 0, f));
                a.add(Arguments.of(m, 2, f));
            }
        }
        return a;
    }

    private static boolean threadAlive(String prefix) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(prefix) && t.isAlive()) {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest(name = "{0}, {1} I/O threads, from {2}")
    @MethodSource("cases")
    void closeOnAServerLoopThreadReturnsAndTheStopCompletes(EventLoop.WaitMode mode, int ioThreads, From from)
            throws Exception {
        String name = "close-in-loop-" + mode + "-" + ioThreads + "-" + from;
        Map<Long, AtomicInteger> downs = new ConcurrentHashMap<>();
        CountDownLatch allUp = new CountDownLatch(CONNECTIONS);
        CompletableFuture<Long> closeNanos = new CompletableFuture<>();
        List<SocketChannel> peers = new ArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start(name + "-base");
            TcpServer[] self = new TcpServer[1];
            Runnable closeAndTime = () -> {
                long t0 = System.nanoTime();
                try {
                    self[0].close();
                    closeNanos.complete(System.nanoTime() - t0);
                } catch (Throwable t) {
                    closeNanos.completeExceptionally(t);
                }
            };
            TcpServer server = TcpTestSupport.server(loops, base, name, ioThreads, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        downs.put(c.id(), new AtomicInteger());
                        allUp.countDown();
                    } else {
                        downs.get(c.id()).incrementAndGet();
                    }
                });
                s.setMessageCallback((c, b, t) -> {
                    if (b.retrieveAllAsString(java.nio.charset.StandardCharsets.US_ASCII).contains("shutdown")) {
                        closeAndTime.run();
                    }
                });
            });
            self[0] = server;
            InetSocketAddress addr = server.listenAddress();
            try {
                for (int i = 0; i < CONNECTIONS; i++) {
                    peers.add(SocketChannel.open(addr));
                }
                LoopTestSupport.await(allUp, "connections up");
                if (from == From.MESSAGE_CALLBACK) {
                    peers.get(CONNECTIONS - 1).write(ByteBuffer.wrap("shutdown".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
                } else {
                    base.execute(closeAndTime);
                }
                long took = get(closeNanos, "close() on the loop thread to return");
                assertTrue(TimeUnit.NANOSECONDS.toMillis(took) < CLOSE_RETURNS_WITHIN_MS,
                        "close() on a loop thread took " + TimeUnit.NANOSECONDS.toMillis(took) + " ms");
                get(server.stop(), "the stop close() started");
                assertEquals(0, server.connectionCount());
                assertEquals(CONNECTIONS, downs.size());
                downs.forEach((id, n) -> assertEquals(1, n.get(), "down callbacks of connection " + id));
                assertFalse(threadAlive(name + "-io-"), "I/O threads still running after the stop");
                for (SocketChannel p : peers) {
                    p.configureBlocking(true);
                    assertEquals(-1, p.read(ByteBuffer.allocate(64)), "the peer sees the close");
                }
                // the port is free again
                try (ServerSocketChannel again = ServerSocketChannel.open()) {
                    again.bind(addr);
                }
                server.close(); // from the test thread: returns, nothing left to wait for
            } finally {
                for (SocketChannel p : peers) {
                    p.close();
                }
            }
        }
    }
}
