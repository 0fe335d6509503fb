package io.muduo4j.examples;

import static io.muduo4j.examples.ExampleTestSupport.ANY_LOCAL_PORT;
import static io.muduo4j.examples.ExampleTestSupport.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.muduo4j.net.EventLoopThread;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The relay keeps memory bounded in both directions: 1 GiB from a fast backend to a slow client,
 * and 64 MiB from a fast client to a slow backend, each byte checked by CRC.
 */
@Timeout(120)
class TcpRelayTest {
    /** The relay's queue may hold about the high-water mark (64 KiB) plus one read; far below this. */
    private static final long QUEUE_BOUND = 384 * 1024;
    private static final int CHUNK = 256 * 1024;

    /** What a stream carried: its length and CRC32. */
    record Digest(long bytes, long crc) {
    }

    /** Writes {@code total} bytes of a xorshift stream to {@code ch}; returns their digest. */
    static Digest writeStream(SocketChannel ch, long total, long seed) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        CRC32 crc = new CRC32();
        long x = seed | 1;
        for (long sent = 0; sent < total; sent += CHUNK) {
            buf.clear();
            while (buf.hasRemaining()) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                buf.putLong(x);
            }
            buf.flip();
            crc.update(buf.duplicate());
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        }
        return new Digest(total, crc.getValue());
    }

    /** Reads to end of stream; after every {@code burst} bytes pauses {@code pauseMicros} (a slow reader). */
    static Digest readStream(SocketChannel ch, long burst, long pauseMicros) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        CRC32 crc = new CRC32();
        long total = 0;
        long sinceBreak = 0;
        for (int n; (n = ch.read(buf.clear())) >= 0; ) {
            crc.update(buf.flip());
            total += n;
            sinceBreak += n;
            if (sinceBreak >= burst) {
                sinceBreak = 0;
                LockSupport.parkNanos(pauseMicros * 1000); // pacing, not synchronisation
            }
        }
        return new Digest(total, crc.getValue());
    }

    /** A blocking backend on loopback that serves one connection with {@code serve}. */
    static CompletableFuture<Digest> backend(ServerSocketChannel listener, IoFunction serve) {
        return CompletableFuture.supplyAsync(() -> {
            try (SocketChannel ch = listener.accept()) {
                return serve.apply(ch);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
    }

    interface IoFunction {
        Digest apply(SocketChannel ch) throws IOException;
    }

    static ServerSocketChannel listen(int rcvBuf) throws IOException {
        ServerSocketChannel l = ServerSocketChannel.open();
        if (rcvBuf > 0) {
            l.setOption(StandardSocketOptions.SO_RCVBUF, rcvBuf); // inherited by the accepted socket
        }
        return l.bind(ANY_LOCAL_PORT);
    }

    static SocketChannel connectSmall(InetSocketAddress to) throws IOException {
        SocketChannel ch = SocketChannel.open();
        ch.setOption(StandardSocketOptions.SO_RCVBUF, 64 * 1024); // the slow side must not hide in kernel buffers
        ch.connect(to);
        return ch;
    }

    @Test
    void oneGibibyteToASlowReaderWithBoundedQueues() throws Exception {
        long total = 1L << 30;
        try (ServerSocketChannel listener = listen(0); EventLoopThread t = new EventLoopThread("relay")) {
            TcpRelay relay = new TcpRelay(t.startLoop(), ANY_LOCAL_PORT, (InetSocketAddress) listener.getLocalAddress(), 1);
            relay.start();
            CompletableFuture<Digest> sent = backend(listener, ch -> {
                Digest d = writeStream(ch, total, 12345);
                ch.shutdownOutput();
                return d;
            });
            long start = System.nanoTime();
            Digest received;
            try (SocketChannel client = connectSmall(relay.listenAddress())) {
                received = readStream(client, 8 << 20, 5_000);
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(sent.get(30, TimeUnit.SECONDS), received, "every byte, in order");
            System.out.printf("relayed %d MiB in %d ms; largest relay queue %d bytes; %d back-pressure pauses%n",
                    total >> 20, ms, relay.maxQueuedBytes(), relay.pauseCount());
            assertTrue(relay.maxQueuedBytes() < QUEUE_BOUND, "relay queue bounded: " + relay.maxQueuedBytes());
            assertTrue(relay.pauseCount() > 0, "the slow reader made the relay stop reading the backend");
            awaitTrue(() -> relay.tunnelCount() == 0, 10, "tunnel closed after the end of stream");
            relay.close();
        }
    }

    @Test
    void aFastClientToASlowBackendWithBoundedQueuesAndHalfCloseRelayed() throws Exception {
        long total = 64L << 20;
        try (ServerSocketChannel listener = listen(64 * 1024); EventLoopThread t = new EventLoopThread("relay")) {
            TcpRelay relay = new TcpRelay(t.startLoop(), ANY_LOCAL_PORT, (InetSocketAddress) listener.getLocalAddress(), 1);
            relay.start();
            CompletableFuture<Digest> received = backend(listener, ch -> {
                Digest d = readStream(ch, 1 << 20, 5_000);
                ch.write(ByteBuffer.wrap("done\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
                return d; // closing after our FIN: the relay passes it on
            });
            Digest sent;
            try (SocketChannel client = connectSmall(relay.listenAddress())) {
                sent = writeStream(client, total, 777);
                client.shutdownOutput(); // half-close: the backend still answers after it
                ByteBuffer answer = ByteBuffer.allocate(16);
                while (client.read(answer) >= 0) {
                    assertTrue(answer.hasRemaining(), "more than the answer came back");
                }
                assertEquals("done\n", new String(answer.array(), 0, answer.position(), java.nio.charset.StandardCharsets.US_ASCII));
            }
            assertEquals(sent, received.get(30, TimeUnit.SECONDS), "every byte, in order");
            assertTrue(relay.maxQueuedBytes() < QUEUE_BOUND, "relay queue bounded: " + relay.maxQueuedBytes());
            assertTrue(relay.pauseCount() > 0, "the slow backend made the relay stop reading the client");
            awaitTrue(() -> relay.tunnelCount() == 0, 10, "tunnel closed");
            relay.close();
        }
    }

    @Test
    void anUnreachableBackendClosesTheClient() throws Exception {
        InetSocketAddress closedPort;
        try (ServerSocketChannel l = listen(0)) {
            closedPort = (InetSocketAddress) l.getLocalAddress();
        }
        try (EventLoopThread t = new EventLoopThread("relay")) {
            TcpRelay relay = new TcpRelay(t.startLoop(), ANY_LOCAL_PORT, closedPort, 0);
            relay.start();
            try (java.net.Socket s = ExampleTestSupport.connect(relay.listenAddress())) {
                assertTrue(ExampleTestSupport.awaitClosedByPeer(s));
            }
            awaitTrue(() -> relay.tunnelCount() == 0, 10, "tunnel gone");
            relay.close();
        }
    }

    /** A client that resets cuts the stream: the backend must see a reset too, never a clean end of stream. */
    @Test
    void aClientResetIsRelayedAsAReset() throws Exception {
        try (ServerSocketChannel listener = listen(0); EventLoopThread t = new EventLoopThread("relay")) {
            TcpRelay relay = new TcpRelay(t.startLoop(), ANY_LOCAL_PORT, (InetSocketAddress) listener.getLocalAddress(), 0);
            relay.start();
            java.util.concurrent.CountDownLatch firstBytes = new java.util.concurrent.CountDownLatch(1);
            CompletableFuture<String> ending = CompletableFuture.supplyAsync(() -> {
                try (SocketChannel ch = listener.accept()) {
                    ByteBuffer buf = ByteBuffer.allocate(4096);
                    while (true) {
                        int n = ch.read(buf.clear());
                        if (n < 0) {
                            return "end of stream";
                        }
                        firstBytes.countDown();
                    }
                } catch (IOException e) {
                    return "reset: " + e.getMessage();
                }
            });
            SocketChannel client = SocketChannel.open(relay.listenAddress());
            client.write(ByteBuffer.wrap(new byte[100]));
            assertTrue(firstBytes.await(10, TimeUnit.SECONDS), "bytes relayed before the reset");
            client.setOption(StandardSocketOptions.SO_LINGER, 0);
            client.close(); // RST
            String how = ending.get(10, TimeUnit.SECONDS);
            assertTrue(how.startsWith("reset"), "the backend saw: " + how);
            awaitTrue(() -> relay.tunnelCount() == 0, 10, "tunnel gone");
            relay.close();
        }
    }
}
