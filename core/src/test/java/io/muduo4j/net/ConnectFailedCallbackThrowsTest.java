package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A {@link ConnectFailedCallback} that throws does not stop the retries: the next attempt is still
 * scheduled after the announced delay, and what the callback threw reaches the loop's error
 * handler, once per throw. (The retry used to be scheduled after the callback returned, so the
 * first throw ended the retrying for good.)
 */
@Timeout(30)
class ConnectFailedCallbackThrowsTest {
    private static final int ATTEMPTS = 4;

    private static final class CallbackFailure extends RuntimeException {
        CallbackFailure(int attempt) {
            super("callback of attempt " + attempt + " throws");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void throwingCallbackStillRetriesAndIsReported(EventLoop.WaitMode mode) throws Exception {
        InetSocketAddress refused = new InetSocketAddress("127.0.0.1", TcpTestSupport.freePort());
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        List<Long> delays = new CopyOnWriteArrayList<>();
        CountDownLatch enough = new CountDownLatch(ATTEMPTS);
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (loop, e) -> reported.add(e))) {
            EventLoop loop = loops.start("throwing-failed-cb");
            TcpClient client = new TcpClient(loop, refused, "throwing-failed-cb");
            client.setRetryDelays(10, 40);
            client.setMaxAttempts(ATTEMPTS);
            client.setConnectFailedCallback((cause, attempt, next) -> {
                attempts.add(attempt);
                delays.add(next);
                CallbackFailure f = new CallbackFailure(attempt);
                thrown.add(f);
                enough.countDown();
                throw f;
            });
            client.connect();
            assertTrue(enough.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS),
                    "the retries stopped after attempts " + attempts + "; errors reported: " + reported);
            // The last attempt announced no further one; let the loop settle, then compare.
            LoopTestSupport.runIterations(loop, 3);
            assertEquals(List.of(1, 2, 3, 4), attempts);
            assertEquals(List.of(10L, 20L, 40L, -1L), delays);
            TcpTestSupport.awaitAtMost(() -> thrown.size() - reported.size(), 0, "errors reported");
            assertEquals(thrown.size(), reported.size(), "one report per throw: " + reported);
            for (int i = 0; i < thrown.size(); i++) {
                assertSame(thrown.get(i), reported.get(i), "report " + i);
            }
            assertFalse(onLoop(loop, TcpClientStopTest.connectorOf(client)::retryPending),
                    "a retry pending after the last attempt");
            get(client.close(), "client close");
            assertEquals(0, onLoop(loop, loop::pendingTimers), "timers left on the loop");
        }
    }
}
