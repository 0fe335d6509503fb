package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Stopping a server with live connections (and more arriving): every connection that came up gets
 * exactly one down callback, the peers see the close, the I/O threads end, and the port is
 * released: a new server binds the same port and accepts on it.
 */
@Timeout(30)
class TcpServerStopTest {
    private static final int CONNECTIONS = 20;

    static List<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            a.add(Arguments.of(m, 0));
            a.add(Arguments.of(m, 2));
        }
        return a;
    }

    private static boolean ioThreadAlive(String serverName) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(serverName + "-io-") && t.isAlive()) {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest(name = "{0}, {1} I/O threads")
    @MethodSource("cases")
    void stopClosesEveryConnectionAndReleasesThePort(EventLoop.WaitMode mode, int ioThreads) throws Exception {
        String name = "stop-" + mode + "-" + ioThreads;
        Map<Long, AtomicInteger> downs = new ConcurrentHashMap<>();
        AtomicInteger ups = new AtomicInteger();
        CountDownLatch allUp = new CountDownLatch(CONNECTIONS);
        List<SocketChannel> peers = new ArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start(name + "-base");
            TcpServer server = TcpTestSupport.server(loops, base, name, ioThreads, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        downs.put(c.id(), new AtomicInteger());
                        ups.incrementAndGet();
                        allUp.countDown();
                    } else {
                        downs.get(c.id()).incrementAndGet();
                    }
                });
                s.setMessageCallback((c, b, t) -> c.send(b));
            });
            InetSocketAddress addr = server.listenAddress();
            AtomicBoolean spamming = new AtomicBoolean(true);
            Thread spammer = new Thread(() -> {
                // connections still arriving while the server stops
                while (spamming.get()) {
                    try (SocketChannel s = SocketChannel.open(addr)) {
                        s.write(ByteBuffer.wrap(new byte[] {1}));
                    } catch (IOException e) {
                        return; // refused: the listener is gone
                    }
                }
            }, name + "-spammer");
            try {
                for (int i = 0; i < CONNECTIONS; i++) {
                    peers.add(SocketChannel.open(addr));
                }
                assertTrue(allUp.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS));
                if (ioThreads > 0) {
                    assertTrue(ioThreadAlive(name));
                }
                // The port is held: a second server on it fails.
                TcpServer clash = new TcpServer(base, addr, name + "-clash");
                assertThrows(UncheckedIOException.class, clash::start);
                spammer.start();

                server.close();
                spamming.set(false);
                spammer.join(TimeUnit.SECONDS.toMillis(TcpTestSupport.WAIT_SECONDS));
                assertFalse(spammer.isAlive());

                assertEquals(0, server.connectionCount());
                assertEquals(ups.get(), downs.size());
                downs.forEach((id, n) -> assertEquals(1, n.get(), "down callbacks of connection " + id));
                assertFalse(ioThreadAlive(name), "I/O threads still running after close()");
                for (SocketChannel p : peers) {
                    p.configureBlocking(true);
                    assertEquals(-1, p.read(ByteBuffer.allocate(8)), "the peer sees the close");
                }
            } finally {
                spamming.set(false);
                for (SocketChannel p : peers) {
                    p.close();
                }
            }

            // The port is free again.
            TcpServer again = new TcpServer(base, addr, name + "-again");
            CompletableFuture<Void> accepted = new CompletableFuture<>();
            again.setConnectionCallback(c -> accepted.complete(null));
            again.start();
            assertEquals(addr, again.listenAddress());
            try (SocketChannel p = SocketChannel.open(addr)) {
                get(accepted, "a connection to the server on the released port");
            }
            again.close();
        }
    }

    @ParameterizedTest(name = "{0}, {1} I/O threads")
    @MethodSource("cases")
    void stopIsIdempotentAndStopBeforeStartIsFine(EventLoop.WaitMode mode, int ioThreads) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("stop2-base");
            TcpServer never = new TcpServer(base, TcpTestSupport.ANY_LOCAL_PORT, "never-started");
            never.setThreadNum(ioThreads);
            get(never.stop(), "stop of a server never started");
            assertThrows(IllegalStateException.class, never::start);

            TcpServer s = TcpTestSupport.server(loops, base, "stop2", ioThreads, x -> { });
            CompletableFuture<Void> f = s.stop();
            assertTrue(f == s.stop(), "stop() returns the same future");
            get(f, "stop");
            s.close();
        }
    }
}
