package io.muduo4j.examples;

import io.muduo4j.net.EventLoop;
import io.muduo4j.net.EventLoopOptions;
import io.muduo4j.net.LoopMetrics;
import io.muduo4j.net.TcpServer;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * An echo server that shows its loops' metrics live and reports stalls: every {@code --report-seconds}
 * a line with the last period's rates (utilization, tasks, bytes and reads in, bytes out) and the
 * open connections, read with {@link TcpServer#metrics(LoopMetrics)} into two reused snapshots;
 * with {@code --stall-ms}, an iteration that holds a loop longer is logged with its stack (the
 * message {@code stall} held for twice that long by the server shows one).
 */
public final class MetricsEchoServer implements Examples.Server {
    private static final byte[] STALL = "stall".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final EventLoop loop;
    private final TcpServer server;
    private final long stallMs;
    private LoopMetrics last = new LoopMetrics();
    private LoopMetrics now = new LoopMetrics();
    private long lastAt;
    private volatile long reportTimer;

    /**
     * An echo server on {@code loop} with {@code ioThreads} I/O loops; call {@link #start()}.
     *
     * @param loop      the loop that accepts (and does the I/O with 0 I/O threads)
     * @param listen    the address to listen on
     * @param ioThreads I/O loops
     * @param stallMs   the I/O loops' stall threshold, 0 for none
     */
    public MetricsEchoServer(EventLoop loop, InetSocketAddress listen, int ioThreads, long stallMs) {
        this.loop = loop;
        this.stallMs = stallMs;
        this.server = new TcpServer(loop, listen, "metrics-echo");
        server.setThreadNum(ioThreads);
        if (stallMs > 0) {
            server.setLoopOptions(new EventLoopOptions().stallThreshold(stallMs, TimeUnit.MILLISECONDS));
        }
        server.setMessageCallback((conn, buf, time) -> {
            if (stallMs > 0 && buf.readableBytes() == STALL.length && startsWithStall(buf.readableView())) {
                sleepQuietly(2 * stallMs); // on purpose: what the stall detector is for
            }
            conn.send(buf);
        });
    }

    private static boolean startsWithStall(java.nio.ByteBuffer v) {
        for (int i = 0; i < STALL.length; i++) {
            if (v.get(v.position() + i) != STALL[i]) {
                return false;
            }
        }
        return true;
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts listening. */
    public void start() {
        server.start();
        server.metrics(last);
        lastAt = System.nanoTime();
    }

    /**
     * The line for the period since the last call (or since {@link #start()}). One thread.
     *
     * @return the report line
     */
    public String report() {
        long at = System.nanoTime();
        server.metrics(now);
        double s = (at - lastAt) / 1e9;
        LoopMetrics a = last;
        LoopMetrics b = now;
        double busy = b.busyNanos() - a.busyNanos();
        double elapsed = b.elapsedNanos() - a.elapsedNanos();
        String line = String.format(Locale.ROOT,
                "%d loops: utilization %.1f%%, %.0f tasks/s, in %.3f MiB/s in %.0f reads/s, out %.3f MiB/s;"
                        + " %d connections open (%d accepted, %d closed in all); %d stalls",
                b.loops(), elapsed > 0 ? 100 * busy / elapsed : 0.0, (b.tasks() - a.tasks()) / s,
                (b.bytesIn() - a.bytesIn()) / s / (1 << 20), (b.reads() - a.reads()) / s,
                (b.bytesOut() - a.bytesOut()) / s / (1 << 20), b.connectionsOpen(), b.accepted(),
                b.connectionsClosed(), b.stalls());
        last = b;
        now = a;
        lastAt = at;
        return line;
    }

    /**
     * Prints {@link #report()} every {@code seconds} on standard output (from the accepting loop).
     *
     * @param seconds the report period
     */
    public void reportEvery(long seconds) {
        reportTimer = loop.runEvery(seconds, TimeUnit.SECONDS, () -> System.out.println(report()));
    }

    /** @return the server's loops' metrics, into {@code into} */
    LoopMetrics metrics(LoopMetrics into) {
        return server.metrics(into);
    }

    /** @return the stall threshold, 0 for none */
    long stallMs() {
        return stallMs;
    }

    @Override
    public InetSocketAddress listenAddress() {
        return server.listenAddress();
    }

    @Override
    public void close() {
        if (reportTimer != 0) {
            loop.cancel(reportTimer);
        }
        server.close();
    }

    /** {@code MetricsEchoServer --port P [--threads N] [--report-seconds S] [--stall-ms MS]}. */
    @Command(name = "MetricsEchoServer", mixinStandardHelpOptions = true,
            description = "Echo server that prints its loops' metrics every S seconds and logs stalls.")
    static final class Main implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Examples.ServerOptions server;
        @Option(names = "--threads", defaultValue = "1", paramLabel = "N",
                description = "I/O loops (0 = the accepting loop does the I/O). Default: ${DEFAULT-VALUE}.")
        int threads;
        @Option(names = "--report-seconds", defaultValue = "1", paramLabel = "S",
                description = "Print the metrics every S seconds (0 = never). Default: ${DEFAULT-VALUE}.")
        long reportSeconds;
        @Option(names = "--stall-ms", defaultValue = "100", paramLabel = "MS",
                description = "Log an iteration that holds an I/O loop longer than MS ms, with its stack (0 = no"
                        + " detection); the message 'stall' makes the server hold its loop for 2 x MS."
                        + " Default: ${DEFAULT-VALUE}.")
        long stallMs;

        @Override
        public Integer call() throws Exception {
            InetSocketAddress bind = server.address(spec);
            Examples.require(spec, threads >= 0 && threads <= 256, "--threads must be 0..256");
            Examples.require(spec, reportSeconds >= 0, "--report-seconds must be >= 0");
            Examples.require(spec, stallMs == 0 || stallMs >= 1, "--stall-ms must be 0 or >= 1");
            EventLoopOptions base = new EventLoopOptions();
            if (stallMs > 0) {
                base.stallThreshold(stallMs, TimeUnit.MILLISECONDS);
            }
            return Examples.serveUntilKilled("metrics-echo", base, loop -> {
                MetricsEchoServer s = new MetricsEchoServer(loop, bind, threads, stallMs);
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
