package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Application callbacks that throw: each throw is reported to the loop's
 * {@link EventLoopOptions#errorHandler}, the loop keeps serving, the connection goes on working
 * and still closes cleanly, and a throwing callback does not swallow the callbacks queued with it.
 */
@Timeout(30)
class TcpCallbackErrorTest {
    /** The loop logs every reported error with its stack trace; the errors here are expected. */
    private static final java.util.logging.Logger LOOP_LOG = java.util.logging.Logger.getLogger(EventLoop.class.getName());
    private static java.util.logging.Level savedLevel;

    @org.junit.jupiter.api.BeforeAll
    static void quietLoopLog() {
        savedLevel = LOOP_LOG.getLevel();
        LOOP_LOG.setLevel(java.util.logging.Level.SEVERE);
    }

    @org.junit.jupiter.api.AfterAll
    static void restoreLoopLog() {
        LOOP_LOG.setLevel(savedLevel);
    }

    static final class Boom extends RuntimeException {
        Boom(String what) {
            super(what);
        }
    }

    private static Set<String> booms(List<Throwable> errors) {
        return errors.stream().filter(t -> t instanceof Boom).map(Throwable::getMessage).collect(Collectors.toSet());
    }

    private static String roundTrip(SocketChannel peer, String s) throws Exception {
        peer.write(ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII)));
        ByteBuffer b = ByteBuffer.allocate(s.length());
        while (b.hasRemaining()) {
            if (peer.read(b) < 0) {
                break;
            }
        }
        return new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII);
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void throwingCallbacksAreReportedAndTheLoopGoesOn(EventLoop.WaitMode mode) throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        AtomicInteger downs = new AtomicInteger();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("boom-base");
            EventLoop clientLoop = loops.start("boom-client");
            TcpServer server = TcpTestSupport.server(loops, base, "boom", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        throw new Boom("up");
                    }
                    downs.incrementAndGet();
                    throw new Boom("down");
                });
                s.setMessageCallback((c, b, t) -> {
                    c.send(b);
                    throw new Boom("message");
                });
                s.setWriteCompleteCallback(c -> {
                    throw new Boom("write-complete");
                });
            });
            int socketsBefore = TcpTestSupport.openSockets();
            for (int round = 0; round < 2; round++) {
                try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                    assertEquals("ping", roundTrip(peer, "ping"));
                    assertEquals("pong", roundTrip(peer, "pong"), "the connection works after its callbacks threw");
                }
                int expected = round + 1;
                TcpTestSupport.awaitAtMost(() -> expected - downs.get(), 0, "down callback");
                TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            }
            TcpTestSupport.awaitAtMost(TcpTestSupport::openSockets, socketsBefore, "sockets after the throwing connections closed");
            TcpTestSupport.awaitAtMost(() -> booms(errors).size() == 4 ? 0 : 1, 0, "reports of up, message, write-complete, down");
            assertEquals(Set.of("up", "message", "write-complete", "down"), booms(errors));

            // A client whose up callback throws is still connected and usable.
            CompletableFuture<String> echoed = new CompletableFuture<>();
            TcpClient client = new TcpClient(clientLoop, server.listenAddress(), "boom-client");
            CountDownLatch up = new CountDownLatch(1);
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.countDown();
                    throw new Boom("client-up");
                }
            });
            client.setMessageCallback((c, b, t) -> {
                if (b.readableBytes() >= 2) {
                    echoed.complete(b.retrieveAllAsString(StandardCharsets.US_ASCII));
                }
            });
            client.connect();
            assertTrue(up.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS));
            TcpTestSupport.awaitAtMost(() -> client.connection() == null ? 1 : 0, 0, "client connection");
            assertTrue(client.connection().send("hi".getBytes(StandardCharsets.US_ASCII)));
            assertEquals("hi", get(echoed, "echo on a client whose up callback threw"));
            assertTrue(booms(errors).contains("client-up"));
            get(client.close(), "client close");
            server.close();
        }
    }

    /**
     * One batch of a connection's posted work holds a write-complete (a small send drained at
     * once) and a high-water callback (a large send right after it), and both throw: whichever
     * runs first must not cancel the other.
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void throwingCallbackDoesNotSwallowTheNextOne(EventLoop.WaitMode mode) throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        AtomicInteger writeCompletes = new AtomicInteger();
        int big = 8 << 20;
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("boom2-base");
            TcpServer server = TcpTestSupport.server(loops, base, "boom2", 1, s -> {
                s.setMessageCallback((c, b, t) -> {
                    b.retrieveAll();
                    c.send(new byte[100]); // drains at once: write-complete posted
                    c.send(new byte[big]); // crosses the mark: high water posted in the same batch
                });
                s.setHighWaterMarkCallback((c, q) -> {
                    throw new Boom("high-water");
                }, 1 << 20);
                s.setWriteCompleteCallback(c -> {
                    writeCompletes.incrementAndGet();
                    throw new Boom("write-complete");
                });
            });
            try (SocketChannel peer = SocketChannel.open()) {
                peer.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 64 * 1024);
                peer.connect(server.listenAddress());
                peer.write(ByteBuffer.wrap(new byte[] {1}));
                // Not reading yet, so the large send stays above the mark until its callback ran.
                TcpTestSupport.awaitAtMost(() -> booms(errors).contains("high-water") ? 0 : 1, 0, "the high-water report");
                ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
                long got = 0;
                while (got < 100 + big) {
                    b.clear();
                    int n = peer.read(b);
                    assertTrue(n > 0);
                    got += n;
                }
                TcpTestSupport.awaitAtMost(() -> 2 - writeCompletes.get(), 0,
                        "two write-completes (the small send's and the large send's)");
                assertEquals(Set.of("high-water", "write-complete"), booms(errors));
            }
            server.close();
        }
    }

    /**
     * Throwables beyond unchecked exceptions: a message callback that throws, in turn, each
     * non-fatal kind ({@link AssertionError}, a real {@link StackOverflowError}, a checked
     * exception, a {@link LinkageError}, an unchecked exception) after echoing: each is reported,
     * and the connection keeps echoing. (A thrown {@link OutOfMemoryError} closes the connection
     * instead: {@link CallbackOutOfMemoryTest}.)
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void errorsThrownByAMessageCallbackAreSurvived(EventLoop.WaitMode mode) throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        // Not OUT_OF_MEMORY: a callback's OutOfMemoryError closes its connection (CallbackOutOfMemoryTest).
        ErrorReportingTest.Kind[] kinds = java.util.Arrays.stream(ErrorReportingTest.Kind.values())
                .filter(k -> k != ErrorReportingTest.Kind.OUT_OF_MEMORY).toArray(ErrorReportingTest.Kind[]::new);
        AtomicInteger messages = new AtomicInteger();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("boom3-base");
            TcpServer server = TcpTestSupport.server(loops, base, "boom3", 1, s -> s.setMessageCallback((c, b, t) -> {
                if (b.readableBytes() < 4) {
                    return;
                }
                c.send(b);
                kinds[messages.getAndIncrement() % kinds.length].raise("message");
            }));
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                for (int i = 0; i < kinds.length; i++) {
                    assertEquals("ping", roundTrip(peer, "ping"), "echo after " + errors);
                    int n = i + 1;
                    TcpTestSupport.awaitAtMost(() -> n - errors.size(), 0, "the report of " + kinds[i]);
                    assertEquals(kinds[i].type(), errors.get(i).getClass(), "reported: " + errors);
                }
                assertEquals("pong", roundTrip(peer, "pong"), "the connection works after all of them");
            }
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
    }
}
