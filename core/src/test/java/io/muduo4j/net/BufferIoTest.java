package io.muduo4j.net;

import static io.muduo4j.net.Buffer.CHEAP_PREPEND;
import static io.muduo4j.net.Buffer.INITIAL_SIZE;
import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.ScatteringByteChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Buffer#readFrom} / {@link Buffer#writeTo} over real channels, and their allocation. */
class BufferIoTest {
    private static final int SCRATCH = 64 * 1024;

    private Pipe pipe;
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(SCRATCH);

    @BeforeEach
    void openPipe() throws IOException {
        pipe = Pipe.open();
        pipe.source().configureBlocking(false);
        pipe.sink().configureBlocking(false);
    }

    @AfterEach
    void closePipe() throws IOException {
        pipe.source().close();
        pipe.sink().close();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static long crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return c.getValue();
    }

    /** Writes all of {@code data} into the (empty, 64 KiB) pipe in one go. */
    private void send(byte[] data) throws IOException {
        ByteBuffer src = ByteBuffer.wrap(data);
        while (src.hasRemaining()) {
            assertTrue(pipe.sink().write(src) > 0, "pipe full: test data must fit the pipe");
        }
    }

    @Test
    void smallReadLandsInTailWithoutGrowth() throws IOException {
        Buffer buf = new Buffer();
        byte[] data = random(300, 1);
        send(data);
        assertEquals(300, buf.readFrom(pipe.source(), scratch));
        assertEquals(CHEAP_PREPEND + INITIAL_SIZE, buf.capacity());
        assertEquals(300, buf.readableBytes());
        assertArrayEquals(data, buf.retrieveAsBytes(300));
        assertEquals(0, buf.readFrom(pipe.source(), scratch), "nothing available on a non-blocking channel");
    }

    @Test
    void readLargerThanWritableSpillsIntoScratchAndIsAppended() throws IOException {
        Buffer buf = new Buffer();
        buf.append(new byte[] {42});
        byte[] data = random(20_000, 2);
        send(data);
        assertEquals(20_000, buf.readFrom(pipe.source(), scratch), "one call takes tail + scratch");
        assertTrue(buf.capacity() > CHEAP_PREPEND + INITIAL_SIZE);
        assertEquals(42, buf.readInt8());
        assertEquals(crc(data), crc(buf.retrieveAsBytes(20_000)));
        assertEquals(0, buf.readableBytes());
    }

    @Test
    void oneReadTakesAtMostTailPlusScratch() throws IOException {
        ByteBuffer small = ByteBuffer.allocateDirect(4096);
        Buffer buf = new Buffer();
        byte[] data = random(10_000, 3);
        send(data);
        assertEquals(INITIAL_SIZE + 4096, buf.readFrom(pipe.source(), small));
        int second = buf.readFrom(pipe.source(), small);
        assertTrue(second > 0);
        int total = INITIAL_SIZE + 4096 + second;
        while (total < data.length) {
            total += buf.readFrom(pipe.source(), small);
        }
        assertEquals(data.length, total);
        assertEquals(crc(data), crc(buf.retrieveAsBytes(data.length)));
    }

    @Test
    void tailAtLeastScratchSizeReadsIntoTailOnly() throws IOException {
        ByteBuffer small = ByteBuffer.allocateDirect(4096);
        Buffer buf = new Buffer(8192);
        byte[] data = random(10_000, 4);
        send(data);
        assertEquals(8192, buf.readFrom(pipe.source(), small));
        assertEquals(0, small.position(), "scratch untouched");
        assertEquals(CHEAP_PREPEND + 8192, buf.capacity());
        assertEquals(10_000 - 8192, buf.readFrom(pipe.source(), small), "tail now empty: scatter read");
        assertEquals(crc(data), crc(buf.retrieveAsBytes(data.length)));
    }

    @Test
    void spillWithConsumedHeadCompactsInsteadOfGrowing() throws IOException {
        Buffer buf = new Buffer();
        buf.append(new byte[1000]);
        buf.retrieve(900); // 100 readable at 908, tail 24, head 900
        byte[] data = random(500, 5);
        send(data);
        assertEquals(500, buf.readFrom(pipe.source(), scratch));
        assertEquals(CHEAP_PREPEND + INITIAL_SIZE, buf.capacity());
        assertEquals(CHEAP_PREPEND, buf.readerIndex());
        buf.retrieve(100);
        assertArrayEquals(data, buf.retrieveAsBytes(500));
    }

