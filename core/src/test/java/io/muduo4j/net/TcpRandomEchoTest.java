package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Netty's {@code SocketEchoTest}: 1 MiB of random bytes sent in random-sized writes (from the
 * client's loop and from another thread, through every {@code send} variant) to a server that echoes
 * each read back in random-sized pieces. The server's socket buffers are small, so its writes are
 * partial and many small sends are gathered into one write. Every byte comes back in order (checked
 * position by position and by CRC32), with client and server on one loop and on two, with reading
 * on throughout, and with the server pausing reading mid-stream ({@code stopRead}, three times)
 * and resuming ({@code startRead} from another thread) while the client toggles its own reading
 * from another thread. While paused, no byte is read although the peer's bytes are waiting.
 */
@Timeout(60)
class TcpRandomEchoTest {
    private static final int TOTAL = 1 << 20;
    private static final int MAX_WRITE = 32 * 1024;
    private static final int IN_LOOP_PART = 256 * 1024;
    private static final int[] PAUSE_AT = {200_000, 500_000, 800_000};

    static List<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            for (boolean sameLoop : new boolean[] {false, true}) {
                for (boolean pause : new boolean[] {false, true}) {
                    a.add(Arguments.of(m, sameLoop, pause));
                }
            }
        }
        return a;
    }

    /** Server side: echoes each read in random-sized pieces; optionally pauses reading at {@link #PAUSE_AT}. */
    static final class Echoer {
        final Random random = new Random(7); // loop thread only
        final boolean pause;
        final List<CompletableFuture<Long>> paused = new ArrayList<>();
        final List<String> violations = new CopyOnWriteArrayList<>();
        final AtomicInteger partialWrites = new AtomicInteger();
        volatile boolean reading = true;
        long received; // loop thread only
        int nextPause;

        Echoer(boolean pause) {
            this.pause = pause;
            for (int i = 0; i < PAUSE_AT.length; i++) {
                paused.add(new CompletableFuture<>());
            }
        }

        void onMessage(TcpConnection c, Buffer b) {
            if (!reading) {
                violations.add("read " + b.readableBytes() + " bytes while paused at " + received);
            }
            received += b.readableBytes();
            while (b.readableBytes() > 0) {
                int n = 1 + random.nextInt(Math.min(b.readableBytes(), MAX_WRITE));
                ByteBuffer v = b.readableView();
                v.limit(v.position() + n);
                assertTrue(c.send(v), "echo send");
                b.retrieve(n);
            }
            if (c.queuedBytes() > 0) {
                partialWrites.incrementAndGet();
            }
            if (pause && nextPause < PAUSE_AT.length && received >= PAUSE_AT[nextPause]) {
                reading = false;
                c.stopRead(); // in the loop: no further read before startRead()
                paused.get(nextPause++).complete(received);
            }
        }
    }

    /**
     * Shrinks the send buffer of an established connection (only that one: a receive buffer shrunk
     * below the window already advertised makes the kernel drop segments, and retransmission
     * timeouts slow the test to a crawl).
     */
    static void smallSendBuffer(TcpConnection c, int bytes) {
        try {
            c.loop().poller().setOption(c, java.net.StandardSocketOptions.SO_SNDBUF, bytes);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Sends {@code data[from, to)} in random-sized writes, rotating through the send variants. */
    static void sendRandomly(TcpConnection c, byte[] data, int from, int to, Random random) {
        int pos = from;
        int variant = 0;
        while (pos < to) {
            int n = Math.min(to - pos, 1 + random.nextInt(MAX_WRITE));
            boolean ok;
            switch (variant++ % 4) {
                case 0:
                    ok = c.send(data, pos, n);
                    break;
                case 1:
                    ok = c.send(ByteBuffer.wrap(data, pos, n));
                    break;
                case 2:
                    ByteBuffer d = ByteBuffer.allocateDirect(n).put(data, pos, n).flip();
                    ok = c.send(d);
                    assertFalse(d.hasRemaining(), "send(ByteBuffer) consumes the bytes");
                    break;
                default:
                    Buffer b = new Buffer();
                    b.append(data, pos, n);
                    ok = c.send(b);
                    assertEquals(0, b.readableBytes(), "send(Buffer) retrieves the bytes");
                    break;
            }
            assertTrue(ok, "send at " + pos);
            pos += n;
        }
    }

    @ParameterizedTest(name = "{0}, same loop: {1}, pausing: {2}")
    @MethodSource("cases")
    void randomBytesInRandomWritesComeBackIntact(EventLoop.WaitMode mode, boolean sameLoop, boolean pause) throws Exception {
        byte[] data = new byte[TOTAL];
        new Random(mode.ordinal() * 4L + (sameLoop ? 2 : 0) + (pause ? 1 : 0)).nextBytes(data);
        CRC32 sentCrc = new CRC32();
        sentCrc.update(data);
        Echoer echoer = new Echoer(pause);
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        CompletableFuture<TcpConnection> serverUp = new CompletableFuture<>();
        CompletableFuture<TcpConnection> clientUp = new CompletableFuture<>();
        CompletableFuture<Long> done = new CompletableFuture<>();
        CRC32 receivedCrc = new CRC32();
        long[] received = new long[1];
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("recho-base");
            TcpServer server = TcpTestSupport.server(loops, base, "recho", sameLoop ? 0 : 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        smallSendBuffer(c, 8 * 1024);
                        serverUp.complete(c);
                    }
                });
                s.setMessageCallback((c, b, t) -> echoer.onMessage(c, b));
            });
            EventLoop clientLoop = sameLoop ? base : loops.start("recho-client");
            TcpClient client = new TcpClient(clientLoop, server.listenAddress(), "recho-client");
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    sendRandomly(c, data, 0, IN_LOOP_PART, new Random(1)); // in the loop
                    clientUp.complete(c);
                }
            });
            client.setMessageCallback((c, b, t) -> {
                ByteBuffer v = b.readableView();
                for (int i = v.position(); i < v.limit(); i++) {
                    if (v.get(i) != data[(int) received[0] + i - v.position()]) {
                        done.completeExceptionally(new AssertionError("echo differs at byte " + (received[0] + i - v.position())));
                        break;
                    }
                }
                received[0] += v.remaining();
                receivedCrc.update(v);
                b.retrieveAll();
                if (received[0] >= TOTAL) {
                    done.complete(received[0]);
                }
            });
            client.connect();
            TcpConnection cc = get(clientUp, "client connection");
            TcpConnection sc = get(serverUp, "server connection");
            assertEquals(sameLoop, cc.loop() == sc.loop(), "client and server on the same loop");
            sendRandomly(cc, data, IN_LOOP_PART, TOTAL, new Random(2)); // from another thread
            if (pause) {
                for (int i = 0; i < PAUSE_AT.length; i++) {
                    long at = get(echoer.paused.get(i), "pause " + i);
                    // The client's bytes wait in the server's socket; the server's loop turns over
                    // several times and must not read them.
                    TcpTestSupport.awaitAtMost(() -> {
                        try {
                            return onLoop(clientLoop, cc::bytesSent) > at ? 0 : 1;
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }, 0, "client bytes beyond the pause point");
                    LoopTestSupport.runIterations(sc.loop(), 5);
                    assertEquals(at, onLoop(sc.loop(), sc::bytesReceived), "bytes read while paused");
                    assertFalse(onLoop(sc.loop(), sc::isReading), "reading while paused");
                    for (int k = 0; k < 50; k++) { // racing toggles from this thread: the last one wins
                        cc.stopRead();
                        cc.startRead();
                    }
                    echoer.reading = true;
                    sc.startRead(); // from another thread
                }
            }
            assertEquals(TOTAL, (long) get(done, 30, "the echo of 1 MiB"));
            assertEquals(sentCrc.getValue(), onLoop(clientLoop, receivedCrc::getValue), "CRC32 of the echo");
            assertTrue(echoer.violations.isEmpty(), "reads while paused: " + echoer.violations);
            assertTrue(echoer.partialWrites.get() > 0, "no echo write was partial: the test lost its point");
            get(client.close(), "client close");
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
            assertTrue(errors.isEmpty(), "errors reported: " + errors);
        }
    }

    /**
     * A raw peer with small socket buffers that writes 1 MiB in random chunks on one thread and
     * reads in small random reads on another: the server's echo writes are partial, output backs
     * up and drains through {@code OP_WRITE}, and every byte comes back in order.
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void partialWritesToASlowPeerWithSmallBuffers(EventLoop.WaitMode mode) throws Exception {
        byte[] data = new byte[TOTAL];
        new Random(99 + mode.ordinal()).nextBytes(data);
        Echoer echoer = new Echoer(false);
        AtomicLong maxOutput = new AtomicLong();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("slow-base");
            TcpServer server = TcpTestSupport.server(loops, base, "slow", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        smallSendBuffer(c, 4 * 1024);
                    }
                });
                s.setMessageCallback((c, b, t) -> {
                    echoer.onMessage(c, b);
                    maxOutput.accumulateAndGet(c.queuedBytes(), Math::max);
                });
            });
            try (SocketChannel peer = SocketChannel.open()) {
                TcpTestSupport.setSmallBuffers(peer, 4 * 1024);
                peer.connect(server.listenAddress());
                CompletableFuture<Void> written = new CompletableFuture<>();
                Thread writer = new Thread(() -> {
                    try {
                        Random r = new Random(3);
                        int pos = 0;
                        while (pos < TOTAL) {
                            int n = Math.min(TOTAL - pos, 1 + r.nextInt(MAX_WRITE));
                            ByteBuffer chunk = ByteBuffer.wrap(data, pos, n);
                            while (chunk.hasRemaining()) {
                                peer.write(chunk);
                            }
                            pos += n;
                        }
                        written.complete(null);
                    } catch (Throwable e) {
                        written.completeExceptionally(e);
                    }
                }, "slow-writer");
                writer.setDaemon(true);
                writer.start();
                Random r = new Random(4);
                ByteBuffer in = ByteBuffer.allocate(2048);
                int got = 0;
                while (got < TOTAL) {
                    in.clear().limit(1 + r.nextInt(in.capacity()));
                    int n = peer.read(in);
                    assertTrue(n > 0, "EOF after " + got);
                    for (int i = 0; i < n; i++) {
                        if (in.get(i) != data[got + i]) {
                            throw new AssertionError("echo differs at byte " + (got + i));
                        }
                    }
                    got += n;
                    if ((got & 7) == 0) {
                        Thread.yield(); // a slow reader
                    }
                }
                get(written, "the peer's writes");
                peer.shutdownOutput();
                assertEquals(-1, peer.read(in.clear()), "bytes beyond the echo");
            }
            assertTrue(echoer.partialWrites.get() > 0, "no echo write was partial");
            assertTrue(maxOutput.get() > 0, "output never backed up");
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
            assertTrue(errors.isEmpty(), "errors reported: " + errors);
        }
    }
}
