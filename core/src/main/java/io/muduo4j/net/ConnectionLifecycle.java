package io.muduo4j.net;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.channels.SelectionKey;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import io.muduo4j.net.TcpConnection.State;

/**
 * Establishing, the commands other threads post, and closing a {@link TcpConnection}: registration
 * on the loop (also of a connection made on the caller's thread), the lingering close and its
 * flush timeout, forced closes and the one down callback, destruction. See {@link ConnectionCore}
 * for the layers.
 */
abstract class ConnectionLifecycle extends ConnectionOutput {
    ConnectionLifecycle(EventLoop loop, long id, String ownerName) {
        super(loop, id, ownerName);
    }


    // ------------------------------------------------------------------ lifecycle (loop)

    /**
     * The connecting thread's half of {@link TcpClient#connectNow()}: the connection is
     * {@link State#CONNECTED} from here (sends are written by the caller itself while the loop has
     * not seen it yet), and its registration is posted to the loop, which then reads and calls the
     * up callback. Returns false, with the connection closed and nothing
     * posted, when the loop has ended. Any thread but the loop's, once, on a new connection.
     * The staging buffer is the loop's to give: a send before the registration takes one of the
     * loop's spares ({@link BufferPool#takeSpare()}), so a connection that is not written to
     * before the loop sees it takes nothing from them.
     */
    boolean establishFromCaller() {
        synchronized (this) {
            spareAllowed = true;
            outputIdle = true;
        }
        adopted = true; // read by the loop after the post below
        transition(State.CONNECTING, State.CONNECTED);
        COMMANDS.getAndBitwiseOr(this, CMD_ESTABLISH);
        try {
            loop.queueCommands(this);
            return true;
        } catch (RejectedExecutionException e) {
            transition(State.CONNECTED, State.DISCONNECTED);
            closeSocket();
            return false;
        }
    }

    /** Established on its loop: enables reading and calls the connection callback (up). Loop thread. */
    void connectEstablished() {
        loop.assertInLoopThread();
        boolean fromCaller = adopted;
        adopted = false;
        State s = state;
        // An adopted connection is CONNECTED already, or DISCONNECTING when its owner closed it
        // before the loop got here: it is registered either way, and gets its up callback only
        // in the first case (see below).
        if (fromCaller ? s == State.DISCONNECTED : s != State.CONNECTING) {
            return; // destroyed before it was established (server stopping)
        }
        BufferPool pool = loop.buffers();
        try {
            input = pool.acquire();
            output = pool.acquire();
            loop.counters().increment(LoopCounters.OPENED); // paired with CLOSED where the buffers go back
            synchronized (this) {
                if (pending == null) {
                    pending = pool.acquire();
                } else {
                    pool.refillSpares(); // a send before this took a spare
                }
                spareAllowed = false;
                if (!fromCaller) {
                    outputIdle = true;
                }
            }
        } catch (OutOfMemoryError e) {
            // No memory for this connection's buffers: refuse it, keep the loop.
            if (input != null && output == null) {
                pool.release(input);
                input = null;
            }
            transition(s, State.DISCONNECTED);
            closeCause = e;
            loop.reportError(e);
            ConnectionCallback cc = closeCallback;
            if (cc != null) {
                cc.onConnection(self());
            } else {
                destroyLater();
            }
            return;
        }
        // Buffers first: another thread may send the moment it sees CONNECTED.
        if (!fromCaller) {
            transition(State.CONNECTING, State.CONNECTED);
        }
        reading = true;
        interestAdd(SelectionKey.OP_READ);
        if (fromCaller && staged) {
            // Sent before the registration and not all taken by the socket: the flush the sender
            // asked for found no output buffer (or ran before this command) and left the bytes
            // staged. Nothing else would ever send them.
            flushPending();
        }
        if (state != State.CONNECTED) {
            // Shut down or closed by the thread that connected it before the loop got here: that
            // thread knows, and an up callback that sees connected() false would read as a down.
            return;
        }
        // Another thread may close it while the up callback runs (CONNECTED to DISCONNECTING):
        // the callback must still read as the up it is; the down callback follows.
        up = UP_CALLING;
        try {
            connectionCallback.onConnection(self());
        } finally {
            up = UP_CALLED;
        }
    }

