package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * 1 GiB of a deterministic stream relayed through a server with 2 I/O threads: a raw blocking
 * socket writes into connection A (on one I/O loop), the server forwards every read to connection B
 * (on the other I/O loop) with a cross-thread {@code send}, and a {@link TcpClient} at B's end checks
 * the length and the CRC32. The relay is flow-controlled the muduo way: B's high-water mark stops
 * reading on A, its low-water mark resumes it, so the server's memory stays bounded.
 */
@Timeout(60)
class TransferTest {
    private static final long TOTAL = 1L << 30;
    private static final int CHUNK = 1 << 20;
    private static final long HIGH_WATER = 4L << 20;
    private static final long LOW_WATER = 1L << 20;

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void oneGibibyteArrivesIntact(EventLoop.WaitMode mode) throws Exception {
        // A 1 MiB pattern twice over; chunk i is the 1 MiB slice at a rotating offset, so a lost,
        // doubled or reordered chunk changes the checksum.
        ByteBuffer pattern = ByteBuffer.allocateDirect(2 * CHUNK);
        byte[] once = TcpTestSupport.streamBytes(42, 0, CHUNK);
        pattern.put(once).put(once).flip();

        AtomicReference<TcpConnection> sink = new AtomicReference<>();
        AtomicReference<TcpConnection> source = new AtomicReference<>();
        AtomicLong highWaters = new AtomicLong();
        AtomicLong lowWaters = new AtomicLong();
        java.util.List<String> unpaired = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicLong maxQueued = new AtomicLong();
        CompletableFuture<Void> sourceUp = new CompletableFuture<>();
        CompletableFuture<Long> received = new CompletableFuture<>();
        CRC32 receivedCrc = new CRC32();
        long[] receivedBytes = new long[1];

        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("xfer-base");
            EventLoop clientLoop = loops.start("xfer-client");
            TcpServer server = TcpTestSupport.server(loops, base, "xfer", 2, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected() && !sink.compareAndSet(null, c)) {
                        source.set(c);
                        sourceUp.complete(null);
                    }
                });
                s.setMessageCallback((c, b, t) -> {
                    if (c == source.get()) {
                        sink.get().send(b); // another loop's connection: a cross-thread send
                    } else {
                        b.retrieveAll();
                    }
                });
                s.setHighWaterMarkCallback((c, queued) -> {
                    if (highWaters.incrementAndGet() != lowWaters.get() + 1) {
                        unpaired.add("high water #" + highWaters.get() + " after " + lowWaters.get() + " low");
                    }
                    maxQueued.accumulateAndGet(queued, Math::max);
                    source.get().stopRead();
                }, HIGH_WATER);
                // The callbacks stop the source one cross-thread hop late: allow for the lag.
                s.setOutputLimit(256L << 20, null);
                s.setLowWaterMarkCallback(c -> {
                    if (lowWaters.incrementAndGet() != highWaters.get()) {
                        unpaired.add("low water #" + lowWaters.get() + " after " + highWaters.get() + " high");
                    }
                    source.get().startRead();
                }, LOW_WATER);
            });
            TcpClient receiver = new TcpClient(clientLoop, server.listenAddress(), "xfer-receiver");
            CompletableFuture<Void> receiverUp = new CompletableFuture<>();
            receiver.setConnectionCallback(c -> {
                if (c.connected()) {
                    receiverUp.complete(null);
                }
            });
            receiver.setMessageCallback((c, b, t) -> {
                ByteBuffer v = b.readableView();
                receivedBytes[0] += v.remaining();
                receivedCrc.update(v);
                b.retrieveAll();
                if (receivedBytes[0] >= TOTAL) {
                    received.complete(receivedBytes[0]);
                }
            });
            receiver.connect();
            get(receiverUp, "receiver connection");
            TcpTestSupport.awaitAtMost(() -> sink.get() == null ? 1 : 0, 0, "the sink connection on the server");

            long start = System.nanoTime();
            CRC32 sentCrc = new CRC32();
            try (SocketChannel sender = SocketChannel.open(server.listenAddress())) {
                get(sourceUp, "source connection");
                assertNotSame(sink.get().loop(), source.get().loop(), "the two connections share an I/O loop");
                for (long sent = 0, i = 0; sent < TOTAL; sent += CHUNK, i++) {
                    int off = (int) ((i * 4099) % CHUNK);
                    ByteBuffer chunk = pattern.duplicate().position(off).limit(off + CHUNK);
                    sentCrc.update(chunk.duplicate());
                    while (chunk.hasRemaining()) {
                        sender.write(chunk);
                    }
                }
                assertEquals(TOTAL, (long) get(received, 40, "1 GiB at the receiver"));
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("TransferTest %s: 1 GiB relayed in %d ms (%.0f MiB/s), %d high-water events, max queued %d%n",
                    mode, ms, 1024.0 * 1000 / Math.max(1, ms), highWaters.get(), maxQueued.get());
            assertEquals(sentCrc.getValue(), TcpTestSupport.onLoop(clientLoop, receivedCrc::getValue), "CRC32");
            // A stray high water (stop reading) without its low water (resume) would stall a relay.
            assertTrue(unpaired.isEmpty(), "water-mark callbacks out of pairs: " + unpaired);
            TcpTestSupport.onLoop(sink.get().loop(), () -> null);
            assertEquals(highWaters.get(), lowWaters.get(), "every high water was followed by its low water");
            // Cross-thread sends are staged before they count as output, so the bound is loose.
            assertTrue(maxQueued.get() < 256L << 20, "relay output grew to " + maxQueued.get());
            get(receiver.close(), "receiver close");
            server.close();
        }
    }
}
