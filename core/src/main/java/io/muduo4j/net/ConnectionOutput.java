package io.muduo4j.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.Objects;
import io.muduo4j.net.TcpConnection.State;

/**
 * The send path of a {@link TcpConnection}: sends from any thread (direct writes under the
 * connection's lock, staging for the loop), the output limit, the water marks and the upstream a
 * connection pauses while it is unwritable. See {@link ConnectionCore} for the layers.
 */
abstract class ConnectionOutput extends ConnectionCore {
    ConnectionOutput(EventLoop loop, long id, String ownerName) {
        super(loop, id, ownerName);
    }


    // What a send appends from; a switch instead of three copies of the send path.
    static final int SRC_ARRAY = 0;
    static final int SRC_NIO = 1;
    static final int SRC_BUFFER = 2;

    /**
     * Bytes accepted by {@code send} and not yet taken by the socket, from every thread. Any thread.
     *
     * @return the queued bytes
     */
    public long queuedBytes() {
        return queued;
    }

    /**
     * False from the moment the queued bytes reach the high-water mark until they are back at the
     * low-water mark (Netty's {@code isWritable}). Any thread: a producer on another thread asks this
     * before it sends.
     *
     * @return false from reaching the high-water mark until back at the low-water mark
     */
    public boolean isWritable() {
        return excursion == null;
    }

    /**
     * Bytes written to the socket so far: by the loop, and by other threads' direct writes (see
     * the class comment), so a read from any thread may lag behind the latest writes.
     *
     * @return the bytes sent
     */
    public long bytesSent() {
        return bytesSent;
    }

    // ------------------------------------------------------------------ send

    /**
     * Sends all of {@code data}. Any thread. Returns false (and sends nothing) unless connected and under the output limit.
     *
     * @param data the bytes, copied before return
     * @return true when the whole message was accepted
     */
    public boolean send(byte[] data) {
        return send(data, 0, data.length);
    }

    /**
     * Sends {@code len} bytes of {@code data} from {@code off}. Any thread; the bytes are copied before return.
     *
     * @param data the bytes
     * @param off index of the first byte
     * @param len number of bytes
     * @return true when the whole message was accepted
     */
    public boolean send(byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        return send0(data, off, len, SRC_ARRAY);
    }

    /**
     * Sends {@code src}'s remaining bytes and consumes them (only when accepted). Any thread.
     *
     * @param src the bytes
     * @return true when the whole message was accepted
     */
    public boolean send(ByteBuffer src) {
        return send0(src, 0, src.remaining(), SRC_NIO);
    }

    /**
     * Sends {@code buf}'s readable bytes and retrieves them from it (only when accepted). Any
     * thread, but {@code buf} itself must not be used concurrently (it may be this connection's own
     * input buffer, as in an echo server).
     *
     * @param buf the bytes
     * @return true when the whole message was accepted
     */
    public boolean send(Buffer buf) {
        return send0(buf, 0, buf.readableBytes(), SRC_BUFFER);
    }

    static void appendTo(Buffer dst, Object src, int off, int len, int kind) {
        switch (kind) {
            case SRC_ARRAY:
                dst.append((byte[]) src, off, len);
                break;
            case SRC_NIO:
                dst.append((ByteBuffer) src);
                break;
            default:
                Buffer b = (Buffer) src;
                dst.append(b);
                b.retrieveAll();
                break;
        }
    }

    boolean send0(Object src, int off, int len, int kind) {
        if (state != State.CONNECTED || !reserve(len)) {
            return false;
        }
        boolean inLoop = loop.isInLoopThread();
        int toPost;
        try {
            if (inLoop && !staged && outputBusy()) {
                appendTo(output, src, off, len, kind);
                afterAppend();
                toPost = 0;
            } else {
                synchronized (this) {
                    if (pending == null && spareAllowed) {
                        pending = loop.buffers().takeSpare(); // sent before the loop registered it
                    }
                    if (pending == null || state != State.CONNECTED) {
                        unreserve(len);
                        return false;
                    }
                    if (kind == SRC_BUFFER && outputIdle && pending.readableBytes() == 0) {
                        // An echo's own input, say: written from where it lies, not copied first.
                        toPost = writeDirectLocked((Buffer) src);
                    } else {
                        appendTo(pending, src, off, len, kind);
                        toPost = writeDirectLocked(pending);
                    }
                }
            }
        } catch (OutOfMemoryError e) {
            // Growing a buffer failed before anything was copied: the send is refused whole.
            unreserve(len);
            closeWith(e);
            return false;
        }
        if (inLoop && (toPost & CMD_FLUSH) != 0) {
            toPost &= ~CMD_FLUSH;
            try {
                flushPending();
            } catch (OutOfMemoryError e) {
                failed(e); // accepted, but the output could not grow: closed, the error its cause
            }
        }
        if (toPost != 0) {
            post(toPost);
        }
        checkHighWater();
        return true;
    }

