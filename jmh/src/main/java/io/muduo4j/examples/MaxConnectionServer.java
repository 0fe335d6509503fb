package io.muduo4j.examples;

import io.muduo4j.net.EventLoop;
import io.muduo4j.net.TcpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * muduo's {@code examples/maxconnection}: an echo server that serves at most {@code max}
 * connections at once. A connection past the limit is turned away politely and at once: it gets a
 * one-line notice, then {@code shutdown()} (the FIN follows the notice); if the peer does not
 * close its side within 2 s the connection is force-closed. Turned-away connections are not echoed
 * and do not count against the limit.
 */
public final class MaxConnectionServer implements Examples.Server {
    private static final Object REJECTED = new Object();

    private final TcpServer server;
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicLong rejected = new AtomicLong();

    /**
     * A limited echo server on {@code loop}; call {@link #start()}.
     *
     * @param loop the loop that accepts
     * @param listen the address to listen on
     * @param ioThreads I/O loops (0 = all on {@code loop})
     * @param max the most connections served at once
     */
    public MaxConnectionServer(EventLoop loop, InetSocketAddress listen, int ioThreads, int max) {
        this.server = new TcpServer(loop, listen, "max-connection");
        server.setThreadNum(ioThreads);
        byte[] notice = ("too many connections: this server serves " + max + " at once; try again later\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        server.setConnectionCallback(conn -> {
            if (conn.connected()) {
                if (served.incrementAndGet() > max) {
                    served.decrementAndGet();
                    rejected.incrementAndGet();
                    conn.setContext(REJECTED);
                    conn.send(notice);
                    conn.shutdown();
                    conn.forceCloseWithDelay(2, TimeUnit.SECONDS);
                }
            } else if (conn.context() != REJECTED) {
                served.decrementAndGet();
            }
        });
        server.setMessageCallback((conn, buf, time) -> {
            if (conn.context() == REJECTED) {
                buf.retrieveAll();
            } else {
                conn.send(buf);
            }
        });
    }

    /** Starts listening. */
    public void start() {
        server.start();
    }

    /** @return connections being served now (turned-away ones not counted) */
    public int servedCount() {
        return served.get();
    }

    /** @return connections turned away so far */
    public long rejectedCount() {
        return rejected.get();
    }

    /** @return connections open now, turned-away ones still closing included */
    public int connectionCount() {
        return server.connectionCount();
    }

    @Override
    public InetSocketAddress listenAddress() {
        return server.listenAddress();
    }

    @Override
    public void close() {
        server.close();
    }

    /** {@code MaxConnectionServer --port P --max N}. */
    @Command(name = "MaxConnectionServer", mixinStandardHelpOptions = true,
            description = "Echo server serving at most N connections; more are sent a notice and closed at once.")
    static final class Main implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Examples.ServerOptions server;
        @Option(names = "--max", defaultValue = "100", paramLabel = "N",
                description = "Most connections served at once. Default: ${DEFAULT-VALUE}.")
        int max;
        @Option(names = "--threads", defaultValue = "0", paramLabel = "T",
                description = "I/O loops besides the acceptor (0 = one loop does all). Default: ${DEFAULT-VALUE}.")
        int threads;

        @Override
        public Integer call() throws Exception {
            InetSocketAddress bind = server.address(spec);
            Examples.require(spec, max >= 0, "--max must be >= 0");
            Examples.require(spec, threads >= 0 && threads <= 256, "--threads must be 0..256");
            return Examples.serveUntilKilled("max-connection", loop -> {
                MaxConnectionServer s = new MaxConnectionServer(loop, bind, threads, max);
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
