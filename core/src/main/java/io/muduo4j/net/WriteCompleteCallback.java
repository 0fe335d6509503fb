package io.muduo4j.net;

/** Called on the connection's loop when its output buffer has been written out completely. */
@FunctionalInterface
public interface WriteCompleteCallback {
    /**
     * The output buffer is empty again.
     *
     * @param conn the connection
     */
    void onWriteComplete(TcpConnection conn);
}