    @Test
    void endOfStreamReturnsMinusOne() throws IOException {
        Buffer buf = new Buffer();
        send(new byte[] {1, 2, 3});
        pipe.sink().close();
        assertEquals(3, buf.readFrom(pipe.source(), scratch));
        assertEquals(-1, buf.readFrom(pipe.source(), scratch));
        assertEquals(3, buf.readableBytes(), "EOF leaves the content alone");
        assertEquals(CHEAP_PREPEND + 3, buf.writerIndex());
    }

    @Test
    void writeToRetrievesWhatWasWritten() throws IOException {
        Buffer buf = new Buffer();
        byte[] data = random(1000, 6);
        buf.append(data);
        TrickleChannel out = new TrickleChannel(300);
        assertEquals(300, buf.writeTo(out));
        assertEquals(700, buf.readableBytes());
        assertEquals(CHEAP_PREPEND + 300, buf.readerIndex());
        assertEquals(300, buf.writeTo(out));
        assertEquals(300, buf.writeTo(out));
        assertEquals(100, buf.writeTo(out));
        assertEquals(0, buf.readableBytes());
        assertEquals(CHEAP_PREPEND, buf.readerIndex(), "a full drain resets the indices");
        assertEquals(0, buf.writeTo(out), "nothing to write");
        assertArrayEquals(data, out.written());
        assertEquals(5, out.calls, "one write call per writeTo");
    }

    @Test
    void writeToFullPipeIsPartial() throws IOException {
        Buffer out = new Buffer();
        byte[] data = random(1 << 20, 7);
        out.append(data);
        int first = out.writeTo(pipe.sink());
        assertTrue(first > 0 && first < data.length, "pipe takes part of 1 MiB: " + first);
        assertEquals(data.length - first, out.readableBytes());
        assertEquals(0, out.writeTo(pipe.sink()), "full pipe");

        Buffer in = new Buffer();
        int received = 0;
        while (received < data.length) {
            out.writeTo(pipe.sink());
            int n = in.readFrom(pipe.source(), scratch);
            assertTrue(n >= 0);
            received += n;
        }
        assertEquals(0, out.readableBytes());
        assertEquals(crc(data), crc(in.retrieveAsBytes(data.length)));
    }

    @Test
    void loopbackSocketTransferIsIntact() throws IOException {
        try (SocketPair pair = new SocketPair()) {
            byte[] data = random(4 << 20, 8);
            Buffer out = new Buffer();
            Buffer in = new Buffer();
            int offered = 0;
            int received = 0;
            CRC32 crc = new CRC32();
            byte[] chunk = new byte[8192];
            while (received < data.length) {
                if (offered < data.length && out.readableBytes() < 256 * 1024) {
                    int n = Math.min(100_000, data.length - offered);
                    out.append(data, offered, n);
                    offered += n;
                }
                out.writeTo(pair.client);
                int n = in.readFrom(pair.server, scratch);
                assertTrue(n >= 0, "unexpected EOF");
                received += n;
                while (in.readableBytes() > 0) { // consume in odd chunks to exercise compaction
                    int c = in.peek(chunk, 0, Math.min(chunk.length - 1, in.readableBytes()));
                    crc.update(chunk, 0, c);
                    in.retrieve(c);
                }
            }
            assertEquals(crc(data), crc.getValue());
            pair.client.close();
            int eof;
            do {
                eof = in.readFrom(pair.server, scratch);
            } while (eof == 0);
            assertEquals(-1, eof);
        }
    }

    // ------------------------------------------------------------------ zero allocation

    @Test
    void steadyStateOverPipeAllocatesNothing() throws Exception {
        assertZeroAllocation(pipe.sink(), pipe.source(), "Buffer round trips over a pipe");
    }

    @Test
    void steadyStateOverLoopbackSocketAllocatesNothing() throws Exception {
        try (SocketPair pair = new SocketPair()) {
            assertZeroAllocation(pair.client, pair.server, "Buffer round trips over a loopback socket");
        }
    }

    /** Round trips per window; windows as in {@link ZeroGarbageTest} (see {@link AllocationWindows}). */
    private static final int WINDOW = 10_000;
    private static final int MIN_WARMUP = 8;
    private static final int CLEAN_TO_START = 3;
    private static final int MAX_WARMUP = 60;
    private static final int MEASURED = 10;

