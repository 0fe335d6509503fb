package io.muduo4j.bench;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Counters of one ping-pong session, written only by the thread that owns the session (its loop,
 * or its own thread for blocking sockets) and read by anyone. Recording is allocation-free.
 *
 * <p>Per-block round-trip time: each session has exactly one block in flight, so the interval
 * between two successive moments at which the bytes read cross a multiple of the block size is the
 * round-trip time of one block (both sides echo as bytes arrive, as muduo's pingpong does).
 */
final class PingPongSession {
    static final long MAX_RTT_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** RTT is recorded by the first this-many sessions only: a histogram is about 200 KB. */
    static final int MAX_RTT_SESSIONS = 64;

    final int blockSize;
    private final Histogram rtt;
    private volatile long bytes;
    private volatile long reads;
    private long blocksSeen;
    private long lastMark;
    /** {@link Long#MIN_VALUE}: record every block (no warm-up). */
    private volatile long rttFrom = Long.MIN_VALUE;

    PingPongSession(int blockSize, boolean recordRtt) {
        this.blockSize = blockSize;
        this.rtt = recordRtt ? new Histogram(MAX_RTT_NANOS, 3) : null;
    }

    /** The first block has just been sent (owning thread). */
    void started() {
        lastMark = System.nanoTime();
    }

    /** {@code n} bytes were read (owning thread). */
    void onRead(int n) {
        long b = bytes + n;
        bytes = b;
        reads = reads + 1;
        if (rtt != null) {
            long blocks = b / blockSize;
            if (blocks != blocksSeen) {
                blocksSeen = blocks;
                long now = System.nanoTime();
                long from = rttFrom;
                if (from == Long.MIN_VALUE || now - from >= 0) {
                    rtt.recordValue(Math.min(now - lastMark, MAX_RTT_NANOS));
                }
                lastMark = now;
            }
        }
    }

    /** Blocks completing before {@code nanoTime} are not recorded (warm-up); any thread. */
    void recordRttFrom(long nanoTime) {
        rttFrom = nanoTime;
    }

    long bytes() {
        return bytes;
    }

    long reads() {
        return reads;
    }

    /** Only meaningful once the owning thread has stopped. */
    Histogram histogram() {
        return rtt;
    }

    /** Sums and merges a set of sessions; the peers' {@link Peer.PingPong} implementations extend it. */
    abstract static class Group implements Peer.PingPong {
        final PingPongSession[] sessions;

        Group(int connections, int blockSize, boolean recordRtt) {
            sessions = new PingPongSession[connections];
            for (int i = 0; i < connections; i++) {
                sessions[i] = new PingPongSession(blockSize, recordRtt && i < MAX_RTT_SESSIONS);
            }
        }

        @Override
        public long bytesRead() {
            long s = 0;
            for (PingPongSession p : sessions) {
                s += p.bytes();
            }
            return s;
        }

        @Override
        public long readCalls() {
            long s = 0;
            for (PingPongSession p : sessions) {
                s += p.reads();
            }
            return s;
        }

        @Override
        public long blocks() {
            long s = 0;
            for (PingPongSession p : sessions) {
                s += p.bytes() / p.blockSize;
            }
            return s;
        }

        @Override
        public void recordRttFrom(long nanoTime) {
            for (PingPongSession p : sessions) {
                p.recordRttFrom(nanoTime);
            }
        }

        @Override
        public Histogram rtt() {
            if (sessions.length == 0 || sessions[0].histogram() == null) {
                return null;
            }
            Histogram h = new Histogram(MAX_RTT_NANOS, 3);
            for (PingPongSession p : sessions) {
                if (p.histogram() != null) {
                    h.add(p.histogram());
                }
            }
            return h;
        }
    }
}
