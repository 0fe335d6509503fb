package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link TcpConnection#forceClose()} from a thread other than the connection's loop: the close
 * happens on the loop, once, with the down callback there; queued output is dropped; racing
 * {@code forceClose}, {@code shutdown}, {@code send} and a closing peer still close exactly once;
 * {@code shutdown()} plus {@code forceCloseWithDelay} closes a peer that never closes after the
 * delay.
 */
@Timeout(30)
class TcpForceCloseTest {
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void forceCloseFromAnotherThreadClosesOnTheLoopOnce(EventLoop.WaitMode mode) throws Exception {
        for (boolean outputQueued : new boolean[] {false, true}) {
            CompletableFuture<TcpConnection> up = new CompletableFuture<>();
            CompletableFuture<Thread> downThread = new CompletableFuture<>();
            AtomicInteger downs = new AtomicInteger();
            try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
                EventLoop base = loops.start("fc-base");
                TcpServer server = TcpTestSupport.server(loops, base, "fc", 1, s -> s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        if (outputQueued) {
                            c.send(new byte[16 << 20]);
                        }
                        up.complete(c);
                    } else {
                        downs.incrementAndGet();
                        downThread.complete(Thread.currentThread());
                    }
                }));
                PeerEnd peerEnd;
                try (SocketChannel peer = SocketChannel.open()) {
                    peer.setOption(StandardSocketOptions.SO_RCVBUF, 64 * 1024);
                    peer.connect(server.listenAddress());
                    TcpConnection conn = get(up, "server connection");
                    Thread loopThread = onLoop(conn.loop(), Thread::currentThread);
                    conn.forceClose();
                    assertNotEquals(TcpConnection.State.CONNECTED, conn.state(), "state right after forceClose()");
                    assertFalse(conn.send(new byte[1]), "send after forceClose()");
                    assertEquals(loopThread, get(downThread, "down callback"), "the down callback runs on the loop");
                    onLoop(conn.loop(), () -> null);
                    assertEquals(1, downs.get());
                    assertTrue(conn.disconnected());
                    assertNull(conn.closeCause(), "a forced close is orderly");
                    // The peer sees the end (after whatever the kernel had already taken): a
                    // forced close is orderly, so the end is EOF, not a reset.
                    peerEnd = readToEnd(peer);
                }
                assertNull(peerEnd.error(), "the peer's read ended with an error, not EOF (after "
                        + peerEnd.bytes() + " bytes)");
                if (outputQueued) {
                    assertTrue(peerEnd.bytes() < 16 << 20, "queued output was not dropped: " + peerEnd.bytes());
                } else {
                    assertEquals(0, peerEnd.bytes(), "nothing was sent");
                }
                TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
                server.close();
            }
        }
    }

    /** How a peer's reading of a closing connection ended: the bytes it got, then EOF (null) or the error. */
    record PeerEnd(long bytes, IOException error) {
    }

    /**
     * Reads (blocking) until EOF or an error, and returns which. Only the reads are inside the
     * try: the callers assert on the outcome, outside any exception handling.
     */
    static PeerEnd readToEnd(SocketChannel peer) {
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
        long got = 0;
        try {
            int n;
            while ((n = peer.read(b.clear())) >= 0) {
                got += n;
            }
            return new PeerEnd(got, null);
        } catch (IOException e) {
            return new PeerEnd(got, e);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void racingClosesCloseEachConnectionOnce(EventLoop.WaitMode mode) throws Exception {
        int connections = 40;
        BlockingQueue<TcpConnection> ups = new LinkedBlockingQueue<>();
        Map<Long, AtomicInteger> downs = new ConcurrentHashMap<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("race-base");
            TcpServer server = TcpTestSupport.server(loops, base, "race", 2, s -> {
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
            List<SocketChannel> peers = new ArrayList<>();
            List<TcpConnection> conns = new ArrayList<>();
            try {
                for (int i = 0; i < connections; i++) {
                    peers.add(SocketChannel.open(server.listenAddress()));
                    conns.add(ups.poll(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS));
                }
                // conns[i] is not necessarily peers[i]'s; every pair is closed anyway
                int racers = 4;
                CyclicBarrier go = new CyclicBarrier(racers + 1);
                List<CompletableFuture<Void>> done = new ArrayList<>();
                for (int r = 0; r < racers; r++) {
                    int role = r;
                    CompletableFuture<Void> f = new CompletableFuture<>();
                    done.add(f);
                    Thread t = new Thread(() -> {
                        try {
                            go.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                            for (int i = 0; i < connections; i++) {
                                TcpConnection c = conns.get(i);
                                switch (role) {
                                    case 0: c.forceClose(); break;
                                    case 1: c.shutdown(); break;
                                    case 2: c.send(new byte[64]); break;
                                    default: peers.get(i).close(); break;
                                }
                            }
                            f.complete(null);
                        } catch (Throwable e) {
                            f.completeExceptionally(e);
                        }
                    }, "racer-" + r);
                    t.setDaemon(true);
                    t.start();
                }
                go.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                for (CompletableFuture<Void> f : done) {
                    get(f, "racer");
                }
                TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
                for (TcpConnection c : conns) {
                    onLoop(c.loop(), () -> null);
                    assertEquals(1, downs.get(c.id()).get(), "down callbacks of " + c);
                    assertTrue(c.disconnected());
                }
            } finally {
                for (SocketChannel p : peers) {
                    p.close();
                }
            }
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void shutdownThenForceCloseWithDelayClosesAPeerThatNeverCloses(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<Long> downAt = new CompletableFuture<>();
        AtomicInteger downs = new AtomicInteger();
        long delayMs = 200;
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("delay-base");
            TcpServer server = TcpTestSupport.server(loops, base, "delay", 1, s -> s.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                } else {
                    downs.incrementAndGet();
                    downAt.complete(System.nanoTime());
                }
            }));
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                TcpConnection conn = get(up, "server connection");
                conn.send(new byte[] {42});
                long start = System.nanoTime();
                conn.shutdown();
                conn.forceCloseWithDelay(delayMs, TimeUnit.MILLISECONDS);
                ByteBuffer b = ByteBuffer.allocate(8);
                assertEquals(1, peer.read(b), "the byte sent before shutdown()");
                assertEquals(-1, peer.read(b), "the FIN of shutdown()");
                long elapsedMs = TimeUnit.NANOSECONDS.toMillis(get(downAt, "the delayed close") - start);
                assertTrue(elapsedMs >= delayMs - 1, "closed after " + elapsedMs + " ms, delay " + delayMs);
                onLoop(conn.loop(), () -> null);
                assertEquals(1, downs.get());
            }
            server.close();
        }
    }

    /** Keeps the loop writing: one 64 KiB send per iteration while it stays within the 4 MiB output limit, until a send is refused. */
    static final class Writer implements Runnable {
        final TcpConnection conn;
        final CompletableFuture<Long> refused = new CompletableFuture<>();
        long sent;

        Writer(TcpConnection conn) {
            this.conn = conn;
        }

        @Override
        public void run() {
            int n = 64 * 1024;
            if (conn.disconnected()) {
                // Closed while its output was too full for another send: there is no send left to
                // be refused, and a writer that re-queued itself for ever would keep the loop from
                // ever terminating (the loop runs every queued task before it ends).
                refused.complete(sent);
                return;
            }
            if (conn.queuedBytes() <= (4 << 20) - n) {
                if (!conn.send(TcpTestSupport.streamBytes(21, sent, n))) {
                    refused.complete(sent);
                    return;
                }
                sent += n;
            }
            conn.loop().queueInLoop(this);
        }
    }

    /**
     * {@code forceClose()} (of a server connection) or {@code TcpClient.close()} from another
     * thread while the connection's loop is busy writing a large transfer that the peer reads: the
     * connection closes once, on its loop; later sends are refused; the peer got an intact prefix
     * of the stream and then the end; nothing is reported as an error.
     */
    @ParameterizedTest(name = "{0}, by the client: {1}")
    @org.junit.jupiter.params.provider.MethodSource("modesAndSides")
    void closeFromAnotherThreadWhileTheLoopWrites(EventLoop.WaitMode mode, boolean byClient) throws Exception {
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        CompletableFuture<Writer> writing = new CompletableFuture<>();
        CompletableFuture<Thread> downThread = new CompletableFuture<>();
        AtomicInteger downs = new AtomicInteger();
        CompletableFuture<StreamEnd> readerDone = new CompletableFuture<>();
        CompletableFuture<Void> halfRead = new CompletableFuture<>();
        long[] got = new long[1];
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("fcw-base");
            EventLoop clientLoop = loops.start("fcw-client");
            ConnectionCallback writerSide = c -> {
                if (c.connected()) {
                    Writer w = new Writer(c);
                    w.run();
                    writing.complete(w);
                } else {
                    downs.incrementAndGet();
                    downThread.complete(Thread.currentThread());
                }
            };
            TcpServer server = TcpTestSupport.server(loops, base, "fcw", 1, s -> {
                if (byClient) {
                    s.setConnectionCallback(c -> {
                        if (!c.connected()) {
                            readerDone.complete(new StreamEnd(got[0], -1, null));
                        }
                    });
                    s.setMessageCallback((c, b, t) -> {
                        ByteBuffer v = b.readableView();
                        long bad = TcpTestSupport.firstMismatch(21, got[0], v);
                        if (bad >= 0) {
                            readerDone.complete(new StreamEnd(got[0], bad, null));
                        }
                        got[0] += v.remaining();
                        b.retrieveAll();
                        if (got[0] >= 8 << 20) {
                            halfRead.complete(null);
                        }
                    });
                } else {
                    s.setConnectionCallback(writerSide);
                }
            });
            TcpClient client = null;
            SocketChannel peer = null;
            Thread reader = null;
            if (byClient) {
                client = new TcpClient(clientLoop, server.listenAddress(), "fcw-client");
                client.setConnectionCallback(writerSide);
                client.connect();
            } else {
                peer = SocketChannel.open(server.listenAddress());
                SocketChannel p = peer;
                reader = new Thread(() -> {
                    try {
                        readerDone.complete(readStream(p, halfRead));
                    } catch (Throwable e) {
                        readerDone.completeExceptionally(e); // not an assertion: the test fails on it
                    }
                }, "fcw-reader");
                reader.setDaemon(true);
                reader.start();
            }
            try {
                Writer w = get(writing, "the writer");
                get(halfRead, "8 MiB at the reader");
                Thread loopThread = onLoop(w.conn.loop(), Thread::currentThread);
                if (byClient) {
                    get(client.close(), "client close during the transfer");
                    assertTrue(client.isClosed());
                } else {
                    w.conn.forceClose();
                }
                assertFalse(w.conn.send(new byte[1]), "send from another thread after the close");
                assertEquals(loopThread, get(downThread, "down callback"), "the down callback runs on the loop");
                long sent = get(w.refused, "the writer's refused send");
                StreamEnd end = get(readerDone, "the reader's end");
                assertEquals(-1, end.firstMismatch(), "the stream differs at byte " + end.firstMismatch());
                assertNull(end.error(), "the reader's stream ended with an error, not EOF, after " + end.bytes());
                long read = end.bytes();
                assertTrue(read <= sent && read >= 8 << 20, "read " + read + " of " + sent);
                onLoop(w.conn.loop(), () -> null);
                assertEquals(1, downs.get(), "down callbacks");
                assertTrue(w.conn.disconnected());
                TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            } finally {
                if (peer != null) {
                    peer.close();
                }
                if (client != null) {
                    get(client.close(), "client close");
                }
            }
            server.close();
        }
        assertTrue(errors.isEmpty(), "errors reported: " + errors);
    }

    /**
     * How the reader of the transfer ended: the bytes it checked, the offset of the first byte
     * that differs from the stream (-1: none), and the error that ended it (null: EOF).
     */
    record StreamEnd(long bytes, long firstMismatch, IOException error) {
    }

    /** Reads and checks the stream until EOF, an error or a wrong byte; only the read is in a try. */
    static StreamEnd readStream(SocketChannel p, CompletableFuture<Void> halfRead) {
        ByteBuffer b = ByteBuffer.allocateDirect(256 * 1024);
        long pos = 0;
        while (true) {
            int n;
            try {
                n = p.read(b.clear());
            } catch (IOException e) {
                return new StreamEnd(pos, -1, e);
            }
            if (n < 0) {
                return new StreamEnd(pos, -1, null);
            }
            b.flip();
            long bad = TcpTestSupport.firstMismatch(21, pos, b);
            if (bad >= 0) {
                return new StreamEnd(pos, bad, null);
            }
            pos += n;
            if (pos >= 8 << 20) {
                halfRead.complete(null);
            }
        }
    }

    static List<org.junit.jupiter.params.provider.Arguments> modesAndSides() {
        List<org.junit.jupiter.params.provider.Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            a.add(org.junit.jupiter.params.provider.Arguments.of(m, false));
            a.add(org.junit.jupiter.params.provider.Arguments.of(m, true));
        }
        return a;
    }
}
