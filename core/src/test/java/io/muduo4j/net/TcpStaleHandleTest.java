package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A {@link TcpConnection} handle kept after its connection closed: every command on it, from its
 * loop or another thread, is a harmless no-op ({@code send} returns false), it is never applied to
 * another connection (not to one still open, nor to a new one that took over its recycled
 * buffers), and nothing is reported as an error.
 */
@Timeout(30)
class TcpStaleHandleTest {
    private static String roundTrip(SocketChannel peer, String s) throws Exception {
        peer.write(ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII)));
        ByteBuffer b = ByteBuffer.allocate(s.length());
        while (b.hasRemaining() && peer.read(b) >= 0) {
            // until the echo is complete
        }
        return new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII);
    }

    private static void pokeAll(TcpConnection stale) {
        Buffer buf = new Buffer();
        buf.append(new byte[] {'x', 'y'});
        assertFalse(stale.send(new byte[] {'s', 't', 'a', 'l', 'e'}), "send(byte[]) on a closed connection");
        assertFalse(stale.send(new byte[8], 2, 3), "send(byte[], off, len) on a closed connection");
        assertFalse(stale.send(ByteBuffer.wrap(new byte[] {'b'})), "send(ByteBuffer) on a closed connection");
        assertFalse(stale.send(buf), "send(Buffer) on a closed connection");
        assertEquals(2, buf.readableBytes(), "a refused send(Buffer) consumed the caller's bytes");
        stale.shutdown();
        stale.forceClose();
        stale.forceCloseWithDelay(1, TimeUnit.MILLISECONDS);
        stale.abort();
        stale.stopRead();
        stale.startRead();
        stale.setTcpNoDelay(true);
        stale.setKeepAlive(true);
        stale.setContext("still usable");
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void commandsOnAClosedConnectionAreIgnored(EventLoop.WaitMode mode) throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        BlockingQueue<TcpConnection> ups = new LinkedBlockingQueue<>();
        Map<Long, AtomicInteger> downs = new ConcurrentHashMap<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("stale-base");
            TcpServer server = TcpTestSupport.server(loops, base, "stale", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        downs.put(c.id(), new AtomicInteger());
                        ups.add(c);
                    } else {
                        downs.get(c.id()).incrementAndGet();
                    }
                });
                s.setMessageCallback((c, b, t) -> c.send(b));
            });
            try (SocketChannel a = SocketChannel.open(server.listenAddress());
                 SocketChannel b = SocketChannel.open(server.listenAddress())) {
                TcpConnection ca = ups.poll(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                TcpConnection cb = ups.poll(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                assertEquals("one", roundTrip(a, "one"));
                assertEquals("two", roundTrip(b, "two"));
                // ca and cb are in accept order, and so are a and b
                ca.forceClose();
                assertEquals(-1, a.read(ByteBuffer.allocate(4)), "the closed connection's peer sees EOF");
                TcpTestSupport.awaitAtMost(() -> 1 - downs.get(ca.id()).get(), 0, "down callback of the closed connection");
                onLoop(ca.loop(), () -> null); // its destroy has run: buffers are back in the pool

                // A new connection, which may take over the closed one's pooled buffers.
                try (SocketChannel c = SocketChannel.open(server.listenAddress())) {
                    TcpConnection cc = ups.poll(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                    assertTrue(cc != null && cc != ca && cc.id() != ca.id());

                    pokeAll(ca); // from another thread
                    onLoop(ca.loop(), () -> {
                        pokeAll(ca); // from its own loop
                        return null;
                    });
                    onLoop(ca.loop(), () -> null);
                    onLoop(ca.loop(), () -> null);

                    assertEquals(TcpConnection.State.DISCONNECTED, ca.state());
                    assertEquals(1, downs.get(ca.id()).get(), "down callbacks of the stale connection");
                    assertTrue(cb.connected(), "a command on the stale handle reached another connection");
                    assertTrue(cc.connected(), "a command on the stale handle reached the new connection");
                    assertEquals(0, downs.get(cb.id()).get());
                    assertEquals(0, downs.get(cc.id()).get());
                    // The live connections carry exactly their own bytes.
                    assertEquals("three", roundTrip(b, "three"));
                    assertEquals("four", roundTrip(c, "four"));
                    b.configureBlocking(false);
                    c.configureBlocking(false);
                    assertEquals(0, b.read(ByteBuffer.allocate(16)), "stray bytes on another connection");
                    assertEquals(0, c.read(ByteBuffer.allocate(16)), "stray bytes on the new connection");
                }
            }
            assertTrue(errors.isEmpty(), "errors reported: " + errors);
            server.close();
        }
    }
}