    /** Posts {@link #connectEstablished()} to the loop without allocating. */
    void establishLater() {
        post(CMD_ESTABLISH);
    }

    /** Posts {@link #connectDestroyed()} to the loop without allocating. */
    void destroyLater() {
        post(CMD_DESTROY);
    }

    /**
     * The last step: closes the socket and returns the buffers. If still open (the owner is
     * stopping), closes first, calling the down callback. Loop thread; once (later calls do nothing).
     */
    void connectDestroyed() {
        loop.assertInLoopThread();
        if (destroyed) {
            return;
        }
        if (adopted) {
            connectEstablished(); // registered first, so its up and down callbacks pair up (both or neither)
        }
        destroyed = true;
        State s = state;
        if (s == State.CONNECTED || s == State.DISCONNECTING) {
            transition(s, State.DISCONNECTED);
            interestSet(0);
            safeConnectionCallback();
        } else if (s == State.CONNECTING) {
            transition(s, State.DISCONNECTED);
        }
        cancelFlushTimer();
        cancelDelayedClose();
        endExcursion();
        detach();
        closeSocket();
        BufferPool pool = loop.buffers();
        if (input != null) {
            loop.counters().increment(LoopCounters.CLOSED);
            pool.release(input);
            pool.release(output);
            input = null;
            output = null;
        }
        synchronized (this) {
            spareAllowed = false;
            if (pending != null) {
                pool.release(pending);
                pending = null;
            }
        }
    }

    /**
     * The owner's stop: closes now if still open (down callback, then the owner's close hook) and
     * destroys at once, without a posted command, so no command in flight from another thread can
     * delay it. Loop thread; idempotent (a destroy posted earlier or later does nothing).
     */
    void closeAndDestroyInLoop() {
        loop.assertInLoopThread();
        if (adopted) {
            connectEstablished(); // registered first, so its up and down callbacks pair up (both or neither)
        }
        handleClose(null);
        connectDestroyed();
    }

    /**
     * The order commands of one batch run in: what a batch flushes and shuts down was sent before
     * the batch; a write-complete always happened before a high-water crossing in the same batch.
     */
    static final int[] COMMAND_ORDER = {
        CMD_ESTABLISH, CMD_WRITE_ERROR, CMD_FLUSH, CMD_READING, CMD_SHUTDOWN, CMD_FORCE_CLOSE,
        CMD_WRITE_COMPLETE, CMD_WATER, CMD_OUTPUT_LIMIT, CMD_DESTROY,
    };

    void runCommands() {
        int bits = (int) COMMANDS.getAndSet(this, 0);
        for (int cmd : COMMAND_ORDER) {
            if ((bits & cmd) != 0) {
                // A callback that throws is reported; it must not cancel the rest of the batch
                // (a lost destroy would leak the socket).
                try {
                    runCommand(cmd);
                } catch (Throwable t) {
                    failed(t);
                }
            }
        }
    }

    void runCommand(int cmd) {
        switch (cmd) {
            case CMD_ESTABLISH:
                if (establishHook != null) {
                    establishHook.onConnection(self());
                } else {
                    connectEstablished();
                }
                break;
            case CMD_FLUSH:
                flushPending();
                break;
            case CMD_WRITE_ERROR:
                handleClose(directWriteError);
                break;
            case CMD_READING:
                applyReading();
                break;
            case CMD_SHUTDOWN:
                shutdownInLoop();
                break;
            case CMD_FORCE_CLOSE:
                forceCloseInLoop();
                break;
            case CMD_WRITE_COMPLETE:
                if (writeCompleteCallback != null && state != State.DISCONNECTED) {
                    writeCompleteCallback.onWriteComplete(self());
                }
                break;
            case CMD_WATER:
                reconcileWater();
                break;
            case CMD_OUTPUT_LIMIT:
                if (outputLimitCallback != null && state != State.DISCONNECTED) {
                    outputLimitCallback.onConnection(self());
                }
                break;
            default:
                connectDestroyed();
                break;
        }
    }

