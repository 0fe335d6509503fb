package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketTimeoutException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A listener whose accept queue is full drops SYNs, so a connect to it stays in progress: with a
 * connect timeout the attempt is closed after that time, reported as a
 * {@link SocketTimeoutException} and retried, and closing the client leaves no socket behind.
 */
@Timeout(30)
class ConnectTimeoutTest {
    private static final long TIMEOUT_MS = 200;

    record Failure(Throwable cause, int attempt, long nextDelayMs, long atNanos) { }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void unansweredConnectTimesOutAndRetries(EventLoop.WaitMode mode) throws Exception {
        List<Failure> failures = new CopyOnWriteArrayList<>();
        List<TcpConnection> connected = new CopyOnWriteArrayList<>();
        CountDownLatch twice = new CountDownLatch(2);
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode);
             TcpTestSupport.FullBacklogListener listener = new TcpTestSupport.FullBacklogListener()) {
            EventLoop loop = loops.start("timeout-client");
            int socketsBefore = TcpTestSupport.openSockets();
            TcpClient client = new TcpClient(loop, listener.address, "timeout");
            client.setConnectTimeoutMs(TIMEOUT_MS);
            client.setRetryDelays(50, 100);
            client.setConnectionCallback(connected::add);
            client.setConnectFailedCallback((cause, attempt, next) -> {
                failures.add(new Failure(cause, attempt, next, System.nanoTime()));
                twice.countDown();
            });
            long start = System.nanoTime();
            client.connect();
            assertTrue(twice.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS), "failures: " + failures);
            get(client.close(), "client close");
            assertTrue(connected.isEmpty(), "connected through a full backlog: " + connected);

            Failure first = failures.get(0);
            Failure second = failures.get(1);
            assertInstanceOf(SocketTimeoutException.class, first.cause, "cause: " + first.cause);
            assertInstanceOf(SocketTimeoutException.class, second.cause, "cause: " + second.cause);
            assertEquals(1, first.attempt);
            assertEquals(2, second.attempt);
            assertEquals(50, first.nextDelayMs);
            long firstMs = TimeUnit.NANOSECONDS.toMillis(first.atNanos - start);
            assertTrue(firstMs >= TIMEOUT_MS - 1 && firstMs < TIMEOUT_MS + 2_000,
                    "first attempt gave up after " + firstMs + " ms, timeout " + TIMEOUT_MS);
            long gapMs = TimeUnit.NANOSECONDS.toMillis(second.atNanos - first.atNanos);
            assertTrue(gapMs >= first.nextDelayMs + TIMEOUT_MS - 1, "second attempt gave up " + gapMs + " ms after the first");
            TcpTestSupport.awaitAtMost(TcpTestSupport::openSockets, socketsBefore, "sockets after the client closed");
        }
    }
}
