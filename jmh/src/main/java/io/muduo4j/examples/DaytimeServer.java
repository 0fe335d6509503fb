package io.muduo4j.examples;

import io.muduo4j.net.EventLoop;
import io.muduo4j.net.TcpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The daytime service (RFC 867; muduo's {@code examples/simple/daytime}): sends the date and time
 * as one line ({@code 2026-01-01T12:00:00.123Z}, ISO-8601), then closes. The close is a
 * {@code shutdown()}: the FIN goes out after the line, and the connection ends when the peer
 * closes (or 5 s later at the latest).
 */
public final class DaytimeServer implements Examples.Server {
    private final TcpServer server;

    /**
     * A daytime server on {@code loop}; call {@link #start()}.
     *
     * @param loop the loop that accepts and writes
     * @param listen the address to listen on
     * @param clock the time to tell (UTC clock in {@code main})
     */
    public DaytimeServer(EventLoop loop, InetSocketAddress listen, Clock clock) {
        this.server = new TcpServer(loop, listen, "daytime");
        server.setConnectionCallback(conn -> {
            if (conn.connected()) {
                String now = OffsetDateTime.now(clock).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
                conn.send((now + "\r\n").getBytes(StandardCharsets.US_ASCII));
                conn.shutdown();
                conn.forceCloseWithDelay(5, TimeUnit.SECONDS); // a peer that never closes its side
            }
        });
        server.setMessageCallback((conn, buf, time) -> buf.retrieveAll());
    }

    /** Starts listening. */
    public void start() {
        server.start();
    }

    @Override
    public InetSocketAddress listenAddress() {
        return server.listenAddress();
    }

    /** @return connections open now */
    public int connectionCount() {
        return server.connectionCount();
    }

    @Override
    public void close() {
        server.close();
    }

    /** {@code DaytimeServer --port P}. */
    @Command(name = "DaytimeServer", mixinStandardHelpOptions = true,
            description = "Daytime server (RFC 867): sends the UTC date and time as one line, then closes.")
    static final class Main implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Examples.ServerOptions server;

        @Override
        public Integer call() throws Exception {
            InetSocketAddress bind = server.address(spec);
            return Examples.serveUntilKilled("daytime", loop -> {
                DaytimeServer s = new DaytimeServer(loop, bind, Clock.systemUTC());
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
