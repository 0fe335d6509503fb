package io.muduo4j.net;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

/**
 * Per-loop recycling of connection buffers and the 64 KiB read scratch, so a connection's setup
 * and teardown allocate no direct memory once the pool is warm. Loop thread only, except
 * {@link #takeSpare()}: a connection made on another thread ({@link TcpClient#connectNow()}) needs
 * its staging buffer before the loop has seen it, so the loop keeps a few spares in a concurrent
 * queue and tops them up when it registers such a connection.
 */
final class BufferPool {
    /** Spares kept for connections made on other threads: enough for a burst of connects between two loop turns. */
    static final int SPARES = 16;

    static final int SCRATCH_SIZE = 64 * 1024;
    /** Buffers grown past this are dropped on release instead of pinning their memory in the pool. */
    static final int MAX_POOLED_CAPACITY = 64 * 1024 + Buffer.CHEAP_PREPEND;
    static final int MAX_POOLED = 4096;

    private final ArrayDeque<Buffer> free = new ArrayDeque<>(64);
    private final ManyToManyConcurrentArrayQueue<Buffer> spares = new ManyToManyConcurrentArrayQueue<>(SPARES);
    private ByteBuffer scratch;

    /** A buffer for a connection made on another thread: a spare, or a new one when none is left. Any thread. */
    Buffer takeSpare() {
        Buffer b = spares.poll();
        return b != null ? b : new Buffer();
    }

    /**
     * Tops the spares up after a connection made on another thread took one: to the full count,
     * since a connecting thread can take several between two turns of the loop. Loop thread.
     */
    void refillSpares() {
        for (int n = SPARES - spares.size(); n > 0; n--) {
            if (!spares.offer(acquire())) {
                return; // full after all (size() is a snapshot); the buffer is dropped, not leaked
            }
        }
    }

    Buffer acquire() {
        Buffer b = free.pollLast();
        return b != null ? b : new Buffer();
    }

    void release(Buffer b) {
        b.retrieveAll();
        if (b.capacity() <= MAX_POOLED_CAPACITY && free.size() < MAX_POOLED) {
            free.addLast(b);
        }
    }

    ByteBuffer scratch() {
        ByteBuffer s = scratch;
        if (s == null) {
            s = scratch = ByteBuffer.allocateDirect(SCRATCH_SIZE);
        }
        return s;
    }
}
