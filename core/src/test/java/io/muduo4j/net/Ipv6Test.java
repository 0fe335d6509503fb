package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every transport accepts the same addresses as NIO: a wildcard listener
 * ({@code new InetSocketAddress(port)}) is dual-stack and takes IPv4 and IPv6 clients, reporting
 * an IPv4 client's address as IPv4; a listener on {@code ::1} takes IPv6 clients; a client
 * connects to {@code ::1}, through the loop and on the caller's thread.
 */
@Timeout(60)
class Ipv6Test {
    private static final InetAddress LOOPBACK6 = address("::1");
    private static final InetAddress LOOPBACK4 = address("127.0.0.1");

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static TcpServer echoServer(TcpTestSupport.Loops loops, EventLoop base, InetSocketAddress at,
            LinkedBlockingQueue<InetSocketAddress> peers) {
        TcpServer s = new TcpServer(base, at, "ipv6");
        s.setLoopOptions(loops.loopOptions());
        s.setConnectionCallback(c -> {
            if (c.connected()) {
                peers.add(c.peerAddress());
            }
        });
        s.setMessageCallback((c, b, t) -> c.send(b));
        s.start();
        return s;
    }

    @Test
    void wildcardListenerIsDualStack() throws Exception {
        LinkedBlockingQueue<InetSocketAddress> peers = new LinkedBlockingQueue<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("ipv6-wildcard");
            TcpServer server = echoServer(loops, base, new InetSocketAddress(0), peers);
            InetSocketAddress bound = server.listenAddress();
            assertTrue(bound.getAddress().isAnyLocalAddress(), "bound to a wildcard: " + bound);
            int port = bound.getPort();
            try (SocketChannel v4 = SocketChannel.open(new InetSocketAddress(LOOPBACK4, port))) {
                TcpTestSupport.assertEchoes(v4, "over IPv4");
                InetSocketAddress peer = peers.poll(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                assertInstanceOf(Inet4Address.class, peer.getAddress(), "an IPv4 client is reported as IPv4: " + peer);
                assertEquals(v4.getLocalAddress(), peer);
            }
            try (SocketChannel v6 = SocketChannel.open(new InetSocketAddress(LOOPBACK6, port))) {
                TcpTestSupport.assertEchoes(v6, "over IPv6");
                InetSocketAddress peer = peers.poll(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                assertInstanceOf(Inet6Address.class, peer.getAddress(), "an IPv6 client: " + peer);
                assertEquals(v6.getLocalAddress(), peer);
            }
            server.close();
        }
    }

    @Test
    void ipv6LoopbackListenerAndClients() throws Exception {
        LinkedBlockingQueue<InetSocketAddress> peers = new LinkedBlockingQueue<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("ipv6-loopback");
            EventLoop clientLoop = loops.start("ipv6-client");
            TcpServer server = echoServer(loops, base, new InetSocketAddress(LOOPBACK6, 0), peers);
            InetSocketAddress bound = server.listenAddress();
            assertEquals(LOOPBACK6, bound.getAddress());

            // Through the loop: connect(), then an echo.
            TcpClient client = new TcpClient(clientLoop, bound, "ipv6-connect");
            CompletableFuture<String> echoed = new CompletableFuture<>();
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    c.send("through the loop".getBytes());
                }
            });
            client.setMessageCallback((c, b, t) -> {
                if (b.readableBytes() >= "through the loop".length()) {
                    echoed.complete(b.retrieveAllAsString(java.nio.charset.StandardCharsets.US_ASCII));
                }
            });
            client.connect();
            assertEquals("through the loop", get(echoed, "the echo over ::1"));
            assertInstanceOf(Inet6Address.class, peers.poll(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS).getAddress());
            get(client.close(), "client close");

            // On the caller's thread: connectNow().
            TcpClient now = new TcpClient(clientLoop, bound, "ipv6-connect-now");
            CompletableFuture<String> echoedNow = new CompletableFuture<>();
            now.setMessageCallback((c, b, t) -> {
                if (b.readableBytes() >= "on the caller".length()) {
                    echoedNow.complete(b.retrieveAllAsString(java.nio.charset.StandardCharsets.US_ASCII));
                }
            });
            TcpConnection conn = now.connectNow();
            assertEquals(bound, conn.peerAddress());
            assertTrue(conn.send("on the caller".getBytes()));
            assertEquals("on the caller", get(echoedNow, "the echo of connectNow over ::1"));
            get(now.close(), "connectNow client close");
            server.close();
        }
    }
}
