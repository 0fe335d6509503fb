package io.muduo4j.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.function.Consumer;

/**
 * The I/O multiplexer of one {@link EventLoop}: a NIO {@link Selector} whose ready keys are handed
 * straight to their {@link Channel}.
 *
 * <p>Uses {@link Selector#select(Consumer, long)} and {@link Selector#selectNow(Consumer)} with one
 * consumer held in a field, so dispatch touches neither the selected-key set nor an iterator and
 * allocates nothing. Loop thread only, except {@link #wakeup()}.
 *
 * <p>Wake-ups go through a pipe of the poller's own, not {@link Selector#wakeup()}: the JDK's
 * wake-up writes its descriptor while holding a lock that the woken selector takes at once to
 * clear it, so the loop would often block on that lock (a futex wait and a second context switch)
 * right after waking. Here a waker holds a lock only other wakers take, and the loop drains the
 * pipe without one.
 */
final class Poller implements AutoCloseable {
    private final Selector selector;
    private final Consumer<SelectionKey> dispatcher = this::dispatch;
    private final Pipe wakePipe;
    private final ByteBuffer wakeByte = ByteBuffer.allocateDirect(1); // guarded by itself
    private final ByteBuffer drain = ByteBuffer.allocateDirect(64); // loop thread only

    Poller() {
        Selector sel = null;
        Pipe pipe = null;
        try {
            sel = Selector.open();
            pipe = Pipe.open();
            pipe.source().configureBlocking(false);
            pipe.sink().configureBlocking(false);
            pipe.source().register(sel, SelectionKey.OP_READ, null); // the one key without a Channel
        } catch (IOException e) {
            closeQuietly(sel, pipe);
            throw new UncheckedIOException("cannot open a Selector (file descriptors exhausted?)", e);
        }
        selector = sel;
        wakePipe = pipe;
    }

    private static void closeQuietly(Selector sel, Pipe pipe) {
        try {
            if (pipe != null) {
                pipe.source().close();
                pipe.sink().close();
            }
            if (sel != null) {
                sel.close();
            }
        } catch (IOException ignored) {
            // nothing more to release
        }
    }

    Selector selector() {
        return selector;
    }

    /** Blocks at most {@code timeoutMs} (must be &gt; 0) and dispatches ready channels. */
    int poll(long timeoutMs) throws IOException {
        return selector.select(dispatcher, timeoutMs);
    }

    int pollNow() throws IOException {
        return selector.selectNow(dispatcher);
    }

    /** Wakes a {@link #poll} in progress, or makes the next one return at once. Any thread. */
    void wakeup() {
        synchronized (wakeByte) {
            wakeByte.clear();
            try {
                wakePipe.sink().write(wakeByte); // 0 when the pipe is full: the loop is woken anyway
            } catch (IOException e) {
                selector.wakeup(); // the pipe is closed: the poller is closing
            }
        }
    }

    boolean isOpen() {
        return selector.isOpen();
    }

    private void dispatch(SelectionKey key) {
        Object channel = key.attachment();
        if (channel != null) {
            ((Channel) channel).handleEvent(key);
            return;
        }
        try {
            do {
                drain.clear();
            } while (wakePipe.source().read(drain) == drain.capacity());
        } catch (IOException e) {
            // Closing: nothing left to wake.
        }
    }

    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            closeQuietly(null, wakePipe);
        }
    }
}
