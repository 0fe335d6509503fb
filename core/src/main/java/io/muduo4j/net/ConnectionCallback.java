package io.muduo4j.net;

/**
 * Called on the connection's loop when a connection comes up ({@link TcpConnection#connected()}
 * is true) and once more when it goes down (false; {@link TcpConnection#closeCause()} tells why).
 */
@FunctionalInterface
public interface ConnectionCallback {
    /**
     * The connection came up or went down.
     *
     * @param conn the connection; {@link TcpConnection#connected()} tells which
     */
    void onConnection(TcpConnection conn);
}
