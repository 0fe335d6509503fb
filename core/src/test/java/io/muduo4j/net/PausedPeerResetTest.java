package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A connection that stopped reading (no output queued) whose peer then resets or closes: the loop
 * must not spin on the hang-up, which epoll reports whatever the interest set.
 * <ul>
 *   <li>A reset: on epoll, which reports it anyway, the connection closes at once with the reset
 *       as its close cause (a relay gives up the partner of a dead client); on NIO, whose selector
 *       does not watch a socket without interest, the reset is seen when reading resumes. Either
 *       way exactly one down callback, with an {@link IOException} as the cause.</li>
 *   <li>An orderly close after our own shutdown (both directions shut: a hang-up without an
 *       error): on every transport the connection waits, without spinning, until reading resumes
 *       and sees the peer's FIN; then it closes with no cause.</li>
 * </ul>
 */
@Timeout(60)
class PausedPeerResetTest {
    private static final byte[] HELLO = "0123456789".getBytes();

    @Test
    void resetOfAPausedConnectionNeitherSpinsNorIsLost() throws Exception {
        CompletableFuture<TcpConnection> paused = new CompletableFuture<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        AtomicInteger downs = new AtomicInteger();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("paused-reset");
            TcpServer server = TcpTestSupport.server(loops, base, "paused-reset", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.disconnected()) {
                        downs.incrementAndGet();
                        down.complete(c);
                    }
                });
                s.setMessageCallback((c, buf, t) -> {
                    buf.retrieveAll();
                    c.stopRead();
                    paused.complete(c);
                });
            });
            SocketChannel peer = SocketChannel.open(server.listenAddress());
            peer.write(ByteBuffer.wrap(HELLO));
            TcpConnection conn = get(paused, "the message that pauses reading");
            EventLoop io = conn.loop();
            assertFalse(onLoop(io, conn::isReading), "reading stopped");
            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close(); // a reset

            if (io.transport() == Transport.EPOLL) {
                assertEquals(conn, get(down, "the close on the reset, without reading"));
                SpinDetector.assertIdle(io, "after the reset closed the connection");
            } else {
                SpinDetector.assertIdle(io, "a paused connection whose peer reset");
                assertFalse(down.isDone(), "NIO does not see the reset while not reading");
                conn.startRead();
                assertEquals(conn, get(down, "the close once reading resumed"));
            }
            assertInstanceOf(IOException.class, conn.closeCause(), "the reset is the close cause");
            onLoop(io, () -> null);
            assertEquals(1, downs.get(), "down callbacks");
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
    }

    @Test
    void hangUpAfterBothShutdownsWaitsWithoutSpinningUntilReadingResumes() throws Exception {
        CompletableFuture<TcpConnection> paused = new CompletableFuture<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("paused-hup");
            TcpServer server = TcpTestSupport.server(loops, base, "paused-hup", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.disconnected()) {
                        down.complete(c);
                    }
                });
                s.setMessageCallback((c, buf, t) -> {
                    buf.retrieveAll();
                    c.stopRead();
                    c.shutdown(); // our FIN: nothing is queued, so it goes at once
                    paused.complete(c);
                });
            });
            SocketChannel peer = SocketChannel.open(server.listenAddress());
            peer.write(ByteBuffer.wrap(HELLO));
            TcpConnection conn = get(paused, "the message that pauses reading");
            EventLoop io = conn.loop();
            assertEquals(-1, peer.read(ByteBuffer.allocate(16)), "the server's FIN reached the peer");
            peer.close(); // the peer's FIN: both directions are shut, a hang-up without an error

            SpinDetector.assertIdle(io, "a paused connection with both directions shut");
            assertFalse(down.isDone(), "the peer's FIN is unread while reading is paused");
            conn.startRead();
            assertEquals(conn, get(down, "the close once reading resumed and saw the FIN"));
            assertNull(conn.closeCause(), "an orderly close");
            assertTrue(conn.disconnected());
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
    }
}
