package io.muduo4j.examples;

import io.muduo4j.net.EventLoop;
import io.muduo4j.net.TcpServer;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The discard service (RFC 863; muduo's {@code examples/simple/discard}): reads everything and
 * throws it away. Counts what it received and, with {@code --report-seconds}, prints the rate.
 */
public final class DiscardServer implements Examples.Server {
    private final EventLoop loop;
    private final TcpServer server;
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private volatile long reportTimer;

    /**
     * A discard server on {@code loop}; call {@link #start()}.
     *
     * @param loop the loop that accepts and reads
     * @param listen the address to listen on
     */
    public DiscardServer(EventLoop loop, InetSocketAddress listen) {
        this.loop = loop;
        this.server = new TcpServer(loop, listen, "discard");
        server.setMessageCallback((conn, buf, time) -> {
            bytes.addAndGet(buf.readableBytes());
            reads.incrementAndGet();
            buf.retrieveAll();
        });
    }

    /** Starts listening. */
    public void start() {
        server.start();
    }

    /**
     * Prints the received rate every {@code seconds} on standard output.
     *
     * @param seconds the report period
     */
    public void reportEvery(long seconds) {
        long[] last = {System.nanoTime(), 0};
        reportTimer = loop.runEvery(seconds, TimeUnit.SECONDS, () -> {
            long now = System.nanoTime();
            long total = bytes.get();
            double mib = (total - last[1]) / (1024.0 * 1024.0);
            System.out.printf("%.3f MiB/s, %d bytes in %d reads so far%n", mib * 1e9 / (now - last[0]), total, reads.get());
            last[0] = now;
            last[1] = total;
        });
    }

    /** @return bytes received and discarded so far, over all connections */
    public long receivedBytes() {
        return bytes.get();
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
        if (reportTimer != 0) {
            loop.cancel(reportTimer);
        }
        server.close();
    }

    /** {@code DiscardServer --port P [--report-seconds S]}. */
    @Command(name = "DiscardServer", mixinStandardHelpOptions = true,
            description = "Discard server (RFC 863): reads and drops everything.")
    static final class Main implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Examples.ServerOptions server;
        @Option(names = "--report-seconds", defaultValue = "0", paramLabel = "S",
                description = "Print the received rate every S seconds (0 = never). Default: ${DEFAULT-VALUE}.")
        long reportSeconds;

        @Override
        public Integer call() throws Exception {
            InetSocketAddress bind = server.address(spec);
            Examples.require(spec, reportSeconds >= 0, "--report-seconds must be >= 0");
            return Examples.serveUntilKilled("discard", loop -> {
                DiscardServer s = new DiscardServer(loop, bind);
                s.start();
                if (reportSeconds > 0) {
                    s.reportEvery(reportSeconds);
                }
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
