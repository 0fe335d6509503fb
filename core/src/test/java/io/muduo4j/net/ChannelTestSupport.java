package io.muduo4j.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

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
