package io.muduo4j.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SelectStrategy;
import io.netty.channel.SelectStrategyFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Netty 4.2 with the NIO ({@link NioIoHandler}), native epoll ({@link EpollIoHandler}) or native
 * io_uring ({@link IoUringIoHandler}) transport, used the way its documentation and examples do:
 * {@code MultiThreadIoEventLoopGroup}, the default (adaptive, pooled) allocator, {@code ctx.write} +
 * {@code flush} on read-complete for the echo, {@code voidPromise()} writes on the hot paths.
 *
 * <p>{@link Transport#EPOLL_BUSY} is epoll whose <em>client</em> loops busy-poll, the like-for-like
 * partner of muduo4j's spinning client loop; its server loop blocks, as muduo4j's does.
 */
final class NettyPeer implements Peer {
    enum Transport { NIO, EPOLL, EPOLL_BUSY, IO_URING }

    /**
     * A select strategy that never blocks: every pass of the loop does a non-blocking
     * {@code epoll_wait} (the supplier), handles what is ready, runs the pending tasks, and polls
     * again. Netty's {@link SelectStrategy#BUSY_WAIT} is not used: in 4.2 {@code EpollIoHandler}
     * then loops inside the native {@code epollBusyWait} until an I/O event arrives and never looks
     * at its task queue, and its {@code wakeup()} writes the eventfd only after a blocking wait, so a
     * write submitted from the JMH thread (caller-thread round trip, connect) would not run until
     * some unrelated I/O event.
     */
    static final SelectStrategyFactory BUSY_POLL = () -> (selectNow, hasTasks) -> selectNow.get();

    private final Transport transport;

    NettyPeer(Transport transport) {
        this.transport = transport;
        if (transport == Transport.EPOLL || transport == Transport.EPOLL_BUSY) {
            Epoll.ensureAvailability();
        } else if (transport == Transport.IO_URING && !IoUring.isAvailable()) {
            throw new UnsupportedOperationException("Netty io_uring is not available here: "
                    + IoUring.unavailabilityCause(), IoUring.unavailabilityCause());
        }
    }

    /** Whether the io_uring transport can run on this kernel/JVM; {@link #ioUringUnavailability()} says why not. */
    static boolean ioUringAvailable() {
        return IoUring.isAvailable();
    }

    static Throwable ioUringUnavailability() {
        return IoUring.unavailabilityCause();
    }

    @Override
    public String name() {
        switch (transport) {
            case NIO:
                return "netty-nio";
            case EPOLL:
                return "netty-epoll";
            case EPOLL_BUSY:
                return "netty-epoll-busy";
            case IO_URING:
                return "netty-io-uring";
            default:
                throw new AssertionError(transport);
        }
    }

    /** @param client a client-side group: only there does EPOLL_BUSY busy-poll */
    private IoHandlerFactory factory(boolean client) {
        switch (transport) {
            case NIO:
                return NioIoHandler.newFactory();
            case EPOLL:
                return EpollIoHandler.newFactory();
            case EPOLL_BUSY:
                return client ? EpollIoHandler.newFactory(0, BUSY_POLL) : EpollIoHandler.newFactory();
            case IO_URING:
                return IoUringIoHandler.newFactory();
            default:
                throw new AssertionError(transport);
        }
    }

    private Class<? extends SocketChannel> channelClass() {
        switch (transport) {
            case NIO:
                return NioSocketChannel.class;
            case IO_URING:
                return IoUringSocketChannel.class;
            default:
                return EpollSocketChannel.class;
        }
    }

    private Class<? extends ServerChannel> serverChannelClass() {
        switch (transport) {
            case NIO:
                return NioServerSocketChannel.class;
            case IO_URING:
                return IoUringServerSocketChannel.class;
            default:
                return EpollServerSocketChannel.class;
        }
    }

    private EventLoopGroup group(int threads, String name) {
        return group(threads, name, true);
    }

    private EventLoopGroup group(int threads, String name, boolean client) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), factory(client));
    }

    private Bootstrap clientBootstrap(EventLoopGroup group, ChannelHandler handler) {
        return new Bootstrap().group(group).channel(channelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(handler);
    }

    private static void shutdown(EventLoopGroup g) {
        g.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static Channel connect(Bootstrap b, InetSocketAddress server) throws IOException {
        ChannelFuture f = b.connect(server).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new IOException("connect to " + server + " failed", f.cause());
        }
        return f.channel();
    }

    // ------------------------------------------------------------------ server

    /** Echoes every buffer back; flushes once per read burst; counts closed channels. Shared by a server's child channels. */
    @ChannelHandler.Sharable
    static final class EchoHandler extends ChannelInboundHandlerAdapter {
        final java.util.concurrent.atomic.AtomicLong closed = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed.incrementAndGet();
            ctx.fireChannelInactive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg, ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // typically "connection reset" from a client closing with SO_LINGER 0
        }
    }

    @Override
    public Server startServer(InetSocketAddress bind, int ioThreads) throws IOException {
        EventLoopGroup boss = group(1, name() + "-server", false);
        EventLoopGroup workers = ioThreads > 1 ? group(ioThreads, name() + "-server-io", false) : boss;
        Channel ch;
        EchoHandler echo = new EchoHandler();
        try {
            ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(serverChannelClass())
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(echo);
            ChannelFuture f = b.bind(bind).awaitUninterruptibly();
            if (!f.isSuccess()) {
                throw new IOException("bind " + bind + " failed: " + f.cause(), f.cause());
            }
            ch = f.channel();
        } catch (IOException | RuntimeException e) {
            shutdown(boss);
            if (workers != boss) {
                shutdown(workers);
            }
            throw e;
        }
        InetSocketAddress address = (InetSocketAddress) ch.localAddress();
        return new Server() {
            @Override
            public InetSocketAddress address() {
                return address;
            }

            @Override
            public long connectionsClosed() {
                return echo.closed.get();
            }

            @Override
            public void close() {
                ch.close().syncUninterruptibly();
                if (workers != boss) {
                    shutdown(workers);
                }
                shutdown(boss);
            }
        };
    }

    // ------------------------------------------------------------------ connect

    /**
     * {@link ConnectStart#CALLER}: {@code bootstrap.connect} from the caller thread, which spins
     * until {@code channelActive}. {@link ConnectStart#LOOP}: the first connect of a batch from a
     * task on the client loop, each next one from the previous channel's {@code channelActive},
     * timed on the loop. {@code echo1} (CALLER only): 1 byte written and its echo awaited before
     * the close.
     */
    @ChannelHandler.Sharable
    static final class ConnectProbeImpl extends ChannelInboundHandlerAdapter implements ConnectProbe {
        private static final byte[] ONE_BYTE = {'x'};
        private final EventLoopGroup group;
        private final Bootstrap bootstrap;
        private final InetSocketAddress server;
        private final ConnectStart start;
        private final boolean echo1;
        private volatile Channel active;
        private volatile long echoed;
        // LOOP mode, loop thread
        private int remaining;
        private Histogram hist;
        private long started;
        // LOOP mode, cross-thread
        private volatile long done;
        private volatile Throwable failure;
        private volatile Thread waiter;
        private final ChannelFutureListener onConnectDone = f -> {
            if (!f.isSuccess()) {
                failure = f.cause();
                wake();
            }
        };

        ConnectProbeImpl(NettyPeer peer, InetSocketAddress server, ConnectStart start, boolean echo1) {
            this.server = server;
            this.start = start;
            this.echo1 = echo1;
            this.group = peer.group(1, peer.name() + "-connect");
            Bootstrap b = peer.clientBootstrap(group, this).option(ChannelOption.SO_LINGER, 0);
            // Connect-only probes carry no data: no TCP_NODELAY of ours, as C's connect_bench (Netty's
            // channel config may still set it by default: that is Netty's own cost).
            this.bootstrap = echo1 ? b : b.option(ChannelOption.TCP_NODELAY, null);
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (start == ConnectStart.LOOP) {
                long now = System.nanoTime();
                if (hist != null) {
                    hist.recordValue(Math.min(now - started, PingPongSession.MAX_RTT_NANOS));
                }
                ctx.close(); // SO_LINGER 0: RST
                done = done + 1;
                if (--remaining > 0) {
                    startOnLoop();
                } else {
                    wake();
                }
                return;
            }
            active = ctx.channel();
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            int n = b.readableBytes();
            b.release();
            echoed = echoed + n;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        private void startOnLoop() {
            started = System.nanoTime();
            bootstrap.connect(server).addListener(onConnectDone);
        }

        private void wake() {
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }

        @Override
        public long connectOnce() throws IOException {
            long t0 = System.nanoTime();
            if (start == ConnectStart.LOOP) {
                connectBatch(1, null);
                return System.nanoTime() - t0;
            }
            active = null;
            long echoTarget = echoed + 1;
            ChannelFuture f = bootstrap.connect(server);
            long deadline = Waits.deadline();
            int spins = 0;
            Channel ch;
            while ((ch = active) == null) {
                if (f.isDone() && !f.isSuccess()) {
                    throw new IOException("connect to " + server + " failed", f.cause());
                }
                if ((++spins & 0xfff) == 0) {
                    Waits.check(deadline, "netty connect");
                }
                Thread.onSpinWait();
            }
            if (echo1) {
                ch.writeAndFlush(Unpooled.wrappedBuffer(ONE_BYTE), ch.voidPromise());
                while (echoed < echoTarget) {
                    if ((++spins & 0xfff) == 0) {
                        if (!ch.isActive()) {
                            throw new IOException("connection to " + server + " closed before the echo");
                        }
                        Waits.check(deadline, "netty 1-byte echo");
                    }
                    Thread.onSpinWait();
                }
            }
            long span = System.nanoTime() - t0;
            ch.close(); // SO_LINGER 0: RST, asynchronous (close does not accept the void promise)
            return span;
        }

        @Override
        public void connectBatch(int n, Histogram h) throws IOException {
            if (start != ConnectStart.LOOP) {
                throw new UnsupportedOperationException("this probe starts connects from the caller thread");
            }
            if (n <= 0) {
                return;
            }
            long target = done + n;
            waiter = Thread.currentThread();
            group.next().execute(() -> {
                hist = h;
                remaining = n;
                startOnLoop();
            });
            long seen = done;
            long deadline = Waits.deadline();
            while (done < target) {
                Throwable f = failure;
                if (f != null) {
                    failure = null;
                    throw new IOException("connect to " + server + " failed", f);
                }
                long d = done;
                if (d != seen) { // progress: the deadline applies to each connect, not the batch
                    seen = d;
                    deadline = Waits.deadline();
                }
                Waits.check(deadline, "netty connect on the loop");
                LockSupport.parkNanos(this, 1_000_000L);
            }
            waiter = null;
        }

        @Override
        public void close() {
            shutdown(group);
        }
    }

    @Override
    public boolean supportsLoopConnect() {
        return true;
    }

    @Override
    public ConnectProbe connectProbe(InetSocketAddress server, ConnectStart start, boolean echo1) {
        if (start == ConnectStart.LOOP && echo1) {
            throw new UnsupportedOperationException("the 1-byte echo probe starts connects from the caller thread only");
        }
        if (start == ConnectStart.CLASSIC) {
            throw new UnsupportedOperationException("CLASSIC is muduo4j's TcpClient.connect(); Netty has CALLER and LOOP");
        }
        return new ConnectProbeImpl(this, server, start, echo1);
    }

    // ------------------------------------------------------------------ round trip

    static final class RoundTripImpl extends ChannelInboundHandlerAdapter implements RoundTrip {
        private final EventLoopGroup group;
        private final byte[] payload;
        private final int size;
        private final Runnable startBatch = this::startBatch;
        private Channel channel;
        private ChannelHandlerContext ctx;
        // loop thread
        private int got;
        private int remaining;
        // cross-thread
        private volatile long completed;
        private volatile int batchSize;
        private volatile Thread waiter;
        private volatile boolean closed;

        RoundTripImpl(NettyPeer peer, InetSocketAddress server, int size) throws IOException {
            this.size = size;
            this.payload = new byte[size];
            Arrays.fill(payload, (byte) 'x');
            this.group = peer.group(1, peer.name() + "-roundtrip");
            try {
                channel = connect(peer.clientBootstrap(group, this), server);
            } catch (IOException | RuntimeException e) {
                shutdown(group);
                throw e;
            }
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        private void send() {
            ByteBuf b = ctx.alloc().buffer(size).writeBytes(payload);
            ctx.writeAndFlush(b, ctx.voidPromise());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            got += b.readableBytes();
            b.release();
            if (got >= size) {
                got -= size;
                if (remaining > 1) {
                    remaining--;
                    send();
                } else {
                    remaining = 0;
                    completed = completed + 1;
                    Thread w = waiter;
                    if (w != null) {
                        LockSupport.unpark(w);
                    }
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed = true;
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        @Override
        public void callerThread() {
            long target = completed + 1;
            channel.writeAndFlush(channel.alloc().buffer(size).writeBytes(payload), channel.voidPromise());
            long deadline = Waits.deadline();
            int spins = 0;
            while (completed < target) {
                if ((++spins & 0xfff) == 0) {
                    checkOpen();
                    Waits.check(deadline, "netty echo");
                }
                Thread.onSpinWait();
            }
        }

        private void checkOpen() {
            if (closed) {
                throw new IllegalStateException("connection closed");
            }
        }

        private void startBatch() {
            remaining = batchSize;
            send();
        }

        @Override
        public boolean supportsOnLoop() {
            return true;
        }

        @Override
        public void onLoop(int n) {
            long target = completed + 1;
            waiter = Thread.currentThread();
            batchSize = n;
            channel.eventLoop().execute(startBatch);
            long deadline = Waits.deadline();
            while (completed < target) {
                checkOpen();
                Waits.check(deadline, "netty batch");
                LockSupport.parkNanos(this, 1_000_000L);
            }
            waiter = null;
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
            shutdown(group);
        }
    }

    @Override
    public RoundTrip roundTrip(InetSocketAddress server, int size) throws IOException {
        return new RoundTripImpl(this, server, size);
    }

    // ------------------------------------------------------------------ ping-pong

    /** One session: sends a block when active, then echoes what it reads (muduo's pingpong client). */
    static final class PingPongHandler extends ChannelInboundHandlerAdapter {
        private final PingPongSession session;
        private final CountDownLatch connected;

        PingPongHandler(PingPongSession session, CountDownLatch connected) {
            this.session = session;
            this.connected = connected;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ByteBuf b = ctx.alloc().buffer(session.blockSize);
            b.writerIndex(session.blockSize); // content does not matter
            session.started();
            ctx.writeAndFlush(b, ctx.voidPromise());
            connected.countDown();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            session.onRead(((ByteBuf) msg).readableBytes());
            ctx.write(msg, ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    static final class PingPongImpl extends PingPongSession.Group {
        private final EventLoopGroup group;
        private final Channel[] channels;

        PingPongImpl(NettyPeer peer, InetSocketAddress server, int connections, int blockSize, int threads,
                     boolean recordRtt) throws IOException {
            super(connections, blockSize, recordRtt);
            group = peer.group(Math.max(1, threads), peer.name() + "-pingpong");
            channels = new Channel[connections];
            CountDownLatch up = new CountDownLatch(connections);
            try {
                for (int i = 0; i < connections; i++) {
                    channels[i] = connect(peer.clientBootstrap(group, new PingPongHandler(sessions[i], up)), server);
                }
                if (!up.await(10, TimeUnit.SECONDS)) {
                    throw new IOException("ping-pong sessions did not all start");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IOException("interrupted", e);
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }

        @Override
        public void close() {
            for (Channel c : channels) {
                if (c != null) {
                    c.close();
                }
            }
            shutdown(group);
        }
    }

    @Override
    public PingPong pingPong(InetSocketAddress server, int connections, int blockSize, int threads, boolean recordRtt)
            throws IOException {
        return new PingPongImpl(this, server, connections, blockSize, threads, recordRtt);
    }
}
