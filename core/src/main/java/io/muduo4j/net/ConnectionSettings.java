package io.muduo4j.net;

/**
 * The callbacks and options that {@link TcpServer} and {@link TcpClient} hand every connection
 * they make, set the same way on both: this class holds the setters once, over one shared
 * {@link ConnectionOptions}. Set them before the server starts or the client connects (see the
 * threading contract of each).
 */
abstract class ConnectionSettings {
    final ConnectionOptions options = new ConnectionOptions();

    ConnectionSettings() {
    }

    /**
     * Called when a connection comes up and when it goes down.
     *
     * @param cb the connection callback
     */
    public void setConnectionCallback(ConnectionCallback cb) {
        options.connectionCallback = cb;
    }

    /**
     * Called when bytes arrive on a connection.
     *
     * @param cb the message callback
     */
    public void setMessageCallback(MessageCallback cb) {
        options.messageCallback = cb;
    }

    /**
     * Called when a connection's output has been written out completely.
     *
     * @param cb the write-complete callback
     */
    public void setWriteCompleteCallback(WriteCompleteCallback cb) {
        options.writeCompleteCallback = cb;
    }

    /**
     * Called when a connection's queued output crosses {@code mark} bytes upwards.
     *
     * @param cb the high-water callback, or null
     * @param mark the high-water mark in bytes (default 64 KiB)
     */
    public void setHighWaterMarkCallback(HighWaterMarkCallback cb, long mark) {
        options.highWaterMarkCallback = cb;
        options.highWaterMark = mark;
    }

    /**
     * Called when output that had crossed the high-water mark falls to {@code mark} bytes or fewer.
     *
     * @param cb the low-water callback, or null
     * @param mark the low-water mark in bytes (default 32 KiB)
     */
    public void setLowWaterMarkCallback(ConnectionCallback cb, long mark) {
        options.lowWaterMarkCallback = cb;
        options.lowWaterMark = mark;
    }

    /**
     * Keep connections open after the peer's FIN (half-closure); {@code cb} is told when it arrives.
     *
     * @param allow true to allow half-closure (default false: the FIN starts a lingering close)
     * @param cb told of the peer's FIN, or null
     */
    public void setAllowHalfClosure(boolean allow, ConnectionCallback cb) {
        options.allowHalfClosure = allow;
        options.halfCloseCallback = cb;
    }

    /**
     * Input buffer size past which a connection stops reading until the application consumes.
     *
     * @param bytes the input limit, {@code > 0} (default 64 MiB)
     */
    public void setInputLimit(int bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("input limit must be > 0");
        }
        options.inputLimit = bytes;
    }

    /**
     * TCP_NODELAY on the connections (default on).
     *
     * @param on whether to disable Nagle's algorithm
     */
    public void setTcpNoDelay(boolean on) {
        options.tcpNoDelay = on;
    }

    /**
     * A socket option on every connection made from here on (set after {@code TCP_NODELAY} and
     * {@code SO_KEEPALIVE}, so it can override them), as {@link TcpConnection#setOption} would. A
     * value the kernel then refuses fails that connection's setup (it is closed at once).
     *
     * @param option the option
     * @param value  its value (0 or 1 for a flag)
     * @throws UnsupportedOperationException when the loop's transport cannot set it, naming the transport
     * @throws IllegalArgumentException      for a value the option never takes
     */
    public void setConnectionOption(TcpOption option, int value) {
        option.checkSupported(transportForOptions());
        option.checkValue(value);
        options.setSocketOption(option, value);
    }

    /** The transport the connections will run: the one the options must be supported on. */
    abstract Transport transportForOptions();

    /**
     * SO_KEEPALIVE on the connections (default off).
     *
     * @param on whether to enable TCP keep-alive
     */
    public void setKeepAlive(boolean on) {
        options.keepAlive = on;
    }

    /**
     * The most a connection queues for a peer that does not read (default 4 MiB, never below the
     * high-water mark): a {@code send} that would pass it is refused whole and returns false. Then
     * {@code onLimit} runs on the connection's loop; when it is null the connection is closed with
     * an {@link OutputLimitExceededException} as its cause.
     *
     * @param bytes the output limit, {@code > 0}
     * @param onLimit runs when a send is refused, or null to close the connection instead
     */
    public void setOutputLimit(long bytes, ConnectionCallback onLimit) {
        options.setOutputLimit(bytes, onLimit);
    }

    /**
     * How long output still queued when a connection closes (the peer's FIN, or
     * {@code shutdown()}) may go without any of it reaching the peer (default 30 s; 0 = no limit).
     * Past it the connection is reset and its close cause is a {@link java.net.SocketTimeoutException}.
     *
     * @param ms the timeout in milliseconds, {@code >= 0}
     */
    public void setCloseFlushTimeoutMs(long ms) {
        options.setCloseFlushTimeoutMs(ms);
    }
}
