package io.muduo4j.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The listening socket of a {@link TcpServer}, read in the server's base loop. Accepts up to
 * {@link #MAX_ACCEPTS_PER_EVENT} connections per readiness event and hands each, non-blocking, to
 * the new-connection handler.
 *
 * <p>Out of descriptors (EMFILE/ENFILE) the pending connection would stay in the backlog and keep
 * the socket readable, spinning the loop. So, like muduo, a descriptor on {@code /dev/null} is held
 * in reserve: it is closed to make room to accept the pending connection and close it at once,
 * then reopened. When even that fails, accepting pauses for {@link #PAUSE_MS} and resumes by
 * itself, so the loop neither spins nor dies, and recovers when descriptors free up.
 */
final class Acceptor {
    interface NewConnectionHandler {
        void onNewConnection(SocketChannel socket);
    }

    static final int MAX_ACCEPTS_PER_EVENT = 64;
    static final long PAUSE_MS = 100;
    private static final System.Logger LOG = System.getLogger(Acceptor.class.getName());
    private static final Path DEV_NULL = Path.of("/dev/null");

    private final EventLoop loop;
    private final ServerSocketChannel server;
    private final Channel channel;
    private final NewConnectionHandler handler;
    private final Runnable resume = this::resume;
    private FileChannel reserve;
    private boolean listening;
    private long emfileCount;

    /** Binds and listens at once (so a taken port fails the caller), registers nothing yet. */
    Acceptor(EventLoop loop, InetSocketAddress addr, boolean reusePort, int backlog, NewConnectionHandler handler) {
        this.loop = loop;
        this.handler = handler;
        try {
            server = ServerSocketChannel.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a listening socket", e);
        }
        try {
            server.configureBlocking(false);
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (reusePort) {
                server.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            server.bind(addr, backlog);
        } catch (IOException | UnsupportedOperationException e) {
            closeQuietly(server);
            throw new UncheckedIOException("cannot listen on " + addr + ": " + e.getMessage(),
                    e instanceof IOException ? (IOException) e : new IOException(e));
        }
        reserve = openReserve();
        channel = new Channel(loop, server);
        channel.setReadCallback(this::handleRead);
    }

    InetSocketAddress localAddress() {
        try {
            return (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts accepting. Loop thread. */
    void listen() {
        loop.assertInLoopThread();
        listening = true;
        channel.enableReading();
    }

    long emfileCount() {
        return emfileCount;
    }

    private void handleRead() {
        for (int i = 0; i < MAX_ACCEPTS_PER_EVENT; i++) {
            SocketChannel s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (isOutOfDescriptors(e)) {
                    handleOutOfDescriptors();
                } else if (server.isOpen()) {
                    LOG.log(System.Logger.Level.WARNING, "accept failed", e);
                }
                return;
            }
            if (s == null) {
                return;
            }
            try {
                s.configureBlocking(false);
            } catch (IOException e) {
                closeQuietly(s);
                continue;
            }
            handler.onNewConnection(s);
        }
    }

    static boolean isOutOfDescriptors(IOException e) {
        String m = e.getMessage();
        return m != null && (m.contains("Too many open files") || m.contains("too many open files"));
    }

    private void handleOutOfDescriptors() {
        emfileCount++;
        if (reserve != null) {
            closeQuietly(reserve);
            reserve = null;
            try {
                SocketChannel s = server.accept();
                if (s != null) {
                    closeQuietly(s); // refused politely: the peer sees the close, not a hang
                }
            } catch (IOException e) {
                // still exhausted; fall through to the pause
            }
            reserve = openReserve();
            if (reserve != null) {
                return;
            }
        }
        // No reserve: stop polling the listener for a while instead of spinning on it.
        channel.disableReading();
        loop.runAfter(PAUSE_MS, TimeUnit.MILLISECONDS, resume);
    }

    private void resume() {
        if (!listening || !server.isOpen()) {
            return;
        }
        if (reserve == null) {
            reserve = openReserve();
        }
        channel.enableReading();
    }

    private static FileChannel openReserve() {
        try {
            return FileChannel.open(DEV_NULL, StandardOpenOption.READ);
        } catch (IOException e) {
            return null;
        }
    }

    /** Stops accepting and closes the listening socket (releases the port). Loop thread. */
    void close() {
        loop.assertInLoopThread();
        listening = false;
        channel.remove();
        closeQuietly(server);
        if (reserve != null) {
            closeQuietly(reserve);
            reserve = null;
        }
    }

    /** Closes without the loop (the loop never ran or has ended). */
    void closeOffLoop() {
        listening = false;
        closeQuietly(server);
        if (reserve != null) {
            closeQuietly(reserve);
            reserve = null;
        }
    }

    static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing useful to do about a failing close
        }
    }
}
