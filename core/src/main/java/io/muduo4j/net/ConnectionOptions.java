package io.muduo4j.net;

/**
 * The per-connection settings a {@link TcpServer} or {@link TcpClient} hands each new connection:
 * one shared holder instead of a copy per connection. Setup only; read on the loop threads.
 */
final class ConnectionOptions {
    volatile ConnectionCallback connectionCallback;
    volatile MessageCallback messageCallback;
    volatile WriteCompleteCallback writeCompleteCallback;
    volatile HighWaterMarkCallback highWaterMarkCallback;
    volatile long highWaterMark = 64L * 1024 * 1024;
    volatile ConnectionCallback lowWaterMarkCallback;
    volatile long lowWaterMark;
    volatile ConnectionCallback halfCloseCallback;
    volatile boolean allowHalfClosure;
    volatile int inputLimit = 64 * 1024 * 1024;
    volatile boolean tcpNoDelay = true;
    volatile boolean keepAlive;
}