    /**
     * Counts {@code len} more queued bytes unless that passes the output limit. A send on an empty
     * queue always passes, so one message larger than the limit still goes out: the limit bounds
     * what piles up behind a peer that does not read, not the size of a message. Any thread.
     */
    boolean reserve(int len) {
        long limit = outputLimit;
        for (;;) {
            long q = queued;
            if (q != 0 && q + len > limit) {
                refused(q, len);
                return false;
            }
            if (QUEUED.compareAndSet(this, q, q + len)) {
                return true;
            }
        }
    }

    void unreserve(int len) {
        QUEUED.getAndAdd(this, (long) -len);
    }

    void refused(long queuedNow, int len) {
        if (outputLimitCallback != null) {
            post(CMD_OUTPUT_LIMIT);
        } else {
            closeWith(new OutputLimitExceededException(outputLimit, queuedNow, len));
        }
    }

    /**
     * The sender reached the high-water mark: unwritable now, and the upstream paused by this
     * thread at once (on its own loop that stops the very next read: a relay overshoots by one
     * read, not by a hop to another loop); the callbacks run on this connection's loop. Any thread.
     */
    void checkHighWater() {
        if (queued >= highWaterMark && excursion == null) {
            TcpConnection up = upstream;
            Object tag = up != null ? up : NO_UPSTREAM;
            if (EXCURSION.compareAndSet(this, null, tag)) {
                if (up != null) {
                    up.throttle(1);
                }
                post(CMD_WATER);
            }
        }
    }

    /**
     * True while the loop owns the socket's output: bytes queued in the output buffer or
     * {@code OP_WRITE} armed. Then an in-loop send just appends; otherwise it goes the way of
     * every other sender, through the connection's monitor. Loop thread.
     */
    boolean outputBusy() {
        return output != null && (output.readableBytes() != 0 || wantsWrite());
    }

    /**
     * The sender's own write, under the connection's monitor, of what is staged: allowed only while
     * the loop has nothing queued or being written ({@code outputIdle}), so it can neither
     * overtake nor tear anyone's bytes. A thread other than the loop thus pays one {@code write}
     * system call instead of waking the loop (a context switch, most of the cost of a cross-thread
     * round trip). Returns the commands the caller posts once it has released the lock: a flush
     * when bytes are left staged for the loop (nobody writes directly until the loop has drained
     * them), a write-complete, a water-mark check, or the write error.
     *
     * <p>{@code from} is {@link #pending} or, when nothing is staged, the sender's own buffer: then
     * the bytes go to the socket without a copy and only what the socket did not take is staged.
     */
    int writeDirectLocked(Buffer from) {
        Buffer p = pending;
        if (!outputIdle) {
            staged = true;
            return CMD_FLUSH;
        }
        int n;
        try {
            n = loop.poller().write(this, from);
        } catch (IOException e) {
            outputIdle = false;
            from.retrieveAll();
            directWriteError = e;
            return CMD_WRITE_ERROR; // the connection is closing; like a write the loop failed, the bytes are gone
        }
        bytesSent += n;
        countDirectWrite(n);
        long q = (long) QUEUED.getAndAdd(this, (long) -n) - n;
        int bits = 0;
        if (from.readableBytes() != 0) {
            if (from != p) {
                try {
                    p.append(from);
                } catch (OutOfMemoryError e) {
                    // Part of the message is on the wire already: it cannot be refused whole any more.
                    from.retrieveAll();
                    outputIdle = false;
                    directWriteError = e;
                    return CMD_WRITE_ERROR;
                }
                from.retrieveAll();
            }
            outputIdle = false; // the loop owns the output from here until it drains
            staged = true;
            bits = CMD_FLUSH;
        } else if (writeCompleteCallback != null) {
            bits = CMD_WRITE_COMPLETE;
        }
        if (excursion != null && q <= lowWaterMark) {
            bits |= CMD_WATER;
        }
        return bits;
    }

    /** Tells other threads whether they may write directly; loop thread, only on a change. */
    void setOutputIdle(boolean idle) {
        if (outputIdle != idle) {
            synchronized (this) {
                outputIdle = idle;
            }
        }
    }

