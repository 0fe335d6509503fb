package io.muduo4j.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A connected loopback socket pair for channel tests, both ends non-blocking: {@link #watched} is
 * what the loop under test watches, {@link #peer} makes it readable. Both are writable while their
 * send buffers have room.
 */
final class ChannelTestSupport implements AutoCloseable {
    final SocketChannel watched;
    final SocketChannel peer;
    private final ByteBuffer scratch = ByteBuffer.allocate(4096);

    ChannelTestSupport() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            peer = SocketChannel.open(server.getLocalAddress());
            watched = server.accept();
        }
        watched.configureBlocking(false);
        peer.configureBlocking(false);
    }

    /** Makes {@link #watched} readable. */
    void writeByte() {
        try {
            ByteBuffer b = ByteBuffer.wrap(new byte[] {7});
            while (b.hasRemaining()) {
                peer.write(b);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits until {@link #watched} is readable, seen through a selector of the test's own (a
     * channel may be registered with several), without reading: proof that bytes written to
     * {@link #peer} have arrived, whatever the loop under test does with the channel.
     */
    void awaitReadable() throws IOException {
        try (Selector probe = Selector.open()) {
            watched.register(probe, SelectionKey.OP_READ);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LoopTestSupport.WAIT_SECONDS);
            while (probe.select(100) == 0) {
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("the byte did not arrive within " + LoopTestSupport.WAIT_SECONDS + " s");
                }
            }
        }
    }

    /**
     * The positive control of a "no callback" check: a second socket pair whose channel reads on
     * the same loop. {@link #awaitPoll()} makes it readable and returns once the loop has
     * dispatched it and finished that iteration's dispatch; so the loop provably polled after
     * everything that was readable before the call. A channel that should get no callback is
     * checked after that.
     */
    static final class PollWitness implements AutoCloseable {
        private final EventLoop loop;
        private final ChannelTestSupport pair = new ChannelTestSupport();
        private final Channel channel;
        private volatile CountDownLatch dispatched = new CountDownLatch(1);
        private final AtomicInteger reads = new AtomicInteger();

        PollWitness(EventLoop loop) throws Exception {
            this.loop = loop;
            channel = new Channel(loop, pair.watched);
            channel.setReadCallback(() -> {
                pair.drain();
                reads.incrementAndGet();
                dispatched.countDown();
            });
            LoopTestSupport.run(loop, channel::enableReading);
        }

        /** The witness's key in the loop's selector (loop thread). */
        SelectionKey key() {
            return pair.watched.keyFor(LoopTestSupport.selector(loop));
        }

        /** Makes the witness readable and waits until the loop has dispatched it and ended that dispatch. */
        void awaitPoll() throws Exception {
            CountDownLatch l = new CountDownLatch(1);
            dispatched = l;
            int before = reads.get();
            pair.writeByte();
            LoopTestSupport.await(l, "the witness channel's read callback");
            if (reads.get() <= before) {
                throw new AssertionError("the witness latch opened without a read");
            }
            // Tasks run after the iteration's dispatch: this one ends after all of it.
            LoopTestSupport.run(loop, () -> { });
        }

        @Override
        public void close() throws Exception {
            try {
                LoopTestSupport.run(loop, channel::remove);
            } finally {
                pair.close();
            }
        }
    }

    /** Reads everything available on {@link #watched} (from a read callback); returns the byte count. */
    int drain() {
        try {
            int total = 0;
            int n;
            while ((n = watched.read(scratch.clear())) > 0) {
                total += n;
            }
            return total;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        watched.close();
        peer.close();
    }
}
