package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Self-connect: a connect to a free local port in the ephemeral range can be given that very port
 * as its local port, and TCP's simultaneous open then "connects" the socket to itself. The
 * connector must detect it (local address equals peer address), report a {@link ConnectException}
 * saying "self-connect" and retry; no connection to itself may ever reach the application.
 *
 * <p>muduo's test connects in a loop until it happens. Linux picks the local port of a connect by
 * walking the range from a per-destination offset in small random even steps, so a blind loop needs
 * ~14,000 attempts; instead, a probe (the candidate port listens for an instant, a raw connect
 * reads the local port it is given) shows where the walk is for a candidate port, and the client
 * is run only against a candidate a few steps ahead of the walk. Bounded in rounds and
 * time; if the kernel never produced a self-connect the test is aborted (assumption), not passed.
 */
@Timeout(60)
class SelfConnectTest {
    private static final int ROUNDS = 300;
    private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(20);
    private static final int WINDOW = 64;
    private static final int ATTEMPTS_PER_ROUND = 24;

    private static int[] ephemeralRange() throws IOException {
        String line;
        try (java.io.BufferedReader r = Files.newBufferedReader(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
            line = r.readLine();
        }
        String[] p = line.trim().split("\\s+");
        return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])};
    }

    /**
     * The local port a connect to {@code port} is given now, or -1 when the port is taken. The
     * port listens only for the probe; both ends are reset (SO_LINGER 0) so no TIME_WAIT keeps
     * the port's bind bucket, which would make connect() skip it.
     */
    private static int probe(int port) throws IOException {
        InetSocketAddress addr = new InetSocketAddress("127.0.0.1", port);
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            try {
                listener.bind(addr, 1);
            } catch (IOException e) {
                return -1;
            }
            try (SocketChannel c = SocketChannel.open(addr); SocketChannel a = listener.accept()) {
                c.setOption(StandardSocketOptions.SO_LINGER, 0);
                a.setOption(StandardSocketOptions.SO_LINGER, 0);
                return ((InetSocketAddress) c.getLocalAddress()).getPort();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void selfConnectIsDetectedAndNeverReported(EventLoop.WaitMode mode) throws Exception {
        int[] range = ephemeralRange();
        int low = range[0];
        int size = range[1] - range[0] + 1;
        List<TcpConnection> reported = new CopyOnWriteArrayList<>();
        List<Throwable> selfConnects = new CopyOnWriteArrayList<>();
        long deadline = System.nanoTime() + BUDGET_NANOS;
        int rounds = 0;
        int probes = 0;
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop loop = loops.start("self-client");
            while (selfConnects.isEmpty() && rounds < ROUNDS && System.nanoTime() - deadline < 0) {
                // A free candidate of the parity connect() uses, a little ahead of its walk.
                int target = low + (ThreadLocalRandom.current().nextInt(size) & ~1);
                probes++;
                int local = probe(target);
                if (local < 0) {
                    continue;
                }
                int ahead = Math.floorMod(target - local, size);
                if (ahead == 0 || ahead > WINDOW) {
                    continue;
                }
                rounds++;
                CompletableFuture<Void> over = new CompletableFuture<>();
                TcpClient client = new TcpClient(loop, new InetSocketAddress("127.0.0.1", target), "self-" + target);
                client.setRetryDelays(1, 1);
                client.setMaxAttempts(ATTEMPTS_PER_ROUND);
                client.setConnectionCallback(c -> {
                    if (c.connected()) {
                        reported.add(c);
                        over.complete(null);
                    }
                });
                client.setConnectFailedCallback((cause, attempt, next) -> {
                    if (cause.getMessage() != null && cause.getMessage().contains("self-connect")) {
                        selfConnects.add(cause);
                    }
                    if (next < 0) {
                        over.complete(null);
                    }
                });
                client.connect();
                get(over, "round " + rounds + " against port " + target);
                get(client.close(), "client close");
            }
        }
        for (TcpConnection c : reported) {
            assertTrue(!c.localAddress().equals(c.peerAddress()), "a self-connection reached the application: " + c);
        }
        System.out.printf("SelfConnectTest %s: %d self-connects in %d rounds, %d probes%n", mode, selfConnects.size(), rounds, probes);
        assumeTrue(!selfConnects.isEmpty(), "no self-connect provoked in " + rounds + " rounds (" + probes + " probes)");
        for (Throwable t : selfConnects) {
            assertInstanceOf(ConnectException.class, t);
        }
    }
}
