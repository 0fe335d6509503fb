package io.muduo4j.net;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Per-loop recycling of connection buffers and the 64 KiB read scratch, so a connection's setup
 * and teardown allocate no direct memory once the pool is warm. Loop thread only.
 */
final class BufferPool {
    static final int SCRATCH_SIZE = 64 * 1024;
    /** Buffers grown past this are dropped on release instead of pinning their memory in the pool. */
    static final int MAX_POOLED_CAPACITY = 64 * 1024 + Buffer.CHEAP_PREPEND;
    static final int MAX_POOLED = 4096;

    private final ArrayDeque<Buffer> free = new ArrayDeque<>(64);
    private ByteBuffer scratch;

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