    /**
     * Moves staged bytes behind the output buffer (a swap when it is empty) and takes the output
     * over from direct writers; then writes if nothing was queued. Loop thread. Without an output
     * buffer (a {@link TcpClient#connectNow()} connection its loop has not registered yet) the
     * bytes stay staged, {@code staged} still set: {@code connectEstablished} flushes them.
     */
    void flushPending() {
        if (output == null) {
            return;
        }
        int old = output.readableBytes();
        synchronized (this) {
            staged = false;
            Buffer p = pending;
            if (p == null || p.readableBytes() == 0) {
                return;
            }
            if (old == 0) {
                pending = output;
                output = p;
            } else {
                output.append(p);
                p.retrieveAll();
            }
            outputIdle = false;
        }
        afterAppend();
    }

    /** After output grew: write at once unless OP_WRITE is armed (then the socket is full). */
    void afterAppend() {
        if (!wantsWrite() && state != State.DISCONNECTED) {
            writeOutput(true);
        }
    }

    /** Counts a direct write in the loop's metrics: plainly on the loop thread, atomically from a sender's thread. */
    private void countDirectWrite(int n) {
        if (n > 0) {
            LoopCounters c = loop.counters();
            if (loop.isInLoopThread()) {
                c.add(LoopCounters.BYTES_OUT, n);
                c.increment(LoopCounters.WRITES);
            } else {
                c.addShared(LoopCounters.DIRECT_BYTES_OUT, n);
                c.addShared(LoopCounters.DIRECT_WRITES, 1);
            }
        }
    }

    /** One write of the output buffer; arms or disarms OP_WRITE; fires the drain callbacks. */
    void writeOutput(boolean fromSend) {
        int n;
        try {
            n = loop.poller().write(this, output);
        } catch (IOException e) {
            handleClose(e);
            return;
        }
        bytesSent += n;
        if (n > 0) { // writeOutput runs on the loop thread: no thread check
            LoopCounters c = loop.counters();
            c.add(LoopCounters.BYTES_OUT, n);
            c.increment(LoopCounters.WRITES);
        }
        long q = (long) QUEUED.getAndAdd(this, (long) -n) - n;
        if (excursion != null && q <= lowWaterMark) {
            becameWritable();
            if (state == State.DISCONNECTED) {
                return; // closed by the low-water callback
            }
        }
        if (output.readableBytes() != 0) {
            if (!wantsWrite()) {
                interestAdd(SelectionKey.OP_WRITE);
            }
            return;
        }
        if (wantsWrite()) {
            interestRemove(SelectionKey.OP_WRITE);
        }
        if (!shutdownRequested && state == State.CONNECTED) {
            setOutputIdle(true);
        }
        // The FIN before the callback: a callback that throws cannot keep it from the peer.
        if (shutdownRequested && !outputShutdown) {
            shutdownOutputNow();
        }
        if (writeCompleteCallback != null && state != State.DISCONNECTED) {
            if (fromSend) {
                post(CMD_WRITE_COMPLETE); // not re-entrantly inside the caller's send
            } else {
                try {
                    writeCompleteCallback.onWriteComplete(self());
                } catch (Throwable t) {
                    failed(t);
                }
            }
        }
    }

    // ------------------------------------------------------------------ water marks (loop)

    /**
     * The loop's view of an excursion a send started or a direct write ended: runs the high-water
     * callback once per excursion, or ends an excursion that is already over.
     */
    void reconcileWater() {
        if (state == State.DISCONNECTED) {
            endExcursion(); // started by a send that raced the close: release its upstream
            return;
        }
        if (excursion == null) {
            return;
        }
        long q = queued;
        if (q <= lowWaterMark) {
            becameWritable();
        } else if (!highWaterSeen) {
            highWaterSeen = true;
            if (highWaterMarkCallback != null) {
                highWaterMarkCallback.onHighWaterMark(self(), q);
            }
        }
    }

    /** Back at low water: writable again; the low-water callback only after a high-water one. */
    void becameWritable() {
        if (!endExcursion() || !highWaterSeen) {
            return;
        }
        highWaterSeen = false;
        if (lowWaterMarkCallback != null) {
            try {
                lowWaterMarkCallback.onConnection(self());
            } catch (Throwable t) {
                failed(t);
            }
        }
    }

    /** Clears the excursion and releases the upstream it paused; false when there was none. */
    boolean endExcursion() {
        Object tag = excursion;
        if (tag == null || !EXCURSION.compareAndSet(this, tag, null)) {
            return false;
        }
        if (tag != NO_UPSTREAM) {
            ((TcpConnection) tag).throttle(-1);
        }
        return true;
    }

    /**
     * A downstream connection pauses ({@code +1}) or releases ({@code -1}) this one's reading. Any
     * thread. A release may overtake its pause (the two are made by different threads); the count
     * is then briefly negative, which pauses too, and the last change applied settles it.
     */
    void throttle(int delta) {
        THROTTLES.getAndAdd(this, delta);
        if (loop.isInLoopThread()) {
            applyReading();
        } else {
            post(CMD_READING);
        }
    }
}
