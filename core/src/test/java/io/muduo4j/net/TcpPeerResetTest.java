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
                    assertFalse(onLoop(conn.loop(), () -> conn.outputBuffer().readableBytes()) == 0, "output queued");
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
}
