package io.muduo4j.net;

import java.io.IOException;
import java.io.UncheckedIOException;
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
 */
final class Poller implements AutoCloseable {
    private final Selector selector;
    private final Consumer<SelectionKey> dispatcher = this::dispatch;

    Poller() {
        try {
            selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a Selector (file descriptors exhausted?)", e);
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

    void wakeup() {
        selector.wakeup();
    }

    boolean isOpen() {
        return selector.isOpen();
    }

    private void dispatch(SelectionKey key) {
        ((Channel) key.attachment()).handleEvent(key);
    }

    @Override
    public void close() throws IOException {
        selector.close();
    }
}
