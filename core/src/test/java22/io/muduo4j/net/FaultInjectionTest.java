package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.muduo4j.net.Faults.Call;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The epoll transport's system calls made to fail, one row per call and errno, each with its
 * defined outcome (the table is the README's "What is tested" fault table):
 * <ul>
 *   <li>{@code RETRIED}: the call is made again and nothing is lost: the echo after the fault
 *       arrives whole, the connection stays up;</li>
 *   <li>{@code CLOSED}: the connection closes with one down callback, the error (of the class the
 *       JDK would throw) as its close cause;</li>
 *   <li>{@code REFUSED}: the connection is never up; the error is reported to the loop's error
 *       handler and the peer sees the close;</li>
 *   <li>{@code DROPPED}: a socket option of the server's that cannot be set on an accepted
 *       socket: the socket is closed before it becomes a connection (the peer sees the close),
 *       as for a socket reset before the server got to it;</li>
 *   <li>connect rows: the connect-failed callback gets the JDK's class, and the attempt is retried
 *       or given up as {@link Connector#isFatal} decides on NIO for that class.</li>
 * </ul>
 * After every row: the server still accepts and echoes a new client, no loop spins
 * ({@link SpinDetector}), and no descriptor is left behind.
 */
@Timeout(60)
class FaultInjectionTest {
    enum Outcome { RETRIED, CLOSED, REFUSED, DROPPED }

    @AfterEach
    void clearFaults() {
        Faults.clear();
    }

    static Stream<Arguments> dataPath() {
        return Stream.of(
                Arguments.of(Call.READ, Errno.EINTR, Outcome.RETRIED, null),
                Arguments.of(Call.READ, Errno.EAGAIN, Outcome.RETRIED, null),
                Arguments.of(Call.READ, Errno.ECONNRESET, Outcome.CLOSED, SocketException.class),
                Arguments.of(Call.READ, Errno.ETIMEDOUT, Outcome.CLOSED, IOException.class),
                Arguments.of(Call.READ, Errno.ENOMEM, Outcome.CLOSED, IOException.class),
                Arguments.of(Call.READ, Errno.ENOBUFS, Outcome.CLOSED, IOException.class),
                Arguments.of(Call.READ, Errno.EBADF, Outcome.CLOSED, IOException.class),
                Arguments.of(Call.SEND, Errno.EINTR, Outcome.RETRIED, null),
                Arguments.of(Call.SEND, Errno.EAGAIN, Outcome.RETRIED, null),
                Arguments.of(Call.SEND, Errno.EPIPE, Outcome.CLOSED, SocketException.class),
                Arguments.of(Call.SEND, Errno.ECONNRESET, Outcome.CLOSED, SocketException.class),
                Arguments.of(Call.SEND, Errno.ENOBUFS, Outcome.CLOSED, IOException.class),
                Arguments.of(Call.SEND, Errno.ENOMEM, Outcome.CLOSED, IOException.class),
                Arguments.of(Call.SEND, Errno.ETIMEDOUT, Outcome.CLOSED, IOException.class),
                Arguments.of(Call.SETSOCKOPT, Errno.ENOMEM, Outcome.DROPPED, null),
                Arguments.of(Call.CLOSE, Errno.EINTR, Outcome.RETRIED, null), // closed all the same: nothing leaks
                Arguments.of(Call.CLOSE, Errno.EIO, Outcome.RETRIED, null),
                Arguments.of(Call.EPOLL_WAIT, Errno.EINTR, Outcome.RETRIED, null),
                Arguments.of(Call.EPOLL_WAIT, Errno.EINVAL, Outcome.RETRIED, null), // reported, the loop goes on
                Arguments.of(Call.EVENTFD_READ, Errno.EAGAIN, Outcome.RETRIED, null),
                Arguments.of(Call.EPOLL_CTL, Errno.ENOSPC, Outcome.REFUSED, IOException.class),
                Arguments.of(Call.EPOLL_CTL, Errno.ENOMEM, Outcome.REFUSED, IOException.class),
                // A failed accept is tried again at once (the acceptor's first recovery step): the
                // pending connection is taken by the retry.
                Arguments.of(Call.ACCEPT, Errno.EINTR, Outcome.RETRIED, null),
                Arguments.of(Call.ACCEPT, Errno.EAGAIN, Outcome.RETRIED, null),
                Arguments.of(Call.ACCEPT, Errno.ECONNABORTED, Outcome.RETRIED, null),
                Arguments.of(Call.ACCEPT, Errno.EMFILE, Outcome.RETRIED, null),
                Arguments.of(Call.ACCEPT, Errno.ENFILE, Outcome.RETRIED, null),
                Arguments.of(Call.ACCEPT, Errno.ENOBUFS, Outcome.RETRIED, null),
                Arguments.of(Call.ACCEPT, Errno.ENOMEM, Outcome.RETRIED, null),
                Arguments.of(Call.ACCEPT, Errno.EPERM, Outcome.RETRIED, null),
                // shutdown() (here from the message callback) that fails closes with the JDK's class
                Arguments.of(Call.SHUTDOWN, Errno.ENOTCONN, Outcome.CLOSED, SocketException.class),
                Arguments.of(Call.SHUTDOWN, Errno.ENOBUFS, Outcome.CLOSED, SocketException.class));
    }

    /**
     * An echo server on one loop (no I/O threads); the fault is armed on that loop's thread for one call,
     * then a client's message goes through (or the connection closes, or is never up).
     */
    @ParameterizedTest(name = "{0} {1} -> {2}")
    @MethodSource("dataPath")
    void serverSideFault(Call call, int errno, Outcome outcome, Class<? extends IOException> causeClass) throws Exception {
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        CompletableFuture<TcpConnection> firstUp = new CompletableFuture<>();
        CompletableFuture<TcpConnection> firstDown = new CompletableFuture<>();
        AtomicInteger ups = new AtomicInteger();
        AtomicInteger downs = new AtomicInteger();
        AtomicInteger messages = new AtomicInteger();
        TcpTestSupport.warmUpDescriptors();
        int fdsBefore = TcpTestSupport.openFds();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING, (l, t) -> reported.add(t))
                .onTransport(Transport.EPOLL)) {
            EventLoop base = loops.start("fault-base");
            TcpServer server = TcpTestSupport.server(loops, base, "fault", 0, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        ups.incrementAndGet();
                        firstUp.complete(c);
                    } else {
                        downs.incrementAndGet();
                        firstDown.complete(c);
                    }
                });
                s.setMessageCallback((c, b, t) -> {
                    c.send(b);
                    if (call == Call.SHUTDOWN && messages.incrementAndGet() > 1) {
                        c.shutdown(); // after the first message: the fault is armed by then
                    }
                });
            });
            EventLoop io = base; // no I/O threads: the base loop accepts and serves
            Thread ioThread = onLoop(io, Thread::currentThread);
            boolean atAccept = call == Call.EPOLL_CTL || call == Call.SETSOCKOPT || call == Call.ACCEPT;
            SocketChannel peer;
            if (atAccept) {
                arm(call, errno, ioThread);
                peer = SocketChannel.open(server.listenAddress());
            } else {
                peer = SocketChannel.open(server.listenAddress());
                TcpTestSupport.assertEchoes(peer, "before the fault");
                arm(call, errno, ioThread);
            }
            if (call == Call.EPOLL_WAIT || call == Call.EVENTFD_READ) {
                io.execute(() -> { }); // a wake-up: the next wait and the eventfd read come now
            }
            switch (outcome) {
                case RETRIED:
                    TcpTestSupport.assertEchoes(peer, "after the fault, nothing lost");
                    if (call == Call.CLOSE) {
                        get(firstUp, "up").forceClose();
                        get(firstDown, "the close whose close() fails");
                    }
                    break;
                case CLOSED: {
                    peer.write(ByteBuffer.wrap("after the fault".getBytes()));
                    TcpConnection c = get(firstDown, "the close on " + call + " " + Errno.errnoName(errno));
                    assertInstanceOf(causeClass, c.closeCause(), "close cause");
                    assertTrue(c.closeCause().getMessage().contains(Errno.errnoName(errno)), c.closeCause().getMessage());
                    break;
                }
                case DROPPED:
                    assertEquals(-1, readToEnd(peer), "the peer sees the close of a socket never a connection");
                    assertEquals(0, ups.get(), "no up callback");
                    break;
                default: { // REFUSED
                    assertEquals(-1, readToEnd(peer), "the peer sees the close of a connection never up");
                    TcpTestSupport.awaitAtMost(() -> reported.size() == 0 ? 1 : 0, 0, "the reported error");
                    assertInstanceOf(causeClass, reported.get(0));
                    assertTrue(reported.get(0).getMessage().contains(Errno.errnoName(errno)), reported.get(0).getMessage());
                    assertEquals(0, ups.get(), "no up callback for a connection never registered");
                    break;
                }
            }
            TcpTestSupport.awaitAtMost(() -> hits(call) >= 1 ? 0 : 1, 0, call + " made to fail");
            Faults.clear();
            onLoop(io, () -> null);
            assertEquals(outcome == Outcome.CLOSED || call == Call.CLOSE ? 1 : 0, downs.get(), "down callbacks");
            SpinDetector.assertIdle(io, "after " + call + " " + Errno.errnoName(errno));
            try (SocketChannel next = SocketChannel.open(server.listenAddress())) {
                TcpTestSupport.assertEchoes(next, "a new client after the fault");
            }
            peer.close();
            server.close();
        }
        TcpTestSupport.awaitAtMost(TcpTestSupport::openFds, fdsBefore, "descriptors after " + call + " " + Errno.errnoName(errno));
    }

    private static void arm(Call call, int errno, Thread thread) {
        Faults.fail(call, errno, 1, thread);
        // The read of a connection is a read or a readv, its write a send or a sendmsg,
        // whichever fits the buffers: both fail.
        if (call == Call.READ) {
            Faults.fail(Call.READV, errno, 1, thread);
        } else if (call == Call.SEND) {
            Faults.fail(Call.SENDMSG, errno, 1, thread);
        }
    }

    /** Failed calls of {@code call}'s kind: a read is a read or a readv, a write a send or a sendmsg. */
    private static int hits(Call call) {
        return Faults.hits(call) + (call == Call.READ ? Faults.hits(Call.READV) : call == Call.SEND ? Faults.hits(Call.SENDMSG) : 0);
    }

    private static int readToEnd(SocketChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(256);
        int n;
        try {
            while ((n = ch.read(b)) > 0) {
                b.clear();
            }
        } catch (SocketException e) {
            return -1; // reset: closed as well
        }
        return n;
    }

    static Stream<Arguments> connects() {
        return Stream.of(
                // call, errno, the JDK's class for it, fatal (as Connector.isFatal decides for that class on NIO)
                Arguments.of(Call.CONNECT, Errno.ECONNREFUSED, ConnectException.class, false),
                Arguments.of(Call.CONNECT, Errno.ETIMEDOUT, ConnectException.class, false),
                Arguments.of(Call.CONNECT, Errno.EHOSTUNREACH, NoRouteToHostException.class, false),
                Arguments.of(Call.CONNECT, Errno.ENETUNREACH, SocketException.class, false),
                Arguments.of(Call.CONNECT, Errno.EADDRNOTAVAIL, BindException.class, false),
                Arguments.of(Call.CONNECT, Errno.EACCES, BindException.class, true),
                Arguments.of(Call.CONNECT, Errno.EPERM, SocketException.class, true),
                Arguments.of(Call.CONNECT, Errno.EAFNOSUPPORT, SocketException.class, true),
                Arguments.of(Call.SOCKET, Errno.EMFILE, SocketException.class, false),
                Arguments.of(Call.SOCKET, Errno.ENFILE, SocketException.class, false),
                Arguments.of(Call.SOCKET, Errno.ENOBUFS, SocketException.class, false),
                Arguments.of(Call.SOCKET, Errno.ENOMEM, SocketException.class, false));
    }

    /** A client's connect fails once: the class the JDK throws, and NIO's retry decision for it. */
    @ParameterizedTest(name = "{0} {1} -> {2} fatal={3}")
    @MethodSource("connects")
    void connectFault(Call call, int errno, Class<? extends IOException> jdkClass, boolean fatal) throws Exception {
        CompletableFuture<Throwable> failed = new CompletableFuture<>();
        CompletableFuture<Long> nextDelay = new CompletableFuture<>();
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        TcpTestSupport.warmUpDescriptors();
        int fdsBefore = TcpTestSupport.openFds();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING).onTransport(Transport.EPOLL)) {
            EventLoop base = loops.start("fault-connect-server");
            EventLoop clientLoop = loops.start("fault-connect-client");
            TcpServer server = TcpTestSupport.server(loops, base, "fault-connect", 0, s -> { });
            TcpClient client = new TcpClient(clientLoop, server.listenAddress(), "fault-connect");
            client.setRetryDelays(10, 10);
            client.setConnectFailedCallback((cause, attempt, delay) -> {
                failed.complete(cause);
                nextDelay.complete(delay);
            });
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                }
            });
            Faults.fail(call, errno, 1, onLoop(clientLoop, Thread::currentThread));
            client.connect();
            Throwable cause = get(failed, "the connect-failed callback");
            assertEquals(jdkClass, cause.getClass(), "the class the JDK throws for " + Errno.errnoName(errno));
            assertEquals(fatal, Connector.isFatal((IOException) cause), "fatal");
            if (fatal) {
                assertEquals(-1L, get(nextDelay, "the delay"), "given up");
            } else {
                assertTrue(get(nextDelay, "the delay") >= 0, "retried");
                assertTrue(get(up, "the retry connects").connected());
            }
            // connectNow() throws the same class on the caller's thread.
            Faults.fail(call, errno, 1, Thread.currentThread());
            TcpClient now = new TcpClient(clientLoop, server.listenAddress(), "fault-connect-now");
            IOException thrown = null;
            try {
                now.connectNow();
            } catch (IOException e) {
                thrown = e;
            }
            assertInstanceOf(jdkClass, thrown, "connectNow");
            assertEquals(jdkClass, thrown.getClass());
            get(now.close(), "connectNow client close");
            get(client.close(), "client close");
            SpinDetector.assertIdle(clientLoop, "the client loop after " + Errno.errnoName(errno));
            server.close();
        }
        TcpTestSupport.awaitAtMost(TcpTestSupport::openFds, fdsBefore, "descriptors");
    }

    static Stream<Arguments> listens() {
        return Stream.of(
                // call, errno, the class the JDK throws for it from bind/listen
                Arguments.of(Call.SOCKET, Errno.EMFILE, SocketException.class),
                Arguments.of(Call.BIND, Errno.EADDRINUSE, BindException.class),
                Arguments.of(Call.BIND, Errno.EACCES, BindException.class),
                Arguments.of(Call.BIND, Errno.EADDRNOTAVAIL, BindException.class),
                Arguments.of(Call.LISTEN, Errno.EADDRINUSE, BindException.class),
                Arguments.of(Call.LISTEN, Errno.ENOBUFS, SocketException.class),
                Arguments.of(Call.SETSOCKOPT, Errno.ENOMEM, SocketException.class));
    }

    /** A server whose listening socket cannot be set up: start() throws the JDK's class, nothing leaks, a later server starts. */
    @ParameterizedTest(name = "{0} {1} -> {2}")
    @MethodSource("listens")
    void listenFault(Call call, int errno, Class<? extends IOException> jdkClass) throws Exception {
        TcpTestSupport.warmUpDescriptors();
        int fdsBefore = TcpTestSupport.openFds();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING).onTransport(Transport.EPOLL)) {
            EventLoop base = loops.start("fault-listen");
            TcpServer server = new TcpServer(base, TcpTestSupport.ANY_LOCAL_PORT, "fault-listen");
            server.setLoopOptions(loops.loopOptions());
            Faults.fail(call, errno, 1, null);
            Throwable thrown = org.junit.jupiter.api.Assertions.assertThrows(Throwable.class, server::start);
            Throwable io = thrown;
            while (io != null && !(io instanceof IOException)) {
                io = io.getCause();
            }
            assertTrue(io != null, "no IOException in " + thrown);
            assertEquals(jdkClass, io.getClass(), "the class the JDK throws for " + Errno.errnoName(errno));
            assertTrue(io.getMessage().contains(Errno.errnoName(errno)), io.getMessage());
            assertEquals(1, Faults.hits(call), call + " made to fail");
            Faults.clear();
            server.close();
            TcpServer next = TcpTestSupport.server(loops, base, "fault-listen-next", 0, s -> s.setMessageCallback((c, b, t) -> c.send(b)));
            try (SocketChannel peer = SocketChannel.open(next.listenAddress())) {
                TcpTestSupport.assertEchoes(peer, "a server started after the fault");
            }
            next.close();
            SpinDetector.assertIdle(base, "after " + call + " " + Errno.errnoName(errno));
        }
        TcpTestSupport.awaitAtMost(TcpTestSupport::openFds, fdsBefore, "descriptors after " + call + " " + Errno.errnoName(errno));
    }

    /** A failed getsockname/getpeername: the address is null that once and not kept; asked again, the real one. */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.EnumSource(value = Call.class, names = {"GETSOCKNAME", "GETPEERNAME"})
    void addressFault(Call call) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING).onTransport(Transport.EPOLL)) {
            EventLoop base = loops.start("fault-address");
            TcpServer server = TcpTestSupport.server(loops, base, "fault-address", 0, s -> s.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                }
            }));
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                TcpConnection c = get(up, "up");
                boolean remote = call == Call.GETPEERNAME;
                Faults.fail(call, Errno.ENOBUFS, 1, Thread.currentThread());
                assertEquals(null, remote ? c.peerAddress() : c.localAddress(), "the failed call's answer");
                assertEquals(1, Faults.hits(call));
                assertEquals(remote ? peer.getLocalAddress() : peer.getRemoteAddress(),
                        remote ? c.peerAddress() : c.localAddress(), "asked again");
                assertTrue(c.connected(), "the connection is not affected");
            }
            server.close();
        }
    }
}