    // ------------------------------------------------------------------ shutdown and close

    /**
     * Half-closes: stops accepting sends and shuts the output down once everything sent before
     * (from any thread) has been written. Reading goes on until the peer closes. Any thread.
     */
    public void shutdown() {
        if (transition(State.CONNECTED, State.DISCONNECTING)) {
            post(CMD_FLUSH | CMD_SHUTDOWN);
        }
    }

    /*
     * Runs after the flush of the same command batch, so everything sent before shutdown() is in
     * the output buffer by now. The state alone cannot be the trigger: another thread switches it
     * to DISCONNECTING before its last sends have been flushed here.
     */
    void shutdownInLoop() {
        if (state == State.DISCONNECTING && !shutdownRequested) {
            flushThenShut();
        }
    }

    /**
     * Writes everything accepted, then shuts the output down (and closes, when the peer has shut
     * down too); a flush that takes longer than the close-flush timeout resets the connection.
     * Loop thread, state DISCONNECTING.
     */
    void flushThenShut() {
        shutdownRequested = true;
        // A sender that saw CONNECTED before the switch has finished under the lock by now;
        // whatever it staged goes out before the FIN, and nobody writes directly any more.
        setOutputIdle(false);
        flushPending(); // may drain everything and shut down already
        if (outputShutdown || state == State.DISCONNECTED) {
            return;
        }
        if (!wantsWrite() && output.readableBytes() == 0) {
            shutdownOutputNow();
        } else if (closeFlushTimeoutMs > 0 && flushTimer == 0) {
            armFlushTimer();
        }
    }

    void armFlushTimer() {
        flushMark = bytesSent;
        flushTimer = loop.runAfter(closeFlushTimeoutMs, TimeUnit.MILLISECONDS, closeTimers());
    }

    /** This connection's close timers, made on first use (the close path only). Any thread. */
    CloseTimers closeTimers() {
        CloseTimers t = closeTimers;
        if (t == null) {
            t = new CloseTimers(this);
            if (!CLOSE_TIMERS.compareAndSet(this, null, t)) {
                t = closeTimers;
            }
        }
        return t;
    }

    /** At the close: the delayed close, if one is armed, has nothing left to do. Loop thread. */
    void cancelDelayedClose() {
        CloseTimers t = closeTimers;
        if (t != null) {
            t.cancelDelayed();
        }
    }

    /** The close-flush timeout is a time without progress: a slow reader is waited for, a stuck one is not. */
    void checkFlushProgress() {
        flushTimer = 0;
        if (state == State.DISCONNECTED || outputShutdown) {
            return;
        }
        if (bytesSent != flushMark) {
            armFlushTimer();
            return;
        }
        SocketTimeoutException cause = new SocketTimeoutException(queued + " bytes of output not flushed: no progress for "
                + closeFlushTimeoutMs + " ms while closing " + name() + "; connection reset");
        resetOnClose = true; // the peer learns that the stream was cut short
        handleClose(cause);
    }

    void cancelFlushTimer() {
        if (flushTimer != 0) {
            loop.cancel(flushTimer);
            flushTimer = 0;
        }
    }

    void shutdownOutputNow() {
        outputShutdown = true;
        cancelFlushTimer();
        if (peerShutdown) {
            handleClose(null); // both directions are done: the close sends our FIN
            return;
        }
        try {
            loop.poller().shutdownOutput(this);
        } catch (IOException e) {
            handleClose(e);
        }
    }

    /** Closes now, dropping unsent output; the down callback runs on the loop. Any thread. */
    public void forceClose() {
        closeWith(null);
    }

    /**
     * Asks for a forced close with {@code cause} as the close cause (the first cause asked for
     * wins, and it is the cause of whatever close comes next unless that one has an I/O error of
     * its own). Any thread.
     */
    void closeWith(Throwable cause) {
        if (cause != null && closeRequestCause == null) {
            closeRequestCause = cause;
        }
        forceCloseRequested = true; // after the cause: whoever sees the request sees its cause
        State s = state;
        if (s == State.CONNECTED && !transition(State.CONNECTED, State.DISCONNECTING)) {
            s = state;
        }
        if (s == State.CONNECTED || s == State.DISCONNECTING) {
            post(CMD_FORCE_CLOSE);
        }
    }

