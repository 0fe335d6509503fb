package io.muduo4j.net;

import static io.muduo4j.net.Buffer.CHEAP_PREPEND;
import static io.muduo4j.net.Buffer.INITIAL_SIZE;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** muduo's Buffer_unittest, adapted to geometric growth, plus the Java-specific API. */
class BufferTest {
    private static byte[] fill(int n, char c) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte)c);
        return b;
    }

    private static String repeat(int n, char c) {
        return String.valueOf(c).repeat(n);
    }

    private static void assertLayout(Buffer buf, int readable, int writable, int prependable) {
        assertEquals(readable, buf.readableBytes(), "readable");
        assertEquals(writable, buf.writableBytes(), "writable");
        assertEquals(prependable, buf.prependableBytes(), "prependable");
        assertEquals(buf.capacity(), prependable + readable + writable, "capacity");
    }

    // ------------------------------------------------------------------ muduo's Buffer_unittest

    @Test
    void appendRetrieve() {
        Buffer buf = new Buffer();
        assertLayout(buf, 0, INITIAL_SIZE, CHEAP_PREPEND);

        buf.append(fill(200, 'x'));
        assertLayout(buf, 200, INITIAL_SIZE - 200, CHEAP_PREPEND);

        String str2 = buf.retrieveAsString(50, ISO_8859_1);
        assertEquals(repeat(50, 'x'), str2);
        assertLayout(buf, 150, INITIAL_SIZE - 200, CHEAP_PREPEND + 50);

        buf.append(fill(200, 'x'));
        assertLayout(buf, 350, INITIAL_SIZE - 400, CHEAP_PREPEND + 50);

        String str3 = buf.retrieveAllAsString(ISO_8859_1);
        assertEquals(repeat(350, 'x'), str3);
        assertLayout(buf, 0, INITIAL_SIZE, CHEAP_PREPEND);
    }

    @Test
    void grow() {
        Buffer buf = new Buffer();
        buf.append(fill(400, 'y'));
        assertLayout(buf, 400, INITIAL_SIZE - 400, CHEAP_PREPEND);

        buf.retrieve(50);
        assertLayout(buf, 350, INITIAL_SIZE - 400, CHEAP_PREPEND + 50);

        // muduo grows to exactly writerIndex + 1000 and leaves 0 writable; here: 624 tail + 50 head
        // cannot take 1000, so capacity doubles (1032 -> 2064) and the content moves to offset 8.
        buf.append(fill(1000, 'z'));
        assertEquals(2 * (CHEAP_PREPEND + INITIAL_SIZE), buf.capacity());
        assertLayout(buf, 1350, 2064 - CHEAP_PREPEND - 1350, CHEAP_PREPEND);
        assertEquals(repeat(350, 'y') + repeat(1000, 'z'), readAll(buf));

        buf.retrieveAll();
        assertLayout(buf, 0, 2064 - CHEAP_PREPEND, CHEAP_PREPEND);
    }

    @Test
    void insideGrowCompactsInsteadOfAllocating() {
        Buffer buf = new Buffer();
        buf.append(fill(800, 'y'));
        assertLayout(buf, 800, INITIAL_SIZE - 800, CHEAP_PREPEND);

        buf.retrieve(500);
        assertLayout(buf, 300, INITIAL_SIZE - 800, CHEAP_PREPEND + 500);

        int capacity = buf.capacity();
        buf.append(fill(300, 'z'));
        assertLayout(buf, 600, INITIAL_SIZE - 600, CHEAP_PREPEND);
        assertEquals(capacity, buf.capacity());
        assertEquals(repeat(300, 'y') + repeat(300, 'z'), buf.retrieveAllAsString(ISO_8859_1));
    }

    @Test
    void shrink() {
        Buffer buf = new Buffer();
        buf.append(fill(2000, 'y'));
        assertEquals(2000, buf.readableBytes());
        assertEquals(CHEAP_PREPEND, buf.prependableBytes());
        int grown = buf.capacity();
        assertTrue(grown >= CHEAP_PREPEND + 2000);

        buf.retrieve(1500);
        assertEquals(500, buf.readableBytes());
        assertEquals(CHEAP_PREPEND + 1500, buf.prependableBytes());

        buf.shrink(0);
        assertLayout(buf, 500, INITIAL_SIZE - 500, CHEAP_PREPEND);
        assertEquals(repeat(500, 'y'), buf.retrieveAllAsString(ISO_8859_1));
        assertLayout(buf, 0, INITIAL_SIZE, CHEAP_PREPEND);
    }

    @Test
    void shrinkKeepsReserveAndContent() {
        Buffer buf = new Buffer(16);
        buf.append(fill(5000, 'a'));
        buf.retrieve(1000);
        buf.shrink(100);
        assertLayout(buf, 4000, 100, CHEAP_PREPEND);
        assertEquals(repeat(4000, 'a'), readAll(buf));
        assertThrows(IllegalArgumentException.class, () -> buf.shrink(-1));
    }

    @Test
    void prepend() {
        Buffer buf = new Buffer();
        buf.append(fill(200, 'y'));
        assertLayout(buf, 200, INITIAL_SIZE - 200, CHEAP_PREPEND);

        buf.prepend(new byte[4], 0, 4);
        assertLayout(buf, 204, INITIAL_SIZE - 200, CHEAP_PREPEND - 4);
        assertEquals(0, buf.readInt32());
        assertEquals(repeat(200, 'y'), readAll(buf));
    }

    @Test
    void readInt() {
        Buffer buf = new Buffer();
        buf.append("HTTP".getBytes(ISO_8859_1));

        assertEquals(4, buf.readableBytes());
        assertEquals('H', buf.peekInt8());
        int top16 = buf.peekInt16();
        assertEquals('H' * 256 + 'T', top16);
        assertEquals(top16 * 65536 + 'T' * 256 + 'P', buf.peekInt32());

        assertEquals('H', buf.readInt8());
        assertEquals('T' * 256 + 'T', buf.readInt16());
        assertEquals('P', buf.readInt8());
        assertEquals(0, buf.readableBytes());
        assertEquals(INITIAL_SIZE, buf.writableBytes());

        buf.appendInt8(-1);
        buf.appendInt16(-2);
        buf.appendInt32(-3);
        buf.appendInt64(-4);
        assertEquals(15, buf.readableBytes());
        assertEquals(-1, buf.readInt8());
        assertEquals(-2, buf.readInt16());
        assertEquals(-3, buf.readInt32());
        assertEquals(-4L, buf.readInt64());
        assertLayout(buf, 0, INITIAL_SIZE, CHEAP_PREPEND);
    }

    @Test
    void findEOL() {
        Buffer buf = new Buffer();
        buf.append(fill(100_000, 'x'));
        assertEquals(-1, buf.findEOL());
        assertEquals(-1, buf.findEOL(90_000));

        buf.appendInt8('\n');
        assertEquals(100_000, buf.findEOL());
        assertEquals(100_000, buf.findEOL(90_000));
        assertEquals(-1, buf.findEOL(100_001), "start == readable is allowed and finds nothing");
        buf.retrieve(99_999);
        assertEquals(1, buf.findEOL());
        assertThrows(IndexOutOfBoundsException.class, () -> buf.findEOL(3));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.findEOL(-1));
    }

    // ------------------------------------------------------------------ growth and reuse

    @Test
    void growthIsGeometric() {
        Buffer buf = new Buffer();
        int capacity = buf.capacity();
        int growths = 0;
        for (int i = 0; i < 1 << 20; i++) {
            buf.appendInt8(i);
            if (buf.capacity() != capacity) {
                assertTrue(buf.capacity() >= 2 * capacity, "capacity at least doubles: " + capacity + " -> " + buf.capacity());
                capacity = buf.capacity();
                growths++;
            }
        }
        assertTrue(growths <= 10, "1 MiB a byte at a time grows ~log2(1 MiB / 1 KiB) times, got " + growths);
        for (int i = 0; i < 1 << 20; i++) {
            if (buf.getByte(i) != (byte)i) {
                fail("content corrupted at " + i);
            }
        }
    }

    @Test
    void growthToAnExactNeedLargerThanDouble() {
        Buffer buf = new Buffer();
        buf.append(new byte[10_000]);
        assertEquals(CHEAP_PREPEND + 10_000, buf.capacity());
        assertEquals(0, buf.writableBytes());
    }

    @Test
    void retrieveAllReusesSpace() {
        Buffer buf = new Buffer();
        int capacity = buf.capacity();
        for (int i = 0; i < 100; i++) {
            buf.append(fill(1000, 'q'));
            assertLayout(buf, 1000, INITIAL_SIZE - 1000, CHEAP_PREPEND);
            buf.retrieve(1000);
            assertLayout(buf, 0, INITIAL_SIZE, CHEAP_PREPEND);
        }
        assertEquals(capacity, buf.capacity());
    }

    @Test
    void retrieveMoreThanReadableIsRetrieveAll() {
        Buffer buf = new Buffer();
        buf.append(fill(10, 'a'));
        buf.retrieve(3);
        buf.retrieve(1000);
        assertLayout(buf, 0, INITIAL_SIZE, CHEAP_PREPEND);
        assertThrows(IllegalArgumentException.class, () -> buf.retrieve(-1));
    }

    @Test
    void ensureWritableAndHasWritten() {
        Buffer buf = new Buffer(0);
        assertEquals(CHEAP_PREPEND, buf.capacity());
        buf.ensureWritableBytes(100);
        assertTrue(buf.writableBytes() >= 100);
        ByteBuffer tail = buf.writableView();
        assertEquals(buf.writerIndex(), tail.position());
        assertEquals(buf.capacity(), tail.limit());
        tail.put("hello".getBytes(ISO_8859_1));
        buf.hasWritten(5);
        assertEquals("hello", buf.retrieveAllAsString(ISO_8859_1));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.hasWritten(buf.writableBytes() + 1));
        assertThrows(IllegalArgumentException.class, () -> buf.ensureWritableBytes(-1));
    }

    @Test
    void unwrite() {
        Buffer buf = new Buffer();
        buf.append("hello, world".getBytes(ISO_8859_1));
        buf.unwrite(7);
        assertEquals("hello", buf.retrieveAllAsString(ISO_8859_1));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.unwrite(1));
    }

    // ------------------------------------------------------------------ integers

    @Test
    void integersAreNetworkOrder() {
        Buffer buf = new Buffer();
        buf.appendInt8(0x01);
        buf.appendInt16(0x0203);
        buf.appendInt32(0x04050607);
        buf.appendInt64(0x08090A0B0C0D0E0FL);
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, buf.retrieveAsBytes(15));
    }

    @Test
    void integerRoundTripsAtBoundaries() {
        Buffer buf = new Buffer();
        byte[] bytes = {Byte.MIN_VALUE, -1, 0, 1, Byte.MAX_VALUE};
        short[] shorts = {Short.MIN_VALUE, -2, -1, 0, 1, 0x00FF, 0x0100, Short.MAX_VALUE};
        int[] ints = {Integer.MIN_VALUE, -3, -1, 0, 1, 0xFF, 0xFFFF, 0x10000, Integer.MAX_VALUE};
        long[] longs = {Long.MIN_VALUE, -4, -1, 0, 1, 0xFFFF_FFFFL, 0x1_0000_0000L, Long.MAX_VALUE};
        int leftover = 0;
        for (int round = 0; round < 3; round++) { // the later rounds run after growth and compaction
            for (byte v : bytes) {
                buf.appendInt8(v);
            }
            for (short v : shorts) {
                buf.appendInt16(v);
            }
            for (int v : ints) {
                buf.appendInt32(v);
            }
            for (long v : longs) {
                buf.appendInt64(v);
            }
            buf.append(new byte[400]);
            buf.retrieve(leftover);
            for (byte v : bytes) {
                assertEquals(v, buf.peekInt8());
                assertEquals(v, buf.readInt8());
            }
            for (short v : shorts) {
                assertEquals(v, buf.peekInt16());
                assertEquals(v, buf.readInt16());
            }
            for (int v : ints) {
                assertEquals(v, buf.peekInt32());
                assertEquals(v, buf.readInt32());
            }
            for (long v : longs) {
                assertEquals(v, buf.peekInt64());
                assertEquals(v, buf.readInt64());
            }
            buf.retrieve(300); // leave 100 behind so the next round starts mid-buffer
            leftover = 100;
        }
        assertEquals(100, buf.readableBytes());
    }

    @Test
    void appendIntTruncatesToWidth() {
        Buffer buf = new Buffer();
        buf.appendInt8(0x1FF);
        buf.appendInt16(0x12345);
        assertEquals(-1, buf.readInt8());
        assertEquals(0x2345, buf.readInt16());
    }

    @Test
    void readingPastReadableThrows() {
        Buffer buf = new Buffer();
        buf.append(new byte[3]);
        assertThrows(IndexOutOfBoundsException.class, buf::peekInt32);
        assertThrows(IndexOutOfBoundsException.class, buf::readInt64);
        assertThrows(IndexOutOfBoundsException.class, () -> buf.retrieveAsBytes(4));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.retrieveAsString(4, UTF_8));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.getByte(3));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.getByte(-1));
        assertEquals(3, buf.readableBytes(), "failed reads consume nothing");
        assertEquals(0, buf.readInt16() + buf.readInt8());
        assertThrows(IndexOutOfBoundsException.class, buf::peekInt8);
    }

    // ------------------------------------------------------------------ prepend

    @Test
    void prependIntegersForLengthPrefixedFraming() {
        Buffer buf = new Buffer();
        byte[] body = "payload".getBytes(ISO_8859_1);
        buf.append(body);
        buf.prependInt32(body.length);
        buf.prependInt16(0x0102);
        buf.prependInt8(7);
        assertEquals(1, buf.prependableBytes());
        assertThrows(IndexOutOfBoundsException.class, () -> buf.prependInt16(0));
        assertEquals(7, buf.readInt8());
        assertEquals(0x0102, buf.readInt16());
        assertEquals(body.length, buf.readInt32());
        assertEquals("payload", buf.retrieveAllAsString(ISO_8859_1));

        buf.append(body);
        buf.prependInt64(-5L);
        assertEquals(0, buf.prependableBytes());
        assertThrows(IndexOutOfBoundsException.class, () -> buf.prependInt8(0));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.prepend(new byte[1], 0, 1));
        assertEquals(-5L, buf.readInt64());
    }

    @Test
    void prependBytesRespectsRange() {
        Buffer buf = new Buffer();
        buf.append("world".getBytes(ISO_8859_1));
        buf.prepend("xhello, x".getBytes(ISO_8859_1), 1, 7);
        assertEquals("hello, world", buf.retrieveAllAsString(ISO_8859_1));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.prepend(new byte[2], 1, 2));
    }

    @Test
    void prependedBytesSurviveGrowthAndCompaction() {
        Buffer buf = new Buffer();
        buf.append(fill(100, 'b'));
        buf.prependInt32(100);
        buf.append(fill(5000, 'c')); // grows with the reader index below CHEAP_PREPEND
        assertEquals(CHEAP_PREPEND, buf.prependableBytes());
        assertEquals(100, buf.readInt32());
        assertEquals(repeat(100, 'b') + repeat(5000, 'c'), buf.retrieveAllAsString(ISO_8859_1));
    }

    // ------------------------------------------------------------------ copies between buffers

    @Test
    void appendBufferCopiesWithoutRetrieving() {
        Buffer src = new Buffer();
        src.append("abcdef".getBytes(ISO_8859_1));
        src.retrieve(2);
        Buffer dst = new Buffer();
        dst.append("x".getBytes(ISO_8859_1));
        dst.append(src);
        assertEquals("xcdef", dst.retrieveAllAsString(ISO_8859_1));
        assertEquals(4, src.readableBytes());
        assertEquals("cdef", src.retrieveAllAsString(ISO_8859_1));
    }

    @Test
    void appendBufferToItselfDoublesContent() {
        Buffer buf = new Buffer();
        buf.append(fill(800, 'a'));
        buf.retrieve(300); // the self-append first has to compact, moving the source
        buf.append(buf);
        assertEquals(repeat(1000, 'a'), buf.retrieveAllAsString(ISO_8859_1));
        buf.append(fill(700, 'b'));
        buf.append(buf); // and here it has to grow
        assertEquals(repeat(1400, 'b'), buf.retrieveAllAsString(ISO_8859_1));
    }

    @Test
    void appendByteBufferConsumesRemaining() {
        for (ByteBuffer src : new ByteBuffer[] {ByteBuffer.allocate(32), ByteBuffer.allocateDirect(32)}) {
            src.put("--hello--".getBytes(ISO_8859_1)).flip();
            src.position(2).limit(7);
            Buffer buf = new Buffer();
            buf.append(src);
            assertEquals(7, src.position());
            assertEquals(0, src.remaining());
            assertEquals("hello", buf.retrieveAllAsString(ISO_8859_1));
        }
    }

    @Test
    void appendByteArrayRange() {
        Buffer buf = new Buffer();
        buf.append("0123456789".getBytes(ISO_8859_1), 3, 4);
        assertEquals("3456", buf.retrieveAllAsString(ISO_8859_1));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.append(new byte[4], 2, 3));
        assertEquals(0, buf.readableBytes());
    }

    @Test
    void peekCopiesWithoutRetrieving() {
        Buffer buf = new Buffer();
        buf.append("abcdef".getBytes(ISO_8859_1));
        byte[] dst = new byte[10];
        assertEquals(3, buf.peek(dst, 1, 3));
        assertEquals("abc", new String(dst, 1, 3, ISO_8859_1));
        assertEquals(6, buf.peek(dst, 0, 10), "at most readableBytes are copied");
        assertEquals("abcdef", new String(dst, 0, 6, ISO_8859_1));
        assertEquals(6, buf.readableBytes());
        assertEquals('c', buf.getByte(2));
        assertThrows(IndexOutOfBoundsException.class, () -> buf.peek(dst, 8, 3));
    }

    @Test
    void retrieveAsStringDecodesCharset() {
        Buffer buf = new Buffer();
        String s = "größe ✓ 数据";
        byte[] encoded = s.getBytes(UTF_8);
        buf.append(encoded);
        buf.appendInt8('!');
        assertEquals(s, buf.retrieveAsString(encoded.length, UTF_8));
        assertEquals("!", buf.retrieveAllAsString(UTF_8));
        assertArrayEquals(new byte[0], buf.retrieveAsBytes(0));
    }

    // ------------------------------------------------------------------ search

    @Test
    void findCRLF() {
        Buffer buf = new Buffer();
        buf.append("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(ISO_8859_1));
        assertEquals(14, buf.findCRLF());
        assertEquals(14, buf.findCRLF(14));
        assertEquals(23, buf.findCRLF(15));
        assertEquals(25, buf.findCRLF(24));
        assertEquals(-1, buf.findCRLF(26));
        assertEquals(-1, buf.findCRLF(27));
        assertEquals(15, buf.findEOL(), "EOL is the LF");
        buf.retrieve(16);
        assertEquals(7, buf.findCRLF());
        assertThrows(IndexOutOfBoundsException.class, () -> buf.findCRLF(12));

        Buffer lone = new Buffer();
        lone.append("a\rb\r\r\rc\r".getBytes(ISO_8859_1));
        assertEquals(-1, lone.findCRLF(), "CR without LF, and a CR as the last byte");
        lone.appendInt8('\n');
        assertEquals(7, lone.findCRLF());
        assertEquals(-1, new Buffer().findCRLF());
        assertEquals(-1, new Buffer().findEOL());
    }

    @Test
    void searchMatchesNaiveScanAtEveryAlignment() {
        SplittableRandom random = new SplittableRandom(42);
        byte[] alphabet = {'\r', '\n', 'a', 0, (byte)0x80, (byte)0x8D, (byte)0xFF, 0x0C, 0x0B, 0x0E};
        for (int trial = 0; trial < 2000; trial++) {
            int skip = random.nextInt(16);
            byte[] data = new byte[skip + random.nextInt(80)];
            int density = 1 + random.nextInt(30);
            for (int i = 0; i < data.length; i++) {
                data[i] = random.nextInt(density) == 0 ? alphabet[random.nextInt(2)] : alphabet[2 + random.nextInt(alphabet.length - 2)];
            }
            Buffer buf = new Buffer();
            buf.append(data);
            buf.retrieve(skip);
            int readable = buf.readableBytes();
            int base = data.length - readable;
            for (int start = 0; start <= readable; start++) {
                int eol = naiveEol(data, base + start);
                int crlf = naiveCrlf(data, base + start);
                assertEquals(eol < 0 ? -1 : eol - base, buf.findEOL(start), "EOL trial " + trial + " start " + start);
                assertEquals(crlf < 0 ? -1 : crlf - base, buf.findCRLF(start), "CRLF trial " + trial + " start " + start);
            }
        }
    }

    private static int naiveEol(byte[] data, int from) {
        for (int i = from; i < data.length; i++) {
            if (data[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private static int naiveCrlf(byte[] data, int from) {
        for (int i = from; i + 1 < data.length; i++) {
            if (data[i] == '\r' && data[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------ views and debug

    @Test
    void readableViewCoversReadableRegionAndIsReused() {
        Buffer buf = new Buffer();
        buf.append("abcdef".getBytes(ISO_8859_1));
        buf.retrieve(2);
        ByteBuffer view = buf.readableView();
        assertEquals(buf.readerIndex(), view.position());
        assertEquals(buf.writerIndex(), view.limit());
        assertEquals('c', view.get(view.position()));
        assertSame(view, buf.readableView());
        assertTrue(view.isDirect());
    }

    @Test
    void toStringShowsIndices() {
        Buffer buf = new Buffer();
        buf.append(new byte[] {1, 2, (byte)0xAB});
        buf.retrieve(1);
        assertEquals("Buffer[readerIndex=9, writerIndex=11, capacity=1032]", buf.toString());
        assertEquals("Buffer[readerIndex=9, writerIndex=11, capacity=1032] readable=2 [02 ab]", buf.toDebugString());
        buf.append(new byte[100]);
        assertTrue(buf.toDebugString().endsWith(" ...]"));
    }

    @Test
    void rejectsBadInitialSize() {
        assertThrows(IllegalArgumentException.class, () -> new Buffer(-1));
    }

    private static String readAll(Buffer buf) {
        byte[] b = new byte[buf.readableBytes()];
        buf.peek(b, 0, b.length);
        return new String(b, ISO_8859_1);
    }
}
