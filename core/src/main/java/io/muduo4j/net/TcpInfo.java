package io.muduo4j.net;

/**
 * A connection's TCP state as the kernel keeps it (Linux's {@code struct tcp_info}, muduo's
 * {@code getTcpInfo}), filled by {@link TcpConnection#tcpInfo(TcpInfo)} into an object the caller
 * keeps (no allocation). Read on the native transports; NIO has no access to it (the JDK exposes
 * no {@code TCP_INFO}), and {@link TcpConnection#tcpInfo} then returns false and leaves this as it
 * was. A field the running kernel does not report (older kernels return a shorter struct) reads
 * -1. Not thread-safe: one thread fills and reads it.
 */
public final class TcpInfo {
    int state = -1;
    int retransmits = -1;
    long rtoMicros = -1;
    long rttMicros = -1;
    long rttVarMicros = -1;
    long sndCwnd = -1;
    long sndMss = -1;
    long unacked = -1;
    long lost = -1;
    long totalRetrans = -1;
    long bytesAcked = -1;
    long bytesReceived = -1;
    long bytesSent = -1;
    long notSentBytes = -1;
    long minRttMicros = -1;

    /** A snapshot with every field unknown (-1). */
    public TcpInfo() {
    }

    /**
     * The TCP state, as Linux numbers it (1 = ESTABLISHED, 7 = CLOSE, 8 = CLOSE_WAIT, ...).
     *
     * @return the TCP state, as Linux numbers it (1 = ESTABLISHED, 7 = CLOSE, 8 = CLOSE_WAIT, ...)
     */
    public int state() {
        return state;
    }

    /**
     * Retransmissions of the current unacknowledged segment (tcpi_retransmits).
     *
     * @return retransmissions of the current unacknowledged segment (tcpi_retransmits)
     */
    public int retransmits() {
        return retransmits;
    }

    /**
     * The retransmission timeout, microseconds.
     *
     * @return the retransmission timeout, microseconds
     */
    public long rtoMicros() {
        return rtoMicros;
    }

    /**
     * The smoothed round-trip time, microseconds.
     *
     * @return the smoothed round-trip time, microseconds
     */
    public long rttMicros() {
        return rttMicros;
    }

    /**
     * The round-trip time's mean deviation, microseconds.
     *
     * @return the round-trip time's mean deviation, microseconds
     */
    public long rttVarMicros() {
        return rttVarMicros;
    }

    /**
     * The congestion window, in segments.
     *
     * @return the congestion window, in segments
     */
    public long sndCwnd() {
        return sndCwnd;
    }

    /**
     * The sending maximum segment size, bytes.
     *
     * @return the sending maximum segment size, bytes
     */
    public long sndMss() {
        return sndMss;
    }

    /**
     * Segments sent and not yet acknowledged.
     *
     * @return segments sent and not yet acknowledged
     */
    public long unacked() {
        return unacked;
    }

    /**
     * Segments presumed lost.
     *
     * @return segments presumed lost
     */
    public long lost() {
        return lost;
    }

    /**
     * Retransmissions over the connection's life.
     *
     * @return retransmissions over the connection's life
     */
    public long totalRetrans() {
        return totalRetrans;
    }

    /**
     * Bytes the peer has acknowledged.
     *
     * @return bytes the peer has acknowledged
     */
    public long bytesAcked() {
        return bytesAcked;
    }

    /**
     * Bytes received from the peer.
     *
     * @return bytes received from the peer
     */
    public long bytesReceived() {
        return bytesReceived;
    }

    /**
     * Bytes sent, retransmissions included (Linux 4.19+).
     *
     * @return bytes sent, retransmissions included (Linux 4.19+)
     */
    public long bytesSent() {
        return bytesSent;
    }

    /**
     * Bytes written but not yet sent (Linux 4.6+).
     *
     * @return bytes written but not yet sent (Linux 4.6+)
     */
    public long notSentBytes() {
        return notSentBytes;
    }

    /**
     * The smallest round-trip time seen, microseconds (Linux 4.6+).
     *
     * @return the smallest round-trip time seen, microseconds (Linux 4.6+)
     */
    public long minRttMicros() {
        return minRttMicros;
    }

    @Override
    public String toString() {
        return "TcpInfo[state=" + state + ", rtt=" + rttMicros + " us, rttvar=" + rttVarMicros + " us, rto=" + rtoMicros
                + " us, cwnd=" + sndCwnd + ", mss=" + sndMss + ", unacked=" + unacked + ", lost=" + lost
                + ", retransmits=" + retransmits + ", totalRetrans=" + totalRetrans + ", bytesAcked=" + bytesAcked
                + ", bytesReceived=" + bytesReceived + ", bytesSent=" + bytesSent + ", notSent=" + notSentBytes
                + ", minRtt=" + minRttMicros + " us]";
    }
}
