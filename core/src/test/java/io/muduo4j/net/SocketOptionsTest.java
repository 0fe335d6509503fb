package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link TcpOption}s on a connection and as a server's connection option, read back from the
 * socket; options a transport cannot set refused with its name; TCP_INFO on the native transports
 * (checked against what the test sent and received), false on NIO. Runs on every transport.
 */
@Timeout(30)
class SocketOptionsTest {

    /** An echo server and a connected client, closed at the end. */
    static final class Pair implements AutoCloseable {
        final TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING);
        final TcpServer server;
        final TcpClient client;
        final TcpConnection conn;
        final CompletableFuture<Integer> serverSideKeepIdle = new CompletableFuture<>();
        final AtomicLong echoed = new AtomicLong();

        Pair(boolean serverKeepIdle) throws Exception {
            EventLoop base = loops.start("so-base");
            EventLoop clientLoop = loops.start("so-client");
            server = TcpTestSupport.server(loops, base, "so", 1, s -> {
                if (serverKeepIdle) {
                    s.setConnectionOption(TcpOption.TCP_KEEPIDLE, 42);
                    s.setConnectionOption(TcpOption.SO_KEEPALIVE, 1);
                }
                s.setConnectionCallback(c -> {
                    if (c.connected() && serverKeepIdle) {
                        serverSideKeepIdle.complete(c.getOption(TcpOption.TCP_KEEPIDLE));
                    }
                });
                s.setMessageCallback((c, b, t) -> c.send(b));
            });
            client = new TcpClient(clientLoop, server.listenAddress(), "so-client");
            client.setMessageCallback((c, b, t) -> {
                echoed.addAndGet(b.readableBytes());
                b.retrieveAll();
            });
            conn = client.connectNow();
        }

        Transport transport() {
            return client.loop().transport();
        }

        @Override
        public void close() throws Exception {
            TcpTestSupport.get(client.close(), "client close");
            server.close();
            loops.close();
        }
    }

    @Test
    void optionsAreSetAndReadBackOrRefusedNamingTheTransport() throws Exception {
        try (Pair p = new Pair(false)) {
            TcpConnection c = p.conn;
            boolean nio = p.transport() == Transport.NIO;
            assertTrue(c.setOption(TcpOption.TCP_NODELAY, 0));
            assertEquals(0, c.getOption(TcpOption.TCP_NODELAY));
            assertTrue(c.setOption(TcpOption.TCP_NODELAY, 1));
            assertEquals(1, c.getOption(TcpOption.TCP_NODELAY));
            assertTrue(c.setOption(TcpOption.SO_KEEPALIVE, 1));
            assertEquals(1, c.getOption(TcpOption.SO_KEEPALIVE));
            assertTrue(c.setOption(TcpOption.TCP_KEEPIDLE, 30));
            assertEquals(30, c.getOption(TcpOption.TCP_KEEPIDLE));
            assertTrue(c.setOption(TcpOption.TCP_KEEPINTVL, 5));
            assertEquals(5, c.getOption(TcpOption.TCP_KEEPINTVL));
            assertTrue(c.setOption(TcpOption.TCP_KEEPCNT, 3));
            assertEquals(3, c.getOption(TcpOption.TCP_KEEPCNT));
            assertTrue(c.setOption(TcpOption.SO_SNDBUF, 65536));
            assertEquals(65536, c.getOption(TcpOption.SO_SNDBUF), "read back as set (Linux reserves twice that)");
            assertTrue(c.setOption(TcpOption.SO_RCVBUF, 65536));
            assertEquals(65536, c.getOption(TcpOption.SO_RCVBUF));
            assertTrue(c.setOption(TcpOption.IP_TOS, 0x10));
            assertEquals(0x10, c.getOption(TcpOption.IP_TOS));
            assertTrue(c.setOption(TcpOption.TCP_QUICKACK, 1)); // the kernel may clear it again: not read back
            TcpOption[] nativeOnly = {TcpOption.TCP_USER_TIMEOUT, TcpOption.TCP_NOTSENT_LOWAT, TcpOption.SO_BUSY_POLL};
            int[] values = {5000, 16384, 0};
            for (int i = 0; i < nativeOnly.length; i++) {
                TcpOption o = nativeOnly[i];
                if (nio) {
                    UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                            () -> c.setOption(o, 1));
                    assertTrue(e.getMessage().contains(o + " cannot be set on the NIO transport"), e.getMessage());
                    assertThrows(UnsupportedOperationException.class, () -> p.server.setConnectionOption(o, 1));
                } else {
                    assertTrue(c.setOption(o, values[i]));
                    assertEquals(values[i], c.getOption(o), o.toString());
                }
            }
        }
    }

    @Test
    void badValuesAndClosedConnections() throws Exception {
        try (Pair p = new Pair(false)) {
            TcpConnection c = p.conn;
            assertThrows(IllegalArgumentException.class, () -> c.setOption(TcpOption.TCP_NODELAY, 2));
            assertThrows(IllegalArgumentException.class, () -> c.setOption(TcpOption.SO_SNDBUF, -1));
            assertThrows(IllegalArgumentException.class, () -> p.server.setConnectionOption(TcpOption.TCP_KEEPCNT, -5));
            if (p.transport() != Transport.NIO) {
                // The kernel's own refusal: TCP_KEEPCNT above 127 is EINVAL.
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> c.setOption(TcpOption.TCP_KEEPCNT, 1000));
                assertTrue(e.getMessage().contains("EINVAL"), e.getMessage());
            }
            c.abort();
            LoopTestSupport.awaitTrue(() -> p.client.connection() == null, "the client's connection to be gone");
            assertFalse(c.setOption(TcpOption.TCP_NODELAY, 1), "closed: nothing to set");
            assertFalse(c.tcpInfo(new TcpInfo()), "closed: no TCP_INFO");
        }
    }

    @Test
    void aServerConnectionOptionIsOnEveryAcceptedConnection() throws Exception {
        try (Pair p = new Pair(true)) {
            assertEquals(42, TcpTestSupport.get(p.serverSideKeepIdle, "the server side's TCP_KEEPIDLE"));
        }
    }

    @Test
    void tcpInfoReportsWhatWasExchanged() throws Exception {
        try (Pair p = new Pair(false)) {
            byte[] m = new byte[100];
            for (int i = 1; i <= 10; i++) {
                assertTrue(p.conn.send(m));
                long want = 100L * i;
                LoopTestSupport.awaitTrue(() -> p.echoed.get() == want, "echo " + i);
            }
            TcpInfo info = new TcpInfo();
            boolean read = p.conn.tcpInfo(info);
            if (p.transport() == Transport.NIO) {
                assertFalse(read, "the JDK exposes no TCP_INFO");
                assertEquals(-1, info.rttMicros());
                return;
            }
            assertTrue(read);
            assertEquals(1, info.state(), "ESTABLISHED: " + info);
            assertEquals(1000, info.bytesReceived(), info.toString());
            // Acknowledged: all 1,000 bytes (their echoes came back, so they were received), and
            // Linux counts the SYN too (bytes_acked starts at 1 in tcp_init_transfer's accounting).
            assertTrue(info.bytesAcked() == 1000 || info.bytesAcked() == 1001, info.toString());
            assertTrue(info.bytesSent() == -1 || info.bytesSent() >= 1000, info.toString());
            assertTrue(info.rttMicros() > 0 && info.sndCwnd() > 0 && info.sndMss() > 0, info.toString());
            assertEquals(0, info.unacked(), info.toString());
            assertEquals(0, info.totalRetrans(), info.toString());
        }
    }
}