    /**
     * Each iteration appends 200 bytes, writes them, reads them (keeping 100 bytes of backlog in the
     * input buffer so the reader index walks up and the tail periodically runs short: the spill into
     * scratch and the compaction are in the measured path too) and retrieves 200. Neither buffer
     * grows after the first iteration. The calling thread's allocation is measured in windows of
     * {@value #WINDOW} round trips: after a warm-up that ends with {@value #CLEAN_TO_START}
     * consecutive clean windows (within {@value #MAX_WARMUP}), each of {@value #MEASURED} windows
     * ({@value #MEASURED} x {@value #WINDOW} round trips) must be exactly 0 bytes.
     */
    private void assertZeroAllocation(WritableByteChannel sink, ScatteringByteChannel source, String what)
            throws InterruptedException {
        AllocationWindows.enableCounting();
        AllocationWindows meter = new AllocationWindows(what, WINDOW, MIN_WARMUP, CLEAN_TO_START, MAX_WARMUP, MEASURED);
        Buffer out = new Buffer();
        Buffer in = new Buffer();
        in.append(new byte[100]);
        byte[] message = random(200, 9);
        long[] stats = new long[4];

        RoundTrips.untilVerdict(meter, out, in, sink, source, scratch, message, stats);
        meter.assertEveryMeasuredWindowClean(0);

        assertEquals(-1, stats[3], "I/O error in the round trips");
        assertEquals(0, stats[0], "short writes or reads");
        assertEquals(meter.ops() * 200, stats[1], "bytes through");
        assertTrue(meter.ops() >= (long) (MIN_WARMUP + MEASURED) * WINDOW, "round trips: " + meter.ops());
        assertTrue(stats[2] > MEASURED, "the scratch spill path ran in the measured windows: " + stats[2]);
        assertEquals(CHEAP_PREPEND + INITIAL_SIZE, in.capacity());
        assertEquals(CHEAP_PREPEND + INITIAL_SIZE, out.capacity());
        assertEquals(100, in.readableBytes());
    }

    /**
     * The measured round trips, in a class of their own without string literals: its compile
     * (requested on the measured thread) then resolves none (see {@link AllocationWindows}).
     * stats: [0] short writes or reads, [1] bytes through, [2] spills in the measured windows,
     * [3] -1, or the round trip whose I/O threw (the test then fails on the stats).
     */
    static final class RoundTrips {
        private RoundTrips() {
        }

        static void untilVerdict(AllocationWindows meter, Buffer out, Buffer in, WritableByteChannel sink,
                ScatteringByteChannel source, ByteBuffer scratch, byte[] message, long[] stats) {
            stats[3] = -1;
            meter.endWindow(); // primes the counter
            long spills = 0;
            long spillsWhenMeasuringStarted = -1;
            while (!meter.finished()) {
                for (int i = 0; i < WINDOW; i++) {
                    try {
                        spills += roundTrip(out, in, sink, source, scratch, message, stats);
                    } catch (IOException e) {
                        stats[3] = meter.ops();
                        return;
                    }
                    meter.tick();
                }
                if (spillsWhenMeasuringStarted < 0 && meter.measuring()) {
                    spillsWhenMeasuringStarted = spills;
                }
            }
            stats[2] = spills - spillsWhenMeasuringStarted;
        }

        private static int roundTrip(Buffer out, Buffer in, WritableByteChannel sink, ScatteringByteChannel source,
                ByteBuffer scratch, byte[] message, long[] stats) throws IOException {
            out.append(message);
            int written = out.writeTo(sink);
            boolean spill = in.writableBytes() < message.length;
            int read = 0;
            while (read < written) { // a socket may deliver in pieces; a pipe never does here
                int n = in.readFrom(source, scratch);
                if (n < 0) {
                    stats[0]++;
                    break;
                }
                read += n;
            }
            if (written != message.length || read != written
                    || in.getByte(in.readableBytes() - 1) != message[message.length - 1]) {
                stats[0]++;
            }
            in.retrieve(message.length);
            stats[1] += read;
            return spill ? 1 : 0;
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Accepts at most {@code max} bytes per write and records everything. */
    private static final class TrickleChannel implements WritableByteChannel {
        private final int max;
        private final java.io.ByteArrayOutputStream sink = new java.io.ByteArrayOutputStream();
        int calls;

        TrickleChannel(int max) {
            this.max = max;
        }

        @Override
        public int write(ByteBuffer src) {
            calls++;
            int n = Math.min(max, src.remaining());
            for (int i = 0; i < n; i++) {
                sink.write(src.get());
            }
            return n;
        }

        byte[] written() {
            return sink.toByteArray();
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    /** A connected, non-blocking loopback socket pair. */
    private static final class SocketPair implements AutoCloseable {
        final SocketChannel client;
        final SocketChannel server;

        SocketPair() throws IOException {
            try (ServerSocketChannel listener = ServerSocketChannel.open()) {
                listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                client = SocketChannel.open(listener.getLocalAddress());
                server = listener.accept();
            }
            client.configureBlocking(false);
            server.configureBlocking(false);
        }

        @Override
        public void close() throws IOException {
            client.close();
            server.close();
        }
    }
}
