package io.muduo4j.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.Pipe;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * The {@link Transport#NIO} poller: a NIO {@link Selector} whose ready keys are handed straight to
 * their {@link Pollable}, and {@link SocketChannel}s.
 *
 * <p>Uses {@link Selector#select(Consumer, long)} and {@link Selector#selectNow(Consumer)} with one
 * consumer held in a field, so dispatch touches neither the selected-key set nor an iterator and
 * allocates nothing.
 *
 * <p>Wake-ups go through a pipe of the poller's own, not {@link Selector#wakeup()}: the JDK's
 * wake-up writes its descriptor while holding a lock that the woken selector takes at once to
 * clear it, so the loop would often block on that lock (a futex wait and a second context switch)
 * right after waking. Here a waker holds a lock only other wakers take, and the loop drains the
 * pipe without one.
 */
final class NioPoller extends Poller {
    private static final Path DEV_NULL = Path.of("/dev/null");

    private final Selector selector;
    private final Consumer<SelectionKey> dispatcher = this::dispatch;
    private final Pipe wakePipe;
    private final ByteBuffer wakeByte = ByteBuffer.allocateDirect(1); // guarded by itself
    private final ByteBuffer drain = ByteBuffer.allocateDirect(64); // loop thread only

    NioPoller() {
        Selector sel = null;
        Pipe pipe = null;
        try {
            sel = Selector.open();
            pipe = Pipe.open();
            pipe.source().configureBlocking(false);
            pipe.sink().configureBlocking(false);
            pipe.source().register(sel, SelectionKey.OP_READ, null); // the one key without a Pollable
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

    @Override
    Transport transport() {
        return Transport.NIO;
    }

    /** The selector, for tests that look at keys. */
    Selector selector() {
        return selector;
    }

    @Override
    int poll(long timeoutMs) throws IOException {
        return selector.select(dispatcher, timeoutMs);
    }

    @Override
    int pollNow() throws IOException {
        return selector.selectNow(dispatcher);
    }

    @Override
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

    @Override
    boolean isOpen() {
        return selector.isOpen();
    }

    private void dispatch(SelectionKey key) {
        waitEnds(); // select(Consumer) dispatches inside the wait
        Object handle = key.attachment();
        if (handle != null) {
            Pollable ch = (Pollable) handle;
            int ready;
            try {
                ready = key.isValid() ? key.readyOps() : INVALID;
            } catch (CancelledKeyException e) {
                ready = INVALID;
            }
            ch.handleEvent(ready);
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
    void update(Pollable ch, int oldOps, int ops) {
        SelectionKey key = (SelectionKey) ch.registration;
        try {
            if (key == null) {
                if (ops != 0) {
                    ch.registration = ch.selectable.register(selector, ops, ch);
                }
            } else {
                key.interestOps(ops);
            }
        } catch (ClosedChannelException | CancelledKeyException e) {
            // The socket was closed under us (forceClose racing an interest change). Nothing is
            // registered; the owner finds out through its own close path.
            ch.registration = null;
            ch.lostRegistration();
        }
    }

    @Override
    void remove(Pollable ch) {
        SelectionKey key = (SelectionKey) ch.registration;
        if (key != null) {
            key.cancel();
            ch.registration = null;
        }
    }

    @Override
    void transfer(Pollable from, Pollable to) {
        to.selectable = from.selectable;
        SelectionKey key = (SelectionKey) from.registration;
        to.registration = key;
        if (key != null) {
            key.attach(to);
        }
        from.selectable = null;
        from.registration = null;
    }

    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            closeQuietly(null, wakePipe);
        }
    }

    // ------------------------------------------------------------------ sockets

    private static SocketChannel socket(Pollable ch) throws ClosedChannelException {
        SelectableChannel s = ch.selectable;
        if (s == null) {
            throw new ClosedChannelException();
        }
        return (SocketChannel) s;
    }

    @Override
    void listen(Pollable ch, InetSocketAddress address, int backlog, boolean reusePort) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.configureBlocking(false);
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (reusePort) {
                server.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            server.bind(address, backlog);
        } catch (IOException | RuntimeException e) {
            closeQuietly(server);
            throw e;
        }
        ch.selectable = server;
        ch.setListening();
    }

    @Override
    boolean accept(Pollable listener, Pollable into) throws IOException {
        SelectableChannel l = listener.selectable;
        if (l == null) {
            throw new ClosedChannelException();
        }
        SocketChannel s = ((ServerSocketChannel) l).accept();
        if (s == null) {
            return false;
        }
        nonBlocking(s);
        into.selectable = s;
        return true;
    }

    @Override
    void open(Pollable ch, InetSocketAddress remote) throws IOException {
        InetAddress a = remote.getAddress();
        SocketChannel s;
        if (a instanceof Inet4Address) {
            s = SocketChannel.open(StandardProtocolFamily.INET);
        } else if (a instanceof Inet6Address) {
            s = SocketChannel.open(StandardProtocolFamily.INET6);
        } else {
            s = SocketChannel.open(); // unresolved: its connect fails
        }
        nonBlocking(s);
        ch.selectable = s;
    }

    @Override
    boolean connect(Pollable ch, InetSocketAddress remote) throws IOException {
        return socket(ch).connect(remote);
    }

    @Override
    boolean finishConnect(Pollable ch, InetSocketAddress remote) throws IOException {
        return socket(ch).finishConnect();
    }

    @Override
    boolean isSelfConnected(Pollable ch, InetSocketAddress remote) throws IOException {
        SocketChannel s = socket(ch);
        return s.getLocalAddress().equals(s.getRemoteAddress());
    }

    @Override
    int read(Pollable ch, Buffer dst, ByteBuffer scratch) throws IOException {
        return dst.readFrom(socket(ch), scratch);
    }

    @Override
    int write(Pollable ch, Buffer src) throws IOException {
        return src.writeTo(socket(ch));
    }

    @Override
    void shutdownOutput(Pollable ch) throws IOException {
        socket(ch).shutdownOutput();
    }

    @Override
    <T> void setOption(Pollable ch, SocketOption<T> option, T value) throws IOException {
        SelectableChannel s = ch.selectable;
        if (s == null) {
            throw new ClosedChannelException();
        }
        ((NetworkChannel) s).setOption(option, value);
    }

    @Override
    @SuppressWarnings("unchecked")
    void setOption(Pollable ch, TcpOption option, int value) throws IOException {
        SocketChannel s = socket(ch);
        if (option.flag) {
            s.setOption((SocketOption<Boolean>) option.jdk, value != 0);
        } else {
            s.setOption((SocketOption<Integer>) option.jdk, value);
        }
    }

    @Override
    int getOption(Pollable ch, TcpOption option) throws IOException {
        Object v = socket(ch).getOption(option.jdk);
        return v instanceof Boolean ? ((Boolean) v ? 1 : 0) : (Integer) v;
    }

    @Override
    boolean tcpInfo(Pollable ch, TcpInfo into) throws IOException {
        socket(ch); // closed: ClosedChannelException, as on the other transports
        return false; // the JDK exposes no TCP_INFO
    }

    @Override
    InetSocketAddress localAddress(Pollable ch) throws IOException {
        SelectableChannel s = ch.selectable;
        if (s == null) {
            throw new ClosedChannelException();
        }
        return (InetSocketAddress) ((NetworkChannel) s).getLocalAddress();
    }

    @Override
    InetSocketAddress remoteAddress(Pollable ch) throws IOException {
        return (InetSocketAddress) socket(ch).getRemoteAddress();
    }

    @Override
    boolean isOpen(Pollable ch) {
        SelectableChannel s = ch.selectable;
        return s != null && s.isOpen();
    }

    @Override
    void close(Pollable ch) {
        SelectableChannel s = ch.selectable;
        if (s != null) {
            closeQuietly(s);
        }
    }

    @Override
    Object openReserve() {
        try {
            return FileChannel.open(DEV_NULL, StandardOpenOption.READ);
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    void closeReserve(Object reserve) {
        closeQuietly((FileChannel) reserve);
    }

    /** Makes a new socket non-blocking, closing it when that fails. */
    private static void nonBlocking(SocketChannel s) throws IOException {
        try {
            s.configureBlocking(false);
        } catch (IOException e) {
            closeQuietly(s);
            throw e;
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing useful to do about a failing close
        }
    }
}
