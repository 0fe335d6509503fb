package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The peer's FIN on a connection that does not allow half-closure (the default) is a lingering
 * close: everything {@code send} accepted reaches the peer before the connection closes, or the
 * close cause says why it could not.
 */
@Timeout(60)
class PeerFinFlushTest {
    private static final int ECHO_TOTAL = 16 << 20;
    private static final int BLOB = 8 << 20;

    /** A client that sends 16 MiB and shuts its output right after the last byte gets all 16 MiB back, then EOF. */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void echoOfEverythingSentBeforeTheFinArrivesThenEof(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("fin-echo-base");
            TcpServer server = TcpTestSupport.server(loops, base, "fin-echo", 1, s -> {
                s.setMessageCallback((c, b, t) -> c.send(b));
                s.setConnectionCallback(c -> {
                    if (!c.connected()) {
                        down.complete(c);
                    }
                });
            });
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                CompletableFuture<Void> written = new CompletableFuture<>();
                Thread writer = new Thread(() -> {
                    try {
                        for (int pos = 0; pos < ECHO_TOTAL; pos += 64 * 1024) {
                            ByteBuffer chunk = ByteBuffer.wrap(TcpTestSupport.streamBytes(7, pos, 64 * 1024));
                            while (chunk.hasRemaining()) {
                                peer.write(chunk);
                            }
                        }
                        peer.shutdownOutput();
                        written.complete(null);
                    } catch (Throwable e) {
                        written.completeExceptionally(e);
                    }
                }, "fin-echo-writer");
                writer.setDaemon(true);
                writer.start();
                long got = readToEof(peer, 7);
                get(written, "the writer");
                assertEquals(ECHO_TOTAL, got, "bytes echoed before EOF");
            }
            TcpConnection c = get(down, "the server's down callback");
            assertNull(c.closeCause(), "an orderly lingering close");
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
    }

    /**
     * At defaults, 8 MiB sent from another thread, then the peer's FIN right behind: every byte
     * arrives. Whether the loop handles the FIN while part of the send is still staged (the FIN
     * read in the poll before the send's flush command runs) or only after the drain (the
     * connection is above high water, so its own back-pressure pauses its reading once that command
     * runs) is a race here; {@link #bytesStillStagedWhenTheFinIsHandledAreDelivered} makes the first
     * case certain.
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aFinRightBehindALargeSendFromAnotherThreadGetsEverything(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("fin-staged-base");
            TcpServer server = TcpTestSupport.server(loops, base, "fin-staged", 1, s -> s.setConnectionCallback(c -> {
                (c.connected() ? up : down).complete(c);
            }));
            try (SocketChannel peer = SocketChannel.open()) {
                TcpTestSupport.setSmallBuffers(peer, 16 * 1024);
                peer.connect(server.listenAddress());
                TcpConnection conn = get(up, "server connection");
                assertTrue(conn.send(TcpTestSupport.streamBytes(9, 0, BLOB)), "send from the test thread accepted");
                assertTrue(conn.queuedBytes() > 0, "some of the blob is still queued");
                peer.shutdownOutput();
                long got = readToEof(peer, 9);
                assertEquals(BLOB, got, "bytes delivered after our FIN");
            }
            assertNull(get(down, "the server's down callback").closeCause(), "an orderly lingering close");
            server.close();
        }
    }

    /**
     * The FIN is handled while bytes another thread sent are still in the connection's staging
     * buffer, not yet taken over by the loop: the lingering close takes them over, and every one
     * reaches the peer before EOF. At defaults (below high water, so reading is not paused).
     *
     * <p>Made certain by holding the I/O loop in a task: meanwhile the peer sends its FIN (awaited
     * in {@code /proc/net/tcp}: the server's socket is in CLOSE_WAIT), and the test thread sends
     * until the socket is full, so the rest is staged and the sender posts the loop's flush
     * command. A probe queued before that command records the state: the loop's next iteration
     * polls first (the FIN, handled before any queued task), then runs the probe, then the command.
     * A probe that sees the connection no longer CONNECTED proves that the FIN was handled while the
     * bytes were staged.
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void bytesStillStagedWhenTheFinIsHandledAreDelivered(EventLoop.WaitMode mode) throws Exception {
        final int chunk = 16 * 1024;
        final long seed = 11;
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("fin-held-base");
            TcpServer server = TcpTestSupport.server(loops, base, "fin-held", 1, s -> s.setConnectionCallback(c -> {
                (c.connected() ? up : down).complete(c);
            }));
            try (SocketChannel peer = SocketChannel.open()) {
                peer.setOption(StandardSocketOptions.SO_RCVBUF, 4 * 1024); // and it reads only at the end
                peer.connect(server.listenAddress());
                TcpConnection conn = get(up, "server connection");
                EventLoop io = conn.loop();
                CountDownLatch held = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                CompletableFuture<Void> heldEnded = new CompletableFuture<>();
                io.execute(() -> {
                    held.countDown();
                    try {
                        if (release.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS)) {
                            heldEnded.complete(null);
                        } else {
                            heldEnded.completeExceptionally(new AssertionError("the held loop task was not released"));
                        }
                    } catch (InterruptedException e) {
                        heldEnded.completeExceptionally(e);
                    }
                });
                LoopTestSupport.await(held, "the I/O loop to be held");

                peer.shutdownOutput();
                awaitTcpState((InetSocketAddress) peer.getRemoteAddress(), (InetSocketAddress) peer.getLocalAddress(),
                        TCP_CLOSE_WAIT, "the server's socket to have received the FIN");

                CompletableFuture<TcpConnection.State> atProbe = new CompletableFuture<>();
                io.execute(() -> atProbe.complete(conn.state())); // queued ahead of the flush command below
                long sent = 0;
                while (conn.queuedBytes() == 0) { // written directly by this thread until the socket is full
                    assertTrue(sent < 64L << 20, "premise: the socket took " + sent + " bytes and is still not full");
                    assertTrue(conn.send(TcpTestSupport.streamBytes(seed, sent, chunk)), "direct send accepted");
                    sent += chunk;
                }
                for (int i = 0; i < 2; i++) { // staged whole: the loop owns the output now
                    assertTrue(conn.send(TcpTestSupport.streamBytes(seed, sent, chunk)), "staged send accepted");
                    sent += chunk;
                }
                long staged = conn.queuedBytes();
                assertTrue(staged >= 2L * chunk, "premise: at least the last two sends staged, queued " + staged);
                assertTrue(conn.isWritable(), "premise: below high water, so back-pressure does not pause reading");
                assertEquals(TcpConnection.State.CONNECTED, conn.state(), "premise: the held loop has not seen the FIN");

                release.countDown();
                get(heldEnded, "the held task");
                assertNotEquals(TcpConnection.State.CONNECTED, get(atProbe, "the probe"),
                        "premise: the FIN was handled before the loop's flush command, with " + staged + " bytes staged");
                long got = readToEof(peer, seed);
                assertEquals(sent, got, "bytes delivered before EOF (" + staged + " of them staged at the FIN)");
            }
            assertNull(get(down, "the server's down callback").closeCause(), "an orderly lingering close");
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
    }

    private static final String TCP_CLOSE_WAIT = "08";

    /**
     * Waits until the socket with local port {@code local} and remote port {@code remote} is in
     * {@code state} (hex, as {@code /proc/net/tcp} and {@code tcp6} show it; a JDK socket may be
     * IPv6 with a mapped address); the JDK has no API for the TCP state. Loopback only, so the two
     * ports identify the socket.
     */
    private static void awaitTcpState(InetSocketAddress local, InetSocketAddress remote, String state, String what)
            throws IOException {
        String l = String.format(":%04X", local.getPort());
        String r = String.format(":%04X", remote.getPort());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TcpTestSupport.WAIT_SECONDS);
        for (;;) {
            for (String file : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
                Path p = Path.of(file);
                if (!Files.exists(p)) {
                    continue;
                }
                for (String line : Files.readAllLines(p)) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 3 && f[1].endsWith(l) && f[2].endsWith(r) && f[3].equals(state)) {
                        return;
                    }
                }
            }
            assertTrue(System.nanoTime() - deadline < 0, "timed out waiting for " + what + " (" + local + " to "
                    + remote + " in state " + state + ")");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    /** A peer that sends its FIN and never reads: after the close-flush timeout the connection is reset, the cause says so. */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aFlushThatCannotFinishEndsAtTheTimeoutWithItsCause(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("fin-timeout-base");
            TcpServer server = TcpTestSupport.server(loops, base, "fin-timeout", 1, s -> {
                s.setCloseFlushTimeoutMs(300);
                s.setConnectionCallback(c -> {
                    // Not paused by its own back-pressure, so it reads the FIN while its output is
                    // queued (a paused connection sees the FIN when it reads again).
                    c.setUpstream(null);
                    (c.connected() ? up : down).complete(c);
                });
            });
            try (SocketChannel peer = SocketChannel.open()) {
                TcpTestSupport.setSmallBuffers(peer, 16 * 1024);
                peer.connect(server.listenAddress());
                TcpConnection conn = get(up, "server connection");
                assertTrue(conn.send(TcpTestSupport.streamBytes(3, 0, BLOB)));
                peer.shutdownOutput();
                TcpConnection closed = get(down, "the down callback after the timeout");
                Throwable cause = closed.closeCause();
                assertInstanceOf(SocketTimeoutException.class, cause, "close cause");
                assertTrue(cause.getMessage().contains("not flushed"), cause.getMessage());
                assertTrue(closed.queuedBytes() > 0, "bytes were left when it gave up");
            }
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
    }

    /** A peer that resets while its FIN's lingering flush runs: the write error is the close cause. */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aResetDuringTheFlushIsTheCloseCause(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("fin-reset-base");
            TcpServer server = TcpTestSupport.server(loops, base, "fin-reset", 1, s ->
                    s.setConnectionCallback(c -> {
                        c.setUpstream(null); // reads the FIN while its output is queued, as above
                        (c.connected() ? up : down).complete(c);
                    }));
            SocketChannel peer = SocketChannel.open();
            TcpTestSupport.setSmallBuffers(peer, 16 * 1024);
            peer.connect(server.listenAddress());
            TcpConnection conn = get(up, "server connection");
            assertTrue(conn.send(TcpTestSupport.streamBytes(4, 0, BLOB)));
            peer.shutdownOutput();
            // The server is lingering now: DISCONNECTING with output queued, no down callback yet.
            TcpTestSupport.awaitAtMost(() -> conn.state() == TcpConnection.State.DISCONNECTING ? 0 : 1, 0,
                    "the lingering state");
            assertTrue(!down.isDone(), "closed before the flush could finish");
            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close(); // RST
            Throwable cause = get(down, "the down callback after the reset").closeCause();
            assertNotNull(cause, "a reset during the flush is not an orderly close");
            assertInstanceOf(IOException.class, cause);
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
    }

    /** Reads to EOF, checking stream {@code seed}; returns the count. Fails on a reset. */
    private static long readToEof(SocketChannel peer, long seed) throws IOException {
        ByteBuffer in = ByteBuffer.allocateDirect(256 * 1024);
        long got = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        int n;
        while ((n = peer.read(in.clear())) >= 0) {
            in.flip();
            long bad = TcpTestSupport.firstMismatch(seed, got, in);
            assertEquals(-1, bad, "first wrong byte");
            got += n;
            assertTrue(System.nanoTime() < deadline, "still reading after 40 s: " + got);
        }
        return got;
    }
}
