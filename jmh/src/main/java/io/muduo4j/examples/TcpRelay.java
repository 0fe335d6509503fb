package io.muduo4j.examples;

import io.muduo4j.net.EventLoop;
import io.muduo4j.net.HighWaterMarkCallback;
import io.muduo4j.net.TcpClient;
import io.muduo4j.net.TcpConnection;
import io.muduo4j.net.TcpServer;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A TCP relay (tunnel) to one fixed backend: muduo's {@code examples/socks4a} tunnel without the
 * SOCKS handshake. Each accepted connection gets its own connection to the backend, on the same
 * loop, and bytes are copied both ways.
 *
 * <p>Memory stays bounded whatever the speeds: each side is the other's <em>upstream</em>
 * ({@link TcpConnection#setUpstream}), so when the client reads slowly the relay stops reading the
 * backend, and when the backend reads slowly it stops reading the client. TCP then slows the
 * fast side down. A relayed connection holds at most about the high-water mark (64 KiB) plus one
 * read per direction. Until the backend is connected the client is not read at all.
 *
 * <p>Closing follows the bytes. Half-closure is relayed: a FIN from one side becomes a
 * {@code shutdown()} of the other (its FIN goes out after every byte relayed before it), and the
 * other direction keeps flowing until it ends the same way. A side that goes down (reset, error)
 * makes the relay reset its partner (the stream was cut: the partner must not take a truncated
 * stream for a complete one, nor be held until it reads what is queued for it). A backend that
 * cannot be reached closes the client.
 */
public final class TcpRelay implements Examples.Server {
    /** The default high-water mark (64 KiB): above it a side stops reading its partner. */
    static final long HIGH_WATER_MARK = 64 * 1024;

    private final TcpServer server;
    private final InetSocketAddress backend;
    private final AtomicInteger tunnels = new AtomicInteger();
    private final AtomicLong maxQueued = new AtomicLong();
    private final AtomicLong relayed = new AtomicLong();
    private final AtomicLong pauses = new AtomicLong();
    private final HighWaterMarkCallback countPause = (conn, queued) -> pauses.incrementAndGet();

    /**
     * A relay from {@code listen} to {@code backend}; call {@link #start()}.
     *
     * @param loop the loop that accepts
     * @param listen the address to listen on
     * @param backend where every connection is relayed to
     * @param ioThreads I/O loops (0 = all on {@code loop})
     */
    public TcpRelay(EventLoop loop, InetSocketAddress listen, InetSocketAddress backend, int ioThreads) {
        this.backend = backend;
        this.server = new TcpServer(loop, listen, "relay");
        server.setThreadNum(ioThreads);
        server.setConnectionCallback(this::onClientConnection);
        server.setHighWaterMarkCallback(countPause, HIGH_WATER_MARK);
        server.setAllowHalfClosure(true, in -> {
            TcpConnection out = ((TcpClient) in.context()).connection();
            if (out != null) {
                out.shutdown(); // the client's FIN, relayed after what came before it
            }
        });
        server.setMessageCallback((in, buf, time) -> {
            TcpConnection out = ((TcpClient) in.context()).connection();
            if (out != null && out.connected()) {
                forward(buf.readableBytes(), out.send(buf), out);
            } // else the bytes wait in the input buffer until the backend is up
        });
    }

    private void onClientConnection(TcpConnection in) {
        if (!in.connected()) {
            tunnels.decrementAndGet();
            TcpClient out = (TcpClient) in.context();
            TcpConnection o = out.connection();
            if (o == null) {
                out.close();      // still connecting: give up
            } else if (in.closeCause() != null) {
                o.abort();        // the client's stream was cut (reset, error): cut the backend's too
            } else {
                out.disconnect(); // FIN to the backend once the relayed bytes are written
            }
            return;
        }
        tunnels.incrementAndGet();
        in.stopRead(); // nothing to relay to yet
        TcpClient out = new TcpClient(in.loop(), backend, "relay-backend");
        in.setContext(out);
        out.setMaxAttempts(1);
        out.setHighWaterMarkCallback(countPause, HIGH_WATER_MARK);
        out.setAllowHalfClosure(true, o -> in.shutdown()); // the backend's FIN, relayed likewise
        out.setConnectFailedCallback((cause, attempt, nextDelayMs) -> {
            System.err.println("relay: backend " + backend + " unreachable (" + cause + "): closing " + in.name());
            in.forceClose();
        });
        out.setConnectionCallback(o -> {
            if (o.connected()) {
                if (!in.connected()) {
                    o.shutdown(); // the client left while we connected
                    return;
                }
                o.setUpstream(in); // the backend reads slowly: stop reading the client
                in.setUpstream(o); // the client reads slowly: stop reading the backend
                if (in.inputBuffer().readableBytes() > 0) {
                    forward(in.inputBuffer().readableBytes(), o.send(in.inputBuffer()), o);
                }
                if (in.isPeerShutdown()) {
                    o.shutdown(); // the client's FIN came before the backend was up
                }
                in.startRead();
            } else {
                if (o.closeCause() != null) {
                    in.abort();    // the backend's stream was cut: cut the client's too
                } else {
                    in.shutdown(); // the backend is done: FIN to the client after the relayed bytes
                }
                out.close();
            }
        });
        out.setMessageCallback((o, buf, time) -> forward(buf.readableBytes(), in.send(buf), in));
        out.connect();
    }

    /** Accounting after a send: bytes relayed, and the largest output queue seen. */
    private void forward(int bytes, boolean accepted, TcpConnection to) {
        if (accepted) {
            relayed.addAndGet(bytes);
        }
        long q = to.queuedBytes();
        long m;
        while (q > (m = maxQueued.get()) && !maxQueued.compareAndSet(m, q)) {
            // retry
        }
    }

    /** Starts listening. */
    public void start() {
        server.start();
    }

    /** @return how often a relay connection crossed the high-water mark, pausing its partner's reading */
    public long pauseCount() {
        return pauses.get();
    }

    /** @return relayed connections open now */
    public int tunnelCount() {
        return tunnels.get();
    }

    /** @return the most bytes any relay connection had queued right after a send */
    public long maxQueuedBytes() {
        return maxQueued.get();
    }

    /** @return bytes relayed so far, both directions */
    public long relayedBytes() {
        return relayed.get();
    }

    @Override
    public InetSocketAddress listenAddress() {
        return server.listenAddress();
    }

    @Override
    public void close() {
        server.close();
    }

    /** {@code TcpRelay --port P --backend-host H --backend-port Q}. */
    @Command(name = "TcpRelay", mixinStandardHelpOptions = true,
            description = "TCP relay: forwards every connection to one backend, with back-pressure both ways.")
    static final class Main implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Examples.ServerOptions server;
        @Option(names = "--backend-host", defaultValue = "127.0.0.1", paramLabel = "H",
                description = "Backend host. Default: ${DEFAULT-VALUE}.")
        String backendHost;
        @Option(names = "--backend-port", required = true, paramLabel = "Q", description = "Backend port.")
        int backendPort;
        @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
                description = "I/O loops besides the acceptor (0 = one loop does all). Default: ${DEFAULT-VALUE}.")
        int threads;

        @Override
        public Integer call() throws Exception {
            InetSocketAddress bind = server.address(spec);
            Examples.require(spec, backendPort > 0 && backendPort <= 65535, "--backend-port must be 1..65535");
            Examples.require(spec, threads >= 0 && threads <= 256, "--threads must be 0..256");
            InetSocketAddress to = Examples.resolve(spec, backendHost, backendPort);
            return Examples.serveUntilKilled("relay", loop -> {
                TcpRelay r = new TcpRelay(loop, bind, to, threads);
                r.start();
                return r;
            });
        }
    }

    /**
     * Runs the relay until killed.
     *
     * @param args {@code --port P --backend-port Q}, see {@code --help}
     */
    public static void main(String[] args) {
        Examples.run(new Main(), args);
    }
}
