package io.muduo4j.net;

import java.io.IOException;

/**
 * The {@link TcpConnection#closeCause()} of a connection closed because a {@code send} would have
 * passed its output limit while no output-limit callback was set: the peer did not read what was
 * already queued, and the application kept sending.
 */
public final class OutputLimitExceededException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The connection's output limit. */
    private final long limit;
    /** Bytes queued when the send was refused. */
    private final long queued;
    /** Size of the refused send. */
    private final long refused;

    OutputLimitExceededException(long limit, long queued, long refused) {
        super("output limit of " + limit + " bytes reached: " + queued + " bytes queued, a send of "
                + refused + " refused (the peer does not read; check isWritable() or the water marks)");
        this.limit = limit;
        this.queued = queued;
        this.refused = refused;
    }

    /**
     * The connection's output limit.
     *
     * @return the limit in bytes
     */
    public long limit() {
        return limit;
    }

    /**
     * Bytes queued when the send was refused.
     *
     * @return the queued bytes
     */
    public long queued() {
        return queued;
    }

    /**
     * Size of the refused send.
     *
     * @return the refused bytes
     */
    public long refused() {
        return refused;
    }
}
