package io.muduo4j.net;

/**
 * Called on the connection's loop when bytes arrived. {@code buf} is the connection's input
 * buffer: consume (retrieve) what you use, leave the rest for the next call. It is valid only
 * during the call. {@code receiveNanos} is the {@link System#nanoTime()} of the read.
 */
@FunctionalInterface
public interface MessageCallback {
    void onMessage(TcpConnection conn, Buffer buf, long receiveNanos);
}
