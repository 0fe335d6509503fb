package io.muduo4j.examples;

import io.muduo4j.net.EventLoop;
import io.muduo4j.net.TcpConnection;
import io.muduo4j.net.TcpServer;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * muduo's {@code examples/idleconnection/echo}: an echo server that closes connections which sent
 * nothing for {@code idle} milliseconds, using one {@link TimingWheel} per I/O loop (a single
 * repeating timer each) instead of a timer per connection.
 *
 * <p>An idle connection is force-closed: the point is to reclaim its resources, so output it did
 * not read is dropped (muduo calls {@code shutdown()}, which would wait for a peer that may never
 * close its side).
 */
public final class IdleEchoServer implements Examples.Server {
    private final TcpServer server;
    private final long idleMillis;
    private final int ticks;
    private final Map<EventLoop, TimingWheel> wheels = new ConcurrentHashMap<>();
    private final AtomicLong kicked = new AtomicLong();

    /**
     * An idle-kicking echo server on {@code loop}; call {@link #start()}.
     *
     * @param loop the loop that accepts
     * @param listen the address to listen on
     * @param ioThreads I/O loops (0 = all on {@code loop})
     * @param idleMillis how long a connection may stay silent
     * @param ticks wheel resolution: a connection is closed at most {@code idleMillis / ticks} late
     */
    public IdleEchoServer(EventLoop loop, InetSocketAddress listen, int ioThreads, long idleMillis, int ticks) {
        this.idleMillis = idleMillis;
        this.ticks = ticks;
        this.server = new TcpServer(loop, listen, "idle-echo");
        server.setThreadNum(ioThreads);
        server.setConnectionCallback(conn -> {
            TimingWheel wheel = wheels.computeIfAbsent(conn.loop(), this::newWheel); // on conn.loop()
            if (conn.connected()) {
                conn.setContext(wheel.add(conn));
            } else {
                wheel.remove((TimingWheel.Entry) conn.context());
            }
        });
        server.setMessageCallback((conn, buf, time) -> {
            wheels.get(conn.loop()).touch((TimingWheel.Entry) conn.context());
            conn.send(buf);
        });
    }

    private TimingWheel newWheel(EventLoop loop) {
        return new TimingWheel(loop, idleMillis, ticks, this::kick);
    }

    private void kick(TcpConnection conn) {
        kicked.incrementAndGet();
        System.out.println("idle-echo: closing " + conn.name() + " from " + conn.peerAddress()
                + ": idle for more than " + idleMillis + " ms");
        conn.forceClose();
    }

    /** Starts listening. */
    public void start() {
        server.start();
    }

    /** @return connections closed for being idle so far */
    public long kickedCount() {
        return kicked.get();
    }

    /** @return connections open now */
    public int connectionCount() {
        return server.connectionCount();
    }

    @Override
    public InetSocketAddress listenAddress() {
        return server.listenAddress();
    }

    @Override
    public void close() {
        wheels.values().forEach(TimingWheel::close); // while the loops still run
        server.close();
    }

    /** {@code IdleEchoServer --port P [--idle-seconds N]}. */
    @Command(name = "IdleEchoServer", mixinStandardHelpOptions = true,
            description = "Echo server that closes connections idle for N seconds (a timing wheel, no timer per connection).")
    static final class Main implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Examples.ServerOptions server;
        @Option(names = "--idle-seconds", defaultValue = "8", paramLabel = "N",
                description = "Close a connection that sent nothing for N seconds (1 s resolution). Default: ${DEFAULT-VALUE}.")
        int idleSeconds;
        @Option(names = "--threads", defaultValue = "0", paramLabel = "T",
                description = "I/O loops besides the acceptor, one wheel each (0 = one loop does all). Default: ${DEFAULT-VALUE}.")
        int threads;

        @Override
        public Integer call() throws Exception {
            InetSocketAddress bind = server.address(spec);
            Examples.require(spec, idleSeconds >= 1, "--idle-seconds must be >= 1");
            Examples.require(spec, threads >= 0 && threads <= 256, "--threads must be 0..256");
            return Examples.serveUntilKilled("idle-echo", loop -> {
                IdleEchoServer s = new IdleEchoServer(loop, bind, threads, idleSeconds * 1000L, idleSeconds);
                s.start();
                return s;
            });
        }
    }

    /**
     * Runs the server until killed.
     *
     * @param args {@code --port P}, see {@code --help}
     */
    public static void main(String[] args) {
        Examples.run(new Main(), args);
    }
}
