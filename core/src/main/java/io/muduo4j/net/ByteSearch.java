package io.muduo4j.net;

import java.nio.ByteOrder;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The byte scans behind {@link Buffer#findCRLF()} and {@link Buffer#findEOL()}: absolute indices
 * in, absolute index or -1 out; the caller checks the range and makes the result relative.
 *
 * <p><b>Threading:</b> stateless; the memory scanned is the caller's, read on the caller's thread
 * (a buffer's owner). Allocation-free.
 */
final class ByteSearch {
    static final byte CR = '\r';
    static final byte LF = '\n';

    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    private ByteSearch() {
    }

    /** First index {@code i} in [from, to - 1) with a CR at {@code i} and an LF at {@code i + 1}, or -1. */
    static int indexOfCrlf(final UnsafeBuffer b, final int from, final int to) {
        // A CR in the last byte cannot start a CRLF, so the search stops one short.
        final int end = to - 1;
        int i = from;
        while (i < end) {
            final int cr = indexOf(b, CR, i, end);
            if (cr < 0) {
                return -1;
            }
            if (b.getByte(cr + 1) == LF) {
                return cr;
            }
            i = cr + 1;
        }
        return -1;
    }

    /**
     * First index in [from, to) holding {@code value}, or -1. Eight bytes per step: XOR turns
     * matching bytes into zero bytes, and the classic "has a zero byte" test flags them. Words are
     * read little-endian so the lowest flagged bit is the first match in memory (borrows can only
     * produce false flags above a true one).
     */
    static int indexOf(final UnsafeBuffer b, final byte value, final int from, final int to) {
        final long pattern = (value & 0xFFL) * ONES;
        int i = from;
        for (final int last = to - Long.BYTES; i <= last; i += Long.BYTES) {
            final long word = b.getLong(i, ByteOrder.LITTLE_ENDIAN) ^ pattern;
            final long found = (word - ONES) & ~word & HIGHS;
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (b.getByte(i) == value) {
                return i;
            }
        }
        return -1;
    }
}
