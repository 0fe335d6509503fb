package io.muduo4j.net;

/**
 * Called on the connection's loop when bytes arrived. {@code buf} is the connection's input
 * buffer: consume (retrieve) what you use, leave the rest for the next call. It is valid only
 * during the call. {@code receiveNanos} is the {@link System#nanoTime()} of the read.
 */
@FunctionalInterface
public interface MessageCallback {
    /**
     * Bytes arrived.
     *
     * @param conn the connection
     * @param buf its input buffer, valid only during the call
     * @param receiveNanos the {@link System#nanoTime()} of the read
     */
    void onMessage(TcpConnection conn, Buffer buf, long receiveNanos);
}
