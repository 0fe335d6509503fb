package io.muduo4j.examples;

import io.muduo4j.net.Buffer;
import io.muduo4j.net.MessageCallback;
import io.muduo4j.net.TcpConnection;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * muduo's {@code LengthHeaderCodec} ({@code examples/asio/chat/codec.h}): each message is a 4-byte
 * big-endian length followed by that many bytes of UTF-8. Install it as a connection's message
 * callback; it calls {@code onMessage} once per complete message, however the bytes were split
 * or joined by TCP, and leaves a partial message in the input buffer for the next read.
 *
 * <p>A length below 0 or above {@code maxLength} means the peer is broken or hostile: the codec
 * hands a {@link BadLengthException} to {@code onBadLength}, drops the input and force-closes the
 * connection, so the down callback follows. muduo closes such a connection too (with
 * {@code shutdown()}); without a limit a 4-byte header could make the server buffer 2 GiB.
 *
 * <p>Stateless apart from its settings: one codec serves every connection of a server, on any
 * number of loops.
 */
public final class LengthHeaderCodec implements MessageCallback {
    /** Bytes of the length header. */
    public static final int HEADER_LENGTH = Integer.BYTES;
    /** The default {@code maxLength}: 64 KiB. */
    public static final int DEFAULT_MAX_LENGTH = 64 * 1024;

    /** Receives whole messages. */
    @FunctionalInterface
    public interface StringMessageCallback {
        /**
         * @param conn the connection it came on
         * @param message the message, decoded
         * @param receiveNanos the {@link System#nanoTime()} of the read that completed it
         */
        void onMessage(TcpConnection conn, String message, long receiveNanos);
    }

    /** Told of a bad length just before the connection is closed. */
    @FunctionalInterface
    public interface BadLengthCallback {
        /**
         * @param conn the connection, still open during the call
         * @param cause what was wrong
         */
        void onBadLength(TcpConnection conn, BadLengthException cause);
    }

    private final int maxLength;
    private final StringMessageCallback onMessage;
    private final BadLengthCallback onBadLength;

    /**
     * @param maxLength the longest message accepted, in bytes
     * @param onMessage receives each message
     * @param onBadLength told of a bad length before the close
     */
    public LengthHeaderCodec(int maxLength, StringMessageCallback onMessage, BadLengthCallback onBadLength) {
        if (maxLength < 0) {
            throw new IllegalArgumentException("maxLength must be >= 0: " + maxLength);
        }
        this.maxLength = maxLength;
        this.onMessage = Objects.requireNonNull(onMessage, "onMessage");
        this.onBadLength = Objects.requireNonNull(onBadLength, "onBadLength");
    }

    /** @return the longest message accepted */
    public int maxLength() {
        return maxLength;
    }

    @Override
    public void onMessage(TcpConnection conn, Buffer buf, long receiveNanos) {
        while (buf.readableBytes() >= HEADER_LENGTH && conn.connected()) {
            int length = buf.peekInt32();
            if (length < 0 || length > maxLength) {
                buf.retrieveAll();
                try {
                    onBadLength.onBadLength(conn, new BadLengthException(length, maxLength));
                } finally {
                    conn.forceClose();
                }
                return;
            }
            if (buf.readableBytes() < HEADER_LENGTH + length) {
                return; // wait for the rest of the message
            }
            buf.retrieve(HEADER_LENGTH);
            onMessage.onMessage(conn, buf.retrieveAsString(length, StandardCharsets.UTF_8), receiveNanos);
        }
    }

    /**
     * Encodes {@code message}: the length header, then its UTF-8 bytes.
     *
     * @param message the message
     * @return a new array holding the frame
     */
    public static byte[] encode(String message) {
        byte[] body = message.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(HEADER_LENGTH + body.length).putInt(body.length).put(body).array();
    }

    /**
     * Sends {@code message} as one frame. Any thread.
     *
     * @param conn the connection
     * @param message the message
     * @return the result of {@link TcpConnection#send(byte[])}: false when refused
     */
    public static boolean send(TcpConnection conn, String message) {
        return conn.send(encode(message));
    }
}
