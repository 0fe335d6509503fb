package io.muduo4j.net;

/**
 * Called on the connection's loop when the bytes queued for output cross the high-water mark
 * upwards (once per crossing), with the amount queued.
 */
@FunctionalInterface
public interface HighWaterMarkCallback {
    void onHighWaterMark(TcpConnection conn, long queuedBytes);
}