    /**
     * {@link #forceClose()} after a delay (muduo's pairing with {@link #shutdown()}): sends are
     * refused from now on, and the connection is closed when the delay is over unless it closed
     * before (then the timer is cancelled). Any thread. A call while an earlier one's delay is still
     * running does nothing: the earlier delay stands ({@link #forceClose()} closes at once). Once
     * the connection's loop has ended nothing can run there any more, so, as {@link #forceClose()}
     * then, it only refuses further sends; the owner's close closes the socket.
     *
     * @param delay the delay
     * @param unit its unit
     */
    public void forceCloseWithDelay(long delay, TimeUnit unit) {
        State s = state;
        if (s == State.CONNECTED) {
            transition(State.CONNECTED, State.DISCONNECTING);
        }
        if (state == State.DISCONNECTING) {
            closeTimers().armDelayed(delay, unit);
        }
    }

    /**
     * Closes with a reset (SO_LINGER 0): unsent data is dropped and no TIME_WAIT is left behind.
     * Any thread. The option is set by the loop right before it closes the socket, so the calling
     * thread makes no system call and does not contend for the connection's lock with the loop.
     * Ignored once the connection is closed (in its down callback, say), as every command on a
     * closed handle: the close that happened stays what it was. A call from another thread that
     * races the loop's close may still find the socket open and reset it.
     */
    public void abort() {
        State s = state;
        // The socket outlives the close until the destroy: a flag set now would still reset it.
        if (s == State.CONNECTED || s == State.DISCONNECTING) {
            resetOnClose = true;
            forceClose();
        }
    }

    void forceCloseInLoop() {
        State s = state;
        if (s == State.CONNECTED || s == State.DISCONNECTING) {
            handleClose(closeRequestCause);
        }
    }

    /** Closes once: down callback, then the owner's removal hook. Loop thread. */
    void handleClose(Throwable cause) {
        State s = state;
        if (s != State.CONNECTED && s != State.DISCONNECTING) {
            return;
        }
        if (!transition(s, State.DISCONNECTED)) {
            s = state; // a concurrent CONNECTED→DISCONNECTING; close from there
            if (s != State.DISCONNECTING || !transition(s, State.DISCONNECTED)) {
                return;
            }
        }
        // A direct write may have consumed the reset (ECONNRESET) that a later read then sees
        // only as EOF: the failed write is the real cause.
        // A forced close asked for with a cause may be overtaken by another close (the peer's
        // FIN, say): the cause asked for is still why it closed.
        closeCause = cause != null ? cause : directWriteError != null ? directWriteError : closeRequestCause;
        cancelFlushTimer();
        cancelDelayedClose();
        endExcursion(); // a closed downstream no longer holds its upstream back
        interestSet(0);
        safeConnectionCallback();
        ConnectionCallback cc = closeCallback;
        if (cc != null) {
            cc.onConnection(self());
        } else {
            destroyLater();
        }
    }

    void safeConnectionCallback() {
        if (up == UP_NOT_CALLED) {
            return;
        }
        up = UP_CALLED; // a down call nested in the up call (a send that failed inside it) ends the up call
        try {
            connectionCallback.onConnection(self());
        } catch (Throwable t) {
            EventLoop.rethrowIfFatal(t);
            loop.reportError(t);
        }
    }

    void handleKeyInvalid() {
        handleClose(null);
    }

    /**
     * Closes the socket without the loop (the owner's stop found the loop ended, or a close
     * failed), and with it the connection: DISCONNECTED, so sends are refused as on any closed
     * connection. No down callback: none can run once the loop has ended. Any thread.
     */
    void closeSocketForOwner() {
        for (State s = state; s != State.DISCONNECTED; s = state) {
            if (transition(s, State.DISCONNECTED)) {
                break;
            }
        }
        // After the state: a sender that takes the lock later sees DISCONNECTED and writes nothing.
        closeSocket();
    }
}
