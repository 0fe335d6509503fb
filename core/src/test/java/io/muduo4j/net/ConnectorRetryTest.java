package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Connecting to a port nobody listens on: every refusal is reported through the
 * {@link ConnectFailedCallback} with its cause, the attempt number and the next delay, and the next
 * attempt comes after that delay, which doubles from the initial to the maximum delay, randomised
 * down by at most the jitter fraction. A listener that appears later is connected to.
 */
@Timeout(30)
class ConnectorRetryTest {
    private static final long INITIAL = 20;
    private static final long MAX = 200;
    private static final int FAILURES = 8;

    record Failure(Throwable cause, int attempt, long nextDelayMs, long atNanos) { }

    private static long base(int attempt) {
        return Math.min(INITIAL << (attempt - 1), MAX);
    }

    private static List<Failure> failures(EventLoop.WaitMode mode, double jitter, int maxAttempts, int count) throws Exception {
        List<Failure> failures = new CopyOnWriteArrayList<>();
        CountDownLatch enough = new CountDownLatch(count);
        InetSocketAddress refused = new InetSocketAddress("127.0.0.1", TcpTestSupport.freePort());
        List<TcpConnection> unexpected = new CopyOnWriteArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop loop = loops.start("retry-client");
            TcpClient client = new TcpClient(loop, refused, "retry");
            client.setRetryDelays(INITIAL, MAX);
            client.setRetryJitter(jitter);
            client.setMaxAttempts(maxAttempts);
            client.setConnectionCallback(unexpected::add);
            client.setConnectFailedCallback((cause, attempt, next) -> {
                failures.add(new Failure(cause, attempt, next, System.nanoTime()));
                enough.countDown();
            });
            client.connect();
            assertTrue(enough.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS), "only " + failures.size() + " failures reported");
            get(client.close(), "client close");
            assertTrue(unexpected.isEmpty(), "connected to a port with no listener: " + unexpected);
        }
        return List.copyOf(failures).subList(0, count);
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void refusedConnectsRetryAtGrowingJitteredDelays(EventLoop.WaitMode mode) throws Exception {
        double jitter = 0.5;
        List<Failure> f = failures(mode, jitter, 0, FAILURES);
        boolean jittered = false;
        for (int i = 0; i < f.size(); i++) {
            Failure x = f.get(i);
            assertInstanceOf(ConnectException.class, x.cause, "cause of attempt " + x.attempt);
            assertEquals(i + 1, x.attempt, "attempt numbers count up from 1");
            long b = base(x.attempt);
            long lo = (long) Math.floor(b * (1 - jitter));
            assertTrue(x.nextDelayMs >= lo && x.nextDelayMs <= b,
                    "attempt " + x.attempt + ": delay " + x.nextDelayMs + " not in [" + lo + ", " + b + "]");
            jittered |= x.nextDelayMs != b;
            if (i > 0) {
                Failure prev = f.get(i - 1);
                long gapMs = TimeUnit.NANOSECONDS.toMillis(x.atNanos - prev.atNanos);
                assertTrue(gapMs >= prev.nextDelayMs - 1,
                        "attempt " + x.attempt + " came " + gapMs + " ms after a failure announcing " + prev.nextDelayMs + " ms");
            }
        }
        assertTrue(jittered, "no delay was randomised: " + f);
        // growth: the delays' ranges do not overlap between the first and the last attempts
        assertTrue(f.get(FAILURES - 1).nextDelayMs > f.get(0).nextDelayMs * 2, "delays did not grow: " + f);
        assertTrue(f.get(FAILURES - 1).nextDelayMs >= MAX * (1 - jitter), "delays did not reach the maximum: " + f);
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void withoutJitterDelaysDoubleUpToTheMaximum(EventLoop.WaitMode mode) throws Exception {
        List<Failure> f = failures(mode, 0, 0, 6);
        long[] expected = {20, 40, 80, 160, 200, 200};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], f.get(i).nextDelayMs, "delay after attempt " + (i + 1));
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void maxAttemptsEndsRetrying(EventLoop.WaitMode mode) throws Exception {
        List<Failure> f = failures(mode, 0, 3, 3);
        assertEquals(20, f.get(0).nextDelayMs);
        assertEquals(40, f.get(1).nextDelayMs);
        assertEquals(-1, f.get(2).nextDelayMs, "the last attempt announces no further one");
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void listenerThatAppearsLaterIsConnectedTo(EventLoop.WaitMode mode) throws Exception {
        int port = TcpTestSupport.freePort();
        InetSocketAddress addr = new InetSocketAddress("127.0.0.1", port);
        CountDownLatch refusedTwice = new CountDownLatch(2);
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("late-base");
            EventLoop loop = loops.start("late-client");
            TcpClient client = new TcpClient(loop, addr, "late");
            client.setRetryDelays(INITIAL, MAX);
            client.setConnectFailedCallback((cause, attempt, next) -> refusedTwice.countDown());
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                }
            });
            client.connect();
            assertTrue(refusedTwice.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS));
            TcpServer server = new TcpServer(base, addr, "late-server");
            server.start();
            TcpConnection c = get(up, "connection once the listener is up");
            assertEquals(addr, c.peerAddress());
            get(client.close(), "client close");
            server.close();
        }
    }

    /**
     * A {@code connect()} after the connector gave up (the attempt limit) or was stopped starts a
     * new series: attempt numbers from 1 and delays from the initial delay, with the full attempt
     * limit again.
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void connectAgainStartsAFreshSeries(EventLoop.WaitMode mode) throws Exception {
        InetSocketAddress refused = new InetSocketAddress("127.0.0.1", TcpTestSupport.freePort());
        List<Failure> failures = new CopyOnWriteArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop loop = loops.start("fresh-client");
            TcpClient client = new TcpClient(loop, refused, "fresh");
            client.setRetryDelays(INITIAL, MAX);
            client.setMaxAttempts(3);
            client.setConnectFailedCallback((cause, attempt, next) -> failures.add(new Failure(cause, attempt, next, System.nanoTime())));
            for (int series = 0; series < 2; series++) {
                int base = failures.size();
                client.connect();
                TcpTestSupport.awaitAtMost(() -> base + 3 - failures.size(), 0, "three failures of series " + series);
                LoopTestSupport.runIterations(loop, 3);
                assertEquals(base + 3, failures.size(), "failures: " + failures);
                long[] delays = {INITIAL, INITIAL * 2, -1};
                for (int i = 0; i < 3; i++) {
                    Failure f = failures.get(base + i);
                    assertEquals(i + 1, f.attempt, "attempt number in series " + series + ": " + failures);
                    assertEquals(delays[i], f.nextDelayMs, "delay in series " + series + ": " + failures);
                }
            }
            // stopped while waiting to retry, then connect(): from the first attempt again
            client.setMaxAttempts(0);
            client.setRetryDelays(10_000, 10_000);
            int base = failures.size();
            client.connect();
            TcpTestSupport.awaitAtMost(() -> base + 1 - failures.size(), 0, "a failure");
            client.stop();
            client.setRetryDelays(INITIAL, MAX);
            client.connect();
            TcpTestSupport.awaitAtMost(() -> base + 2 - failures.size(), 0, "a failure after stop() and connect()");
            Failure f = failures.get(base + 1);
            assertEquals(1, f.attempt, "attempt after stop() and connect(): " + failures);
            assertEquals(INITIAL, f.nextDelayMs, "delay after stop() and connect(): " + failures);
            get(client.close(), "client close");
        }
    }
}
