package io.muduo4j.net;

/**
 * Called on the connection's loop when the bytes queued for output cross the high-water mark
 * upwards (once per crossing), with the amount queued.
 */
@FunctionalInterface
public interface HighWaterMarkCallback {
    /**
     * The queued output crossed the high-water mark upwards.
     *
     * @param conn the connection
     * @param queuedBytes bytes queued for output at the crossing
     */
    void onHighWaterMark(TcpConnection conn, long queuedBytes);
}
