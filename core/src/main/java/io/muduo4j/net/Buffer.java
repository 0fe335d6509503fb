package io.muduo4j.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ScatteringByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.Charset;
import java.util.Objects;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A growable byte buffer for network I/O, muduo's {@code Buffer} (itself after Netty 3's
 * {@code ChannelBuffer}), over one direct {@link ByteBuffer}.
 *
 * <pre>
 * +-------------------+------------------+------------------+
 * | prependable bytes |  readable bytes  |  writable bytes  |
 * |                   |     (CONTENT)    |                  |
 * +-------------------+------------------+------------------+
 * 0      &lt;=      readerIndex   &lt;=   writerIndex    &lt;=    capacity
 * </pre>
 *
 * <p>{@link #CHEAP_PREPEND} bytes are kept in front of the content so a length or header can be
 * {@linkplain #prepend(byte[], int, int) prepended} without moving it. Integers are read and written
 * in network byte order (big-endian). Offsets taken and returned by the search and peek methods are
 * relative to {@link #readerIndex()}.
 *
 * <p><b>Space:</b> consuming all content ({@link #retrieveAll()}, or a {@link #retrieve(int)} of
 * everything) resets both indices to {@link #CHEAP_PREPEND}, so a buffer that is drained as fast
 * as it is filled never moves or grows. When the tail is too small, the content is first moved down
 * to {@link #CHEAP_PREPEND} if that frees enough room; otherwise the storage is replaced by one of
 * {@code max(2 * capacity, needed)} bytes, so a buffer filled a byte at a time is copied
 * O(log n) times rather than O(n) (muduo grows to the exact size). Only growth and
 * {@link #shrink(int)} allocate; every other method, the I/O helpers included, is allocation-free
 * except those that return a new {@code byte[]} or {@code String}.
 *
 * <p><b>Threading:</b> not thread-safe. A buffer belongs to one thread at a time, normally the
 * {@link EventLoop} thread of the connection that owns it; handing it to another thread needs a
 * happens-before edge supplied by the caller (e.g. a task queue).
 *
 * <p><b>Views:</b> {@link #readableView()} and {@link #writableView()} return {@link ByteBuffer}s
 * that are reused, not copied: each is valid until the next call that mutates this buffer, and a
 * growth or shrink leaves old views pointing at storage the buffer no longer uses.
 */
public final class Buffer {
    /** Bytes reserved in front of the content for cheap prepends. */
    public static final int CHEAP_PREPEND = 8;
    /** Default number of writable bytes of a new buffer. */
    public static final int INITIAL_SIZE = 1024;

    private static final int MAX_CAPACITY = Integer.MAX_VALUE;
    private static final ByteOrder NETWORK_ORDER = ByteOrder.BIG_ENDIAN;
    private static final int HEX_DUMP_LIMIT = 64;

    static {
        AgronaAccess.check();
    }

    private final int initialSize;
    private UnsafeBuffer bytes;
    private ByteBuffer readView;
    private ByteBuffer writeView;
    private int capacity;
    private int readerIndex;
    private int writerIndex;
    // Held so a scattering read (BufferIo) does not allocate its argument array on every call.
    private final ByteBuffer[] scatter = new ByteBuffer[2];

    /** A buffer with {@link #INITIAL_SIZE} writable bytes. */
    public Buffer() {
        this(INITIAL_SIZE);
    }

    /**
     * A buffer with {@code initialSize} writable bytes; {@link #shrink(int)} never goes below it.
     *
     * @param initialSize writable bytes of the new buffer, {@code >= 0}.
     */
    public Buffer(final int initialSize) {
        if (initialSize < 0 || initialSize > MAX_CAPACITY - CHEAP_PREPEND) {
            throw new IllegalArgumentException("initialSize out of range: " + initialSize);
        }
        this.initialSize = initialSize;
        useStorage(ByteBuffer.allocateDirect(CHEAP_PREPEND + initialSize));
        readerIndex = CHEAP_PREPEND;
        writerIndex = CHEAP_PREPEND;
    }

    // ---------------------------------------------------------------------------------- sizes

    /**
     * Bytes between the reader and writer indices: the content.
     *
     * @return the number of readable bytes
     */
    public int readableBytes() {
        return writerIndex - readerIndex;
    }

    /**
     * Bytes after the writer index, free to append without growing.
     *
     * @return the number of writable bytes
     */
    public int writableBytes() {
        return capacity - writerIndex;
    }

    /**
     * Bytes before the reader index, free to prepend (the reader index).
     *
     * @return the number of prependable bytes
     */
    public int prependableBytes() {
        return readerIndex;
    }

    /**
     * Absolute index of the first readable byte in the storage.
     *
     * @return the reader index
     */
    public int readerIndex() {
        return readerIndex;
    }

    /**
     * Absolute index of the first writable byte in the storage.
     *
     * @return the writer index
     */
    public int writerIndex() {
        return writerIndex;
    }

    /**
     * Size of the storage, prependable area included.
     *
     * @return the capacity in bytes
     */
    public int capacity() {
        return capacity;
    }

    // ---------------------------------------------------------------------------------- append

    /**
     * Appends all of {@code src}.
     *
     * @param src the bytes to append
     */
    public void append(final byte[] src) {
        append(src, 0, src.length);
    }

    /**
     * Appends {@code length} bytes of {@code src} from {@code offset}.
     *
     * @param src the bytes
     * @param offset index of the first byte in {@code src}
     * @param length number of bytes to append
     */
    public void append(final byte[] src, final int offset, final int length) {
        Objects.checkFromIndexSize(offset, length, src.length);
        ensureWritableBytes(length);
        bytes.putBytes(writerIndex, src, offset, length);
        writerIndex += length;
    }

    /**
     * Appends {@code src}'s remaining bytes and advances its position to its limit.
     *
     * @param src the bytes to append
     */
    public void append(final ByteBuffer src) {
        final int length = src.remaining();
        ensureWritableBytes(length);
        bytes.putBytes(writerIndex, src, src.position(), length);
        src.position(src.limit());
        writerIndex += length;
    }

    /**
     * Appends a copy of {@code other}'s readable bytes; {@code other} is left unchanged.
     *
     * @param other the buffer to copy from (may be this buffer)
     */
    public void append(final Buffer other) {
        final int length = other.readableBytes();
        ensureWritableBytes(length);
        // other.readerIndex is read after ensureWritableBytes: when other == this, making space
        // may have moved the content.
        bytes.putBytes(writerIndex, other.bytes, other.readerIndex, length);
        writerIndex += length;
    }

    /**
     * Appends the low 8 bits of {@code value}.
     *
     * @param value the byte to append
     */
    public void appendInt8(final int value) {
        ensureWritableBytes(Byte.BYTES);
        bytes.putByte(writerIndex, (byte)value);
        writerIndex += Byte.BYTES;
    }

    /**
     * Appends the low 16 bits of {@code value}, big-endian.
     *
     * @param value the short to append
     */
    public void appendInt16(final int value) {
        ensureWritableBytes(Short.BYTES);
        bytes.putShort(writerIndex, (short)value, NETWORK_ORDER);
        writerIndex += Short.BYTES;
    }

    /**
     * Appends {@code value}, big-endian.
     *
     * @param value the int to append
     */
    public void appendInt32(final int value) {
        ensureWritableBytes(Integer.BYTES);
        bytes.putInt(writerIndex, value, NETWORK_ORDER);
        writerIndex += Integer.BYTES;
    }

    /**
     * Appends {@code value}, big-endian.
     *
     * @param value the long to append
     */
    public void appendInt64(final long value) {
        ensureWritableBytes(Long.BYTES);
        bytes.putLong(writerIndex, value, NETWORK_ORDER);
        writerIndex += Long.BYTES;
    }

    /**
     * Makes room for at least {@code length} writable bytes, compacting or growing as described in
     * the class comment.
     *
     * @param length the number of writable bytes needed, {@code >= 0}
     */
    public void ensureWritableBytes(final int length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative length: " + length);
        }
        if (capacity - writerIndex < length) {
            makeSpace(length);
        }
    }

    /**
     * Marks {@code length} bytes written directly into {@link #writableView()} as readable.
     *
     * @param length the number of bytes written, at most {@link #writableBytes()}
     */
    public void hasWritten(final int length) {
        if (length < 0 || length > writableBytes()) {
            throw outOfRange("hasWritten", length, writableBytes());
        }
        writerIndex += length;
    }

    /**
     * Drops the last {@code length} readable bytes.
     *
     * @param length the number of bytes to drop, at most {@link #readableBytes()}
     */
    public void unwrite(final int length) {
        if (length < 0 || length > readableBytes()) {
            throw outOfRange("unwrite", length, readableBytes());
        }
        writerIndex -= length;
    }

    // ---------------------------------------------------------------------------------- prepend

    /**
     * Writes {@code length} bytes just before the readable bytes; needs that much prependable room.
     *
     * @param src the bytes
     * @param offset index of the first byte in {@code src}
     * @param length number of bytes to prepend
     */
    public void prepend(final byte[] src, final int offset, final int length) {
        Objects.checkFromIndexSize(offset, length, src.length);
        checkPrependable(length);
        readerIndex -= length;
        bytes.putBytes(readerIndex, src, offset, length);
    }

    /**
     * Prepends the low 8 bits of {@code value}.
     *
     * @param value the byte to prepend
     */
    public void prependInt8(final int value) {
        checkPrependable(Byte.BYTES);
        readerIndex -= Byte.BYTES;
        bytes.putByte(readerIndex, (byte)value);
    }

    /**
     * Prepends the low 16 bits of {@code value}, big-endian.
     *
     * @param value the short to prepend
     */
    public void prependInt16(final int value) {
        checkPrependable(Short.BYTES);
        readerIndex -= Short.BYTES;
        bytes.putShort(readerIndex, (short)value, NETWORK_ORDER);
    }

    /**
     * Prepends {@code value}, big-endian (e.g. a length header).
     *
     * @param value the int to prepend
     */
    public void prependInt32(final int value) {
        checkPrependable(Integer.BYTES);
        readerIndex -= Integer.BYTES;
        bytes.putInt(readerIndex, value, NETWORK_ORDER);
    }

    /**
     * Prepends {@code value}, big-endian.
     *
     * @param value the long to prepend
     */
    public void prependInt64(final long value) {
        checkPrependable(Long.BYTES);
        readerIndex -= Long.BYTES;
        bytes.putLong(readerIndex, value, NETWORK_ORDER);
    }

    // ---------------------------------------------------------------------------------- peek

    /**
     * The readable byte at {@code offset} from the reader index.
     *
     * @param offset offset from the reader index, below {@link #readableBytes()}
     * @return the byte
     */
    public byte getByte(final int offset) {
        if (offset < 0 || offset >= readableBytes()) {
            throw outOfRange("getByte", offset, readableBytes());
        }
        return bytes.getByte(readerIndex + offset);
    }

    /**
     * Copies up to {@code length} readable bytes into {@code dst} without consuming them.
     *
     * @param dst the destination
     * @param offset index in {@code dst} of the first byte copied
     * @param length the most bytes to copy
     * @return the number of bytes copied, {@code min(length, readableBytes())}.
     */
    public int peek(final byte[] dst, final int offset, final int length) {
        Objects.checkFromIndexSize(offset, length, dst.length);
        final int count = Math.min(length, readableBytes());
        bytes.getBytes(readerIndex, dst, offset, count);
        return count;
    }

    /**
     * The first readable byte, not consumed.
     *
     * @return the byte
     */
    public byte peekInt8() {
        checkReadable(Byte.BYTES);
        return bytes.getByte(readerIndex);
    }

    /**
     * The first two readable bytes as a big-endian short, not consumed.
     *
     * @return the short
     */
    public short peekInt16() {
        checkReadable(Short.BYTES);
        return bytes.getShort(readerIndex, NETWORK_ORDER);
    }

    /**
     * The first four readable bytes as a big-endian int, not consumed.
     *
     * @return the int
     */
    public int peekInt32() {
        checkReadable(Integer.BYTES);
        return bytes.getInt(readerIndex, NETWORK_ORDER);
    }

    /**
     * The first eight readable bytes as a big-endian long, not consumed.
     *
     * @return the long
     */
    public long peekInt64() {
        checkReadable(Long.BYTES);
        return bytes.getLong(readerIndex, NETWORK_ORDER);
    }

    /**
     * Consumes and returns the first readable byte.
     *
     * @return the byte
     */
    public byte readInt8() {
        final byte value = peekInt8();
        retrieve(Byte.BYTES);
        return value;
    }

    /**
     * Consumes and returns the first two readable bytes as a big-endian short.
     *
     * @return the short
     */
    public short readInt16() {
        final short value = peekInt16();
        retrieve(Short.BYTES);
        return value;
    }

    /**
     * Consumes and returns the first four readable bytes as a big-endian int.
     *
     * @return the int
     */
    public int readInt32() {
        final int value = peekInt32();
        retrieve(Integer.BYTES);
        return value;
    }

    /**
     * Consumes and returns the first eight readable bytes as a big-endian long.
     *
     * @return the long
     */
    public long readInt64() {
        final long value = peekInt64();
        retrieve(Long.BYTES);
        return value;
    }

    // ---------------------------------------------------------------------------------- retrieve

    /**
     * Consumes {@code length} readable bytes; consuming all of them (or more) is
     * {@link #retrieveAll()}.
     *
     * @param length the number of bytes to consume, {@code >= 0}
     */
    public void retrieve(final int length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative length: " + length);
        }
        if (length < writerIndex - readerIndex) {
            readerIndex += length;
        } else {
            retrieveAll();
        }
    }

    /** Consumes everything and moves both indices back to {@link #CHEAP_PREPEND}, reusing the space. */
    public void retrieveAll() {
        readerIndex = CHEAP_PREPEND;
        writerIndex = CHEAP_PREPEND;
    }

    /**
     * Consumes and returns {@code length} readable bytes.
     *
     * @param length the number of bytes, at most {@link #readableBytes()}
     * @return a new array of them
     */
    public byte[] retrieveAsBytes(final int length) {
        checkReadable(length);
        final byte[] dst = new byte[length];
        bytes.getBytes(readerIndex, dst, 0, length);
        retrieve(length);
        return dst;
    }

    /**
     * Consumes {@code length} readable bytes and decodes them with {@code charset}.
     *
     * @param length the number of bytes, at most {@link #readableBytes()}
     * @param charset the charset to decode with
     * @return the decoded string
     */
    public String retrieveAsString(final int length, final Charset charset) {
        Objects.requireNonNull(charset, "charset");
        return new String(retrieveAsBytes(length), charset);
    }

    /**
     * Consumes all readable bytes and decodes them with {@code charset}.
     *
     * @param charset the charset to decode with
     * @return the decoded string
     */
    public String retrieveAllAsString(final Charset charset) {
        return retrieveAsString(readableBytes(), charset);
    }

    // ---------------------------------------------------------------------------------- search

    /**
     * Offset from the reader index of the first {@code "\r\n"}, or -1.
     *
     * @return the offset of the CR, or -1 when there is none
     */
    public int findCRLF() {
        return findCRLF(0);
    }

    /**
     * Offset from the reader index of the first {@code "\r\n"} at or after {@code start}, or -1.
     *
     * @param start offset from the reader index to search from
     * @return the offset of the CR, or -1 when there is none
     */
    public int findCRLF(final int start) {
        checkStart(start);
        final int cr = ByteSearch.indexOfCrlf(bytes, readerIndex + start, writerIndex);
        return cr < 0 ? -1 : cr - readerIndex;
    }

    /**
     * Offset from the reader index of the first {@code '\n'}, or -1.
     *
     * @return the offset of the LF, or -1 when there is none
     */
    public int findEOL() {
        return findEOL(0);
    }

    /**
     * Offset from the reader index of the first {@code '\n'} at or after {@code start}, or -1.
     *
     * @param start offset from the reader index to search from
     * @return the offset of the LF, or -1 when there is none
     */
    public int findEOL(final int start) {
        checkStart(start);
        final int index = ByteSearch.indexOf(bytes, ByteSearch.LF, readerIndex + start, writerIndex);
        return index < 0 ? -1 : index - readerIndex;
    }

    // ---------------------------------------------------------------------------------- space

    /**
     * Replaces the storage with one just big enough for the readable bytes plus {@code reserve}
     * (but never smaller than the initial size), e.g. after a burst has been consumed.
     *
     * @param reserve writable bytes to keep after the content, {@code >= 0}
     */
    public void shrink(final int reserve) {
        if (reserve < 0) {
            throw new IllegalArgumentException("negative reserve: " + reserve);
        }
        final int readable = readableBytes();
        final long size = Math.max((long)initialSize, (long)readable + reserve);
        if (size > MAX_CAPACITY - CHEAP_PREPEND) {
            throw tooBig(size);
        }
        moveTo((int)(CHEAP_PREPEND + size), readable);
    }

    // ---------------------------------------------------------------------------------- views and I/O

    /**
     * The readable bytes as a reused {@link ByteBuffer} (position = reader index, limit = writer
     * index) for gathering writes; valid until the next mutation of this buffer.
     *
     * @return the reused view of the content
     */
    public ByteBuffer readableView() {
        final ByteBuffer view = readView;
        view.limit(writerIndex).position(readerIndex);
        return view;
    }

    /**
     * The writable tail as a reused {@link ByteBuffer} (position = writer index, limit = capacity)
     * for direct encoding; follow with {@link #hasWritten(int)}. Valid until the next mutation.
     *
     * @return the reused view of the writable tail
     */
    public ByteBuffer writableView() {
        final ByteBuffer view = writeView;
        view.limit(capacity).position(writerIndex);
        return view;
    }

    /**
     * muduo's {@code readFd}: one scattering read into this buffer's writable tail and then
     * {@code scratch}, so a single call takes up to {@code writableBytes() + scratch.capacity()}
     * bytes without every idle connection keeping a large buffer. Bytes that landed in
     * {@code scratch} are appended afterwards, which may grow this buffer. When the tail alone is
     * at least as large as {@code scratch}, only the tail is read into.
     *
     * <p>Loop thread only; allocation-free unless this buffer grows.
     *
     * @param channel the channel to read from.
     * @param scratch a per-loop buffer (64 KiB in muduo), direct so the JDK does not copy through a
     *                temporary one; it is cleared first and its content is meaningless afterwards.
     * @return the number of bytes read (possibly 0 for a non-blocking channel), or -1 at end of stream.
     * @throws IOException from the channel.
     */
    public int readFrom(final ScatteringByteChannel channel, final ByteBuffer scratch) throws IOException {
        return BufferIo.read(this, channel, scratch, scatter);
    }

    /**
     * Writes the readable bytes with one {@code write} call and consumes what was written.
     *
     * <p>Loop thread only; allocation-free.
     *
     * @param channel the channel to write to.
     * @return the number of bytes written (possibly 0 when a non-blocking channel is full).
     * @throws IOException from the channel.
     */
    public int writeTo(final WritableByteChannel channel) throws IOException {
        return BufferIo.write(this, channel);
    }

    /** The native address of the first readable byte (a transport's write); valid until the next mutation. */
    long readableAddress() {
        return bytes.addressOffset() + readerIndex;
    }

    /** The native address of the writable tail (a transport's read); valid until the next mutation. */
    long writableAddress() {
        return bytes.addressOffset() + writerIndex;
    }

    // ---------------------------------------------------------------------------------- debug

    @Override
    public String toString() {
        return "Buffer[readerIndex=" + readerIndex + ", writerIndex=" + writerIndex + ", capacity=" + capacity + ']';
    }

    /**
     * {@link #toString()} plus a hex dump of the first readable bytes.
     *
     * @return the description
     */
    public String toDebugString() {
        final int readable = readableBytes();
        final int shown = Math.min(readable, HEX_DUMP_LIMIT);
        final StringBuilder sb = new StringBuilder(64 + 3 * shown).append(this).append(" readable=").append(readable);
        if (shown > 0) {
            sb.append(" [");
            for (int i = 0; i < shown; i++) {
                final int b = bytes.getByte(readerIndex + i) & 0xFF;
                if (i > 0) {
                    sb.append(' ');
                }
                sb.append(Character.forDigit(b >>> 4, 16)).append(Character.forDigit(b & 0xF, 16));
            }
            sb.append(shown < readable ? " ...]" : "]");
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------- internals

    private void makeSpace(final int length) {
        final int readable = readableBytes();
        if (writableBytes() + readerIndex - CHEAP_PREPEND >= length) {
            // Enough room once the consumed head is reclaimed: slide the content down instead of
            // allocating. Unsafe.copyMemory tolerates the overlap.
            bytes.putBytes(CHEAP_PREPEND, bytes, readerIndex, readable);
            readerIndex = CHEAP_PREPEND;
            writerIndex = CHEAP_PREPEND + readable;
            return;
        }
        final long needed = (long)CHEAP_PREPEND + readable + length;
        if (needed > MAX_CAPACITY) {
            throw tooBig(needed);
        }
        moveTo((int)Math.min(MAX_CAPACITY, Math.max(2L * capacity, needed)), readable);
    }

    /** Copies the readable bytes to offset {@link #CHEAP_PREPEND} of new storage of {@code newCapacity}. */
    private void moveTo(final int newCapacity, final int readable) {
        final UnsafeBuffer old = bytes;
        final int oldReader = readerIndex;
        useStorage(ByteBuffer.allocateDirect(newCapacity));
        bytes.putBytes(CHEAP_PREPEND, old, oldReader, readable);
        readerIndex = CHEAP_PREPEND;
        writerIndex = CHEAP_PREPEND + readable;
    }

    // The old storage is left to the GC rather than freed eagerly: a caller may still hold a view of it.
    private void useStorage(final ByteBuffer newStorage) {
        bytes = new UnsafeBuffer(newStorage);
        readView = newStorage.duplicate();
        writeView = newStorage.duplicate();
        capacity = newStorage.capacity();
    }

    private void checkReadable(final int length) {
        if (length < 0 || length > readableBytes()) {
            throw outOfRange("read", length, readableBytes());
        }
    }

    private void checkPrependable(final int length) {
        if (length > readerIndex) {
            throw outOfRange("prepend", length, readerIndex);
        }
    }

    private void checkStart(final int start) {
        if (start < 0 || start > readableBytes()) {
            throw outOfRange("start", start, readableBytes());
        }
    }

    private static IndexOutOfBoundsException outOfRange(final String what, final int value, final int available) {
        return new IndexOutOfBoundsException(what + " " + value + " out of range, available " + available);
    }

    private static IllegalStateException tooBig(final long size) {
        return new IllegalStateException("buffer of " + size + " bytes exceeds the maximum of " + MAX_CAPACITY);
    }
}
