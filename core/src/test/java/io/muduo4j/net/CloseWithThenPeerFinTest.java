package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A forced close asked for with a cause ({@code closeWith}, as the output limit and a failed
 * registration do) and overtaken by the peer's FIN: the FIN is read in the loop iteration after the
 * request, before the posted force-close command runs. The connection still closes as asked, at
 * once, with that cause as its {@link TcpConnection#closeCause()} and its queued output dropped.
 * The FIN used to start a lingering close instead: with nothing queued it closed with no cause,
 * and with output queued it went on writing it.
 *
 * <p>Deterministic: the server stops reading, the peer's FIN is seen to have arrived (the server
 * socket is in CLOSE_WAIT in {@code /proc/net/tcp}), and then one task on the loop resumes reading
 * and asks for the close; the command it posts waits for the next drain, after the poll that
 * reads the FIN.
 */
@Timeout(60)
class CloseWithThenPeerFinTest {
    private static final int MESSAGE = 16 << 20;

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void theCauseIsKept(EventLoop.WaitMode mode) throws Exception {
        IOException cause = new IOException("asked for by the test");
        Peer p = new Peer(mode, false);
        try {
            p.finArrived();
            onLoop(p.conn.loop(), () -> {
                resumeReading(p.conn);
                p.conn.closeWith(cause);
                return null;
            });
            assertSame(p.conn, get(p.down, "the down callback"));
            assertSame(cause, p.conn.closeCause(), "the close cause");
            assertEquals(-1, p.channel.read(ByteBuffer.allocate(1)), "the peer sees the close");
        } finally {
            p.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void queuedOutputIsDropped(EventLoop.WaitMode mode) throws Exception {
        IOException cause = new IOException("asked for by the test");
        Peer p = new Peer(mode, true);
        try {
            p.finArrived();
            CompletableFuture<long[]> atRequest = new CompletableFuture<>();
            CompletableFuture<Boolean> caughtUpInTime = new CompletableFuture<>();
            CountDownLatch peerCaughtUp = new CountDownLatch(1);
            p.conn.loop().execute(() -> {
                try {
                    resumeReading(p.conn);
                    p.conn.closeWith(cause);
                    atRequest.complete(new long[] {p.conn.bytesSent(), p.conn.queuedBytes()});
                    // Until the peer has read all that was written: the socket is writable in the
                    // next poll, so only the close being under way keeps the loop from writing.
                    caughtUpInTime.complete(peerCaughtUp.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS));
                } catch (Throwable t) {
                    atRequest.completeExceptionally(t);
                    caughtUpInTime.completeExceptionally(t);
                }
            });
            long[] at = get(atRequest, "the close request");
            long written = at[0];
            assertTrue(at[1] > 0, "precondition: nothing was queued when the close was asked for");
            ByteBuffer b = ByteBuffer.allocate(256 * 1024);
            long read = 0;
            while (read < written) {
                b.clear().limit((int) Math.min(b.capacity(), written - read));
                int n = p.channel.read(b);
                assertTrue(n > 0, "EOF after " + read + " of the " + written + " bytes written before the close request");
                read += n;
            }
            peerCaughtUp.countDown();
            assertTrue(get(caughtUpInTime, "the close request's task"), "the loop stopped waiting for the peer");
            long after = 0;
            for (int n; (n = p.channel.read(b.clear())) >= 0; ) {
                after += n;
            }
            assertSame(p.conn, get(p.down, "the down callback"));
            assertEquals(0, after, "bytes written after the close was asked for (" + at[1] + " were queued)");
            assertSame(cause, p.conn.closeCause(), "the close cause");
        } finally {
            p.close();
        }
    }

    private static void resumeReading(TcpConnection c) {
        // Applied in this task, not posted: a posted startRead() would run in the same command
        // batch as the close and close first.
        c.wantReading = true;
        c.applyReading();
        assertTrue(c.isReading(), "reading resumed");
    }

    /** A server connection that does not read, its peer, and the peer's FIN sent. */
    private static final class Peer implements AutoCloseable {
        final TcpTestSupport.Loops loops;
        final TcpServer server;
        final SocketChannel channel;
        final TcpConnection conn;
        final CompletableFuture<TcpConnection> down = new CompletableFuture<>();

        Peer(EventLoop.WaitMode mode, boolean queueOutput) throws Exception {
            loops = new TcpTestSupport.Loops(mode);
            CompletableFuture<TcpConnection> up = new CompletableFuture<>();
            EventLoop base = loops.start("closewith-fin-base");
            server = TcpTestSupport.server(loops, base, "closewith-fin", 1, s -> s.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                } else {
                    down.complete(c);
                }
            }));
            channel = SocketChannel.open();
            channel.setOption(StandardSocketOptions.SO_RCVBUF, 64 * 1024);
            channel.connect(server.listenAddress());
            conn = get(up, "the server connection");
            conn.stopRead();
            if (queueOutput) {
                conn.setUpstream(null); // its own unwritability must not pause its reading
            }
            onLoop(conn.loop(), () -> {
                assertFalse(conn.isReading(), "reading stopped");
                if (queueOutput) {
                    assertTrue(conn.send(TcpTestSupport.streamBytes(9, 0, MESSAGE)), "the send");
                }
                return null;
            });
            channel.shutdownOutput();
        }

        /** Waits until the server's socket has the FIN (its state is CLOSE_WAIT). */
        void finArrived() {
            int server = ((InetSocketAddress) this.server.listenAddress()).getPort();
            int peer;
            try {
                peer = ((InetSocketAddress) channel.getLocalAddress()).getPort();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            LoopTestSupport.awaitTrue(() -> inCloseWait(server, peer), "the server socket to get the peer's FIN");
        }

        @Override
        public void close() throws IOException {
            channel.close();
            server.close();
            loops.close();
        }
    }

    private static final String CLOSE_WAIT = "08";

    /** Whether the socket from {@code localPort} to {@code remotePort} is in CLOSE_WAIT (Linux). */
    static boolean inCloseWait(int localPort, int remotePort) {
        for (String file : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(file));
            } catch (IOException e) {
                continue; // no IPv6
            }
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (port(f[1]) == localPort && port(f[2]) == remotePort) {
                    return CLOSE_WAIT.equals(f[3]);
                }
            }
        }
        return false;
    }

    private static int port(String hexAddress) {
        return Integer.parseInt(hexAddress.substring(hexAddress.indexOf(':') + 1), 16);
    }
}
