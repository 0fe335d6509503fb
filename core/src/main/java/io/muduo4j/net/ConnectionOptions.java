package io.muduo4j.net;

import java.io.IOException;
import java.net.StandardSocketOptions;

/**
 * The per-connection settings a {@link TcpServer} or {@link TcpClient} hands each new connection:
 * one shared holder instead of a copy per connection. Setup only; read on the loop threads.
 *
 * <p>The defaults suit a server with thousands of connections: a connection holds at most about
 * the high-water mark plus one read of output before it stops reading its peer (64 KiB marks, as
 * Netty's 32/64 KiB), and an application that ignores writability is stopped at the output limit
 * (4 MiB) instead of buffering without bound.
 */
final class ConnectionOptions {
    static final long DEFAULT_HIGH_WATER_MARK = 64 * 1024;
    static final long DEFAULT_LOW_WATER_MARK = 32 * 1024;
    static final long DEFAULT_OUTPUT_LIMIT = 4 * 1024 * 1024;
    static final long DEFAULT_CLOSE_FLUSH_TIMEOUT_MS = 30_000;
    static final int DEFAULT_INPUT_LIMIT = 64 * 1024 * 1024;

    volatile ConnectionCallback connectionCallback;
    volatile MessageCallback messageCallback;
    volatile WriteCompleteCallback writeCompleteCallback;
    volatile HighWaterMarkCallback highWaterMarkCallback;
    volatile long highWaterMark = DEFAULT_HIGH_WATER_MARK;
    volatile ConnectionCallback lowWaterMarkCallback;
    volatile long lowWaterMark = DEFAULT_LOW_WATER_MARK;
    volatile long outputLimit = DEFAULT_OUTPUT_LIMIT;
    volatile ConnectionCallback outputLimitCallback;
    volatile long closeFlushTimeoutMs = DEFAULT_CLOSE_FLUSH_TIMEOUT_MS;
    volatile ConnectionCallback halfCloseCallback;
    volatile boolean allowHalfClosure;
    volatile int inputLimit = DEFAULT_INPUT_LIMIT;
    /** Whether a connection pauses its own reading while unwritable (its default upstream is itself). */
    volatile boolean selfBackPressure = true;
    volatile boolean tcpNoDelay = true;
    volatile boolean keepAlive;
    /** {@link TcpOption} values by ordinal, -1 where not set; replaced whole on each change; null: none. */
    volatile int[] socketOptions;

    void setOutputLimit(long bytes, ConnectionCallback onLimit) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("output limit must be > 0: " + bytes);
        }
        outputLimit = bytes;
        outputLimitCallback = onLimit;
    }

    /** Sets TCP_NODELAY and SO_KEEPALIVE on a new connection's socket, as configured. Its loop's thread, or the connecting thread. */
    void applySocketOptions(Poller p, Pollable ch) throws IOException {
        if (tcpNoDelay) {
            p.setOption(ch, StandardSocketOptions.TCP_NODELAY, true);
        }
        if (keepAlive) {
            p.setOption(ch, StandardSocketOptions.SO_KEEPALIVE, true);
        }
        int[] o = socketOptions;
        if (o != null) {
            TcpOption[] all = TcpOption.VALUES;
            for (int i = 0; i < o.length; i++) {
                if (o[i] >= 0) {
                    p.setOption(ch, all[i], o[i]);
                }
            }
        }
    }

    synchronized void setSocketOption(TcpOption option, int value) {
        int[] o = socketOptions;
        int[] n = o == null ? new int[TcpOption.VALUES.length] : o.clone();
        if (o == null) {
            java.util.Arrays.fill(n, -1);
        }
        n[option.ordinal()] = value;
        socketOptions = n;
    }

    void setCloseFlushTimeoutMs(long ms) {
        if (ms < 0) {
            throw new IllegalArgumentException("close-flush timeout must be >= 0: " + ms);
        }
        closeFlushTimeoutMs = ms;
    }
}
