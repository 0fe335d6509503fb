package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A peer that resets (closes with SO_LINGER 0) closes our side exactly once, with
 * {@link TcpConnection#closeCause()} set to the I/O error: on a server connection that is idle, on
 * one with output queued to the peer, and on a client connection.
 */
@Timeout(30)
class TcpPeerResetTest {
    private static void reset(SocketChannel ch) throws IOException {
        ch.setOption(StandardSocketOptions.SO_LINGER, 0);
        ch.close();
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void serverConnectionClosesOnceWithTheCause(EventLoop.WaitMode mode) throws Exception {
        for (boolean outputQueued : new boolean[] {false, true}) {
            CompletableFuture<TcpConnection> up = new CompletableFuture<>();
            CompletableFuture<TcpConnection> down = new CompletableFuture<>();
            AtomicInteger downs = new AtomicInteger();
            try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
                EventLoop base = loops.start("reset-base");
                TcpServer server = TcpTestSupport.server(loops, base, "reset", 1, s -> {
                    s.setConnectionCallback(c -> {
                        if (c.connected()) {
                            if (outputQueued) {
                                c.send(new byte[16 << 20]); // more than the peer will ever read
                            }
                            up.complete(c);
                        } else {
                            downs.incrementAndGet();
                            down.complete(c);
                        }
                    });
                });
                SocketChannel peer = SocketChannel.open();
                peer.setOption(StandardSocketOptions.SO_RCVBUF, 64 * 1024);
                peer.connect(server.listenAddress());
                TcpConnection conn = get(up, "server connection");
                if (outputQueued) {
                    assertFalse(onLoop(conn.loop(), () -> conn.queuedBytes()) == 0, "output queued");
                }
                reset(peer);
                assertEquals(conn, get(down, "close after the reset"));
                onLoop(conn.loop(), () -> null);
                assertEquals(1, downs.get(), "down callbacks");
                assertInstanceOf(IOException.class, conn.closeCause(), "close cause (output queued: " + outputQueued + ")");
                assertFalse(conn.send(new byte[1]));
                TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
                server.close();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void clientConnectionClosesOnceWithTheCause(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        AtomicInteger downs = new AtomicInteger();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode);
             ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(TcpTestSupport.ANY_LOCAL_PORT);
            EventLoop loop = loops.start("reset-client");
            TcpClient client = new TcpClient(loop, (InetSocketAddress) listener.getLocalAddress(), "reset-client");
            CompletableFuture<Void> up = new CompletableFuture<>();
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(null);
                } else {
                    downs.incrementAndGet();
                    down.complete(c);
                }
            });
            client.connect();
            try (SocketChannel accepted = listener.accept()) {
                get(up, "client connection"); // a reset before that is a failed connect, retried
                accepted.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
                reset(accepted);
            }
            TcpConnection conn = get(down, "client close after the reset");
            onLoop(loop, () -> null);
            assertEquals(1, downs.get());
            assertInstanceOf(IOException.class, conn.closeCause());
            get(client.close(), "client close");
        }
    }

    static java.util.List<org.junit.jupiter.params.provider.Arguments> modesAndLoops() {
        java.util.List<org.junit.jupiter.params.provider.Arguments> a = new java.util.ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            a.add(org.junit.jupiter.params.provider.Arguments.of(m, false));
            a.add(org.junit.jupiter.params.provider.Arguments.of(m, true));
        }
        return a;
    }

    /**
     * Mid-transfer: a {@link TcpClient} keeps its loop writing to a server connection, which
     * {@code abort()}s (SO_LINGER 0) after 4 MiB. The client's connection closes once with an I/O
     * error as its cause; the aborting side closes once, orderly. Client and server on one loop and
     * on two.
     */
    @ParameterizedTest(name = "{0}, same loop: {1}")
    @org.junit.jupiter.params.provider.MethodSource("modesAndLoops")
    void abortMidTransferClosesTheWriterOnceWithTheCause(EventLoop.WaitMode mode, boolean sameLoop) throws Exception {
        java.util.List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        CompletableFuture<TcpConnection> clientDown = new CompletableFuture<>();
        CompletableFuture<TcpConnection> serverDown = new CompletableFuture<>();
        CompletableFuture<TcpForceCloseTest.Writer> writing = new CompletableFuture<>();
        AtomicInteger clientDowns = new AtomicInteger();
        AtomicInteger serverDowns = new AtomicInteger();
        long[] got = new long[1];
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("abort-base");
            TcpServer server = TcpTestSupport.server(loops, base, "abort", sameLoop ? 0 : 1, s -> {
                s.setConnectionCallback(c -> {
                    if (!c.connected()) {
                        serverDowns.incrementAndGet();
                        serverDown.complete(c);
                    }
                });
                s.setMessageCallback((c, b, t) -> {
                    got[0] += b.readableBytes();
                    b.retrieveAll();
                    if (got[0] >= 4 << 20) {
                        c.abort();
                    }
                });
            });
            EventLoop clientLoop = sameLoop ? base : loops.start("abort-client");
            TcpClient client = new TcpClient(clientLoop, server.listenAddress(), "abort-client");
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    TcpForceCloseTest.Writer w = new TcpForceCloseTest.Writer(c);
                    w.run();
                    writing.complete(w);
                } else {
                    clientDowns.incrementAndGet();
                    clientDown.complete(c);
                }
            });
            client.connect();
            TcpForceCloseTest.Writer w = TcpTestSupport.get(writing, "the client's writer");
            TcpConnection c = TcpTestSupport.get(clientDown, "the client's close after the reset");
            TcpConnection sc = TcpTestSupport.get(serverDown, "the server's close");
            assertEquals(sameLoop, c.loop() == sc.loop());
            onLoop(clientLoop, () -> null);
            onLoop(sc.loop(), () -> null);
            assertEquals(1, clientDowns.get(), "client down callbacks");
            assertEquals(1, serverDowns.get(), "server down callbacks");
            assertInstanceOf(IOException.class, c.closeCause(), "the client's close cause");
            assertEquals(null, sc.closeCause(), "an abort is our own, orderly close");
            TcpTestSupport.get(w.refused, "the writer stopped");
            TcpTestSupport.get(client.close(), "client close");
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
        org.junit.jupiter.api.Assertions.assertTrue(errors.isEmpty(), "errors reported: " + errors);
    }
}
