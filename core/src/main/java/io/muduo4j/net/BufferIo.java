package io.muduo4j.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ScatteringByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * {@link Buffer}'s I/O over NIO channels: muduo's {@code readFd} (a scattering read into the
 * buffer's tail and a per-loop scratch) and the one-call write, written against the buffer's own
 * view and index methods as the epoll transport's read and write are.
 *
 * <p><b>Threading:</b> stateless; runs on the thread that owns the buffer (normally its
 * connection's loop thread). Allocation-free unless the buffer grows.
 */
final class BufferIo {
    private BufferIo() {
    }

    /**
     * {@link Buffer#readFrom}: see there.
     *
     * @param scatter the buffer's own two-element array, so a scattering read allocates no argument
     *                array; left with no reference to {@code scratch}
     */
    static int read(final Buffer dst, final ScatteringByteChannel channel, final ByteBuffer scratch,
            final ByteBuffer[] scatter) throws IOException {
        final int writable = dst.writableBytes();
        final ByteBuffer tail = dst.writableView();
        scratch.clear();
        final long read;
        if (writable >= scratch.capacity()) {
            read = channel.read(tail);
        } else {
            scatter[0] = tail;
            scatter[1] = scratch;
            try {
                read = channel.read(scatter, 0, 2);
            } finally {
                // Do not pin the caller's scratch buffer from the buffer.
                scatter[1] = null;
            }
        }
        if (read < 0) {
            return -1;
        }
        if (read <= writable) {
            dst.hasWritten((int)read);
        } else {
            dst.hasWritten(writable);
            scratch.flip();
            dst.append(scratch);
        }
        return Math.toIntExact(read);
    }

    /** {@link Buffer#writeTo}: one {@code write} of the readable bytes, and what was written is consumed. */
    static int write(final Buffer src, final WritableByteChannel channel) throws IOException {
        final int written = channel.write(src.readableView());
        src.retrieve(written);
        return written;
    }
}
