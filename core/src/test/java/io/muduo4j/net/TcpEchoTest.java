package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.firstMismatch;
import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.streamBytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Echo between {@link TcpClient}s and a {@link TcpServer} with 2 I/O threads over 1, 10 and 100
 * connections (and with clients and server connections all on one loop): half of each client's bytes are sent on its loop from the connection callback, the
 * other half from the test thread; every byte must come back, in order.
 */
@Timeout(60)
class TcpEchoTest {
    private static final int HALF = 8 * 1024;

    static List<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            for (int n : new int[] {1, 10, 100}) {
                a.add(Arguments.of(m, n, false));
                a.add(Arguments.of(m, n, true));
            }
        }
        return a;
    }

    /** Client side of one connection: checks the echo against the stream it sent. */
    static final class Echoed {
        final long seed;
        final CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        final CompletableFuture<Long> done = new CompletableFuture<>();
        long received;

        Echoed(long seed) {
            this.seed = seed;
        }

        void onMessage(Buffer buf) {
            ByteBuffer v = buf.readableView();
            long bad = firstMismatch(seed, received, v);
            if (bad >= 0) {
                done.completeExceptionally(new AssertionError("echo of client " + seed + " differs at byte " + bad));
            }
            received += v.remaining();
            buf.retrieveAll();
            if (received >= 2 * HALF) {
                done.complete(received);
            }
        }
    }

    @ParameterizedTest(name = "{0}, {1} connections, clients on the server's loop: {2}")
    @MethodSource("cases")
    void everyByteComesBack(EventLoop.WaitMode mode, int connections, boolean sameLoop) throws Exception {
        AtomicInteger serverUp = new AtomicInteger();
        AtomicInteger serverDown = new AtomicInteger();
        Set<Long> serverIds = ConcurrentHashMap.newKeySet();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("echo-base");
            EventLoop clientLoop = sameLoop ? base : loops.start("echo-client");
            // On one loop: the server keeps its connections in the base loop, with the clients.
            TcpServer server = TcpTestSupport.server(loops, base, "echo", sameLoop ? 0 : 2, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        serverUp.incrementAndGet();
                        assertTrue(serverIds.add(c.id()));
                    } else {
                        serverDown.incrementAndGet();
                    }
                });
                s.setMessageCallback((c, b, t) -> c.send(b));
            });
            List<TcpClient> clients = new ArrayList<>();
            List<Echoed> echoes = new ArrayList<>();
            try {
                for (int i = 0; i < connections; i++) {
                    Echoed e = new Echoed(i + 1);
                    TcpClient c = new TcpClient(clientLoop, server.listenAddress(), "echo-client-" + i);
                    c.setConnectionCallback(conn -> {
                        if (conn.connected()) {
                            assertTrue(conn.send(streamBytes(e.seed, 0, HALF))); // in the loop
                            e.up.complete(conn);
                        }
                    });
                    c.setMessageCallback((conn, b, t) -> e.onMessage(b));
                    clients.add(c);
                    echoes.add(e);
                    c.connect();
                }
                for (Echoed e : echoes) {
                    TcpConnection conn = get(e.up, "client connection");
                    // cross-thread, after the in-loop half (sent in the up callback)
                    assertTrue(conn.send(ByteBuffer.wrap(streamBytes(e.seed, HALF, HALF))));
                }
                for (Echoed e : echoes) {
                    assertEquals(2L * HALF, get(e.done, "echo of client " + e.seed));
                }
                assertEquals(connections, serverUp.get());
                assertEquals(connections, server.connectionCount());
            } finally {
                for (TcpClient c : clients) {
                    get(c.close(), "client close");
                }
            }
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections after the clients closed");
            TcpTestSupport.awaitAtMost(() -> connections - serverDown.get(), 0, "server down callbacks");
            server.close();
            assertEquals(connections, serverDown.get(), "one down callback per connection");
        }
    }
}
