package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.channels.UnresolvedAddressException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A connect to an address that is not resolved is fatal: it is reported once through the
 * {@link ConnectFailedCallback} with an {@link UnresolvedAddressException}, attempt 1 and
 * {@code nextDelayMs == -1}, no retry is scheduled (no timer is pending, so none can come), no
 * connection comes up and no socket is left open. {@code connect()} again tries (and fails) once
 * more, as a new first attempt; {@code close()} completes.
 */
@Timeout(30)
class ConnectUnresolvedHostTest {
    record Failure(Throwable cause, int attempt, long nextDelayMs) { }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void unresolvedHostIsFatalReportedAndNotRetried(EventLoop.WaitMode mode) throws Exception {
        InetSocketAddress unresolved = InetSocketAddress.createUnresolved("muduo4j-no-such-host.invalid", 9);
        List<Failure> failures = new CopyOnWriteArrayList<>();
        List<TcpConnection> connections = new CopyOnWriteArrayList<>();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop loop = loops.start("unresolved");
            int socketsBefore = TcpTestSupport.openSockets();
            TcpClient client = new TcpClient(loop, unresolved, "unresolved");
            client.setRetryDelays(1, 2); // a retry, if one were scheduled, would come at once
            client.setConnectionCallback(connections::add);
            for (int round = 1; round <= 2; round++) {
                CompletableFuture<Failure> failed = new CompletableFuture<>();
                client.setConnectFailedCallback((cause, attempt, next) -> {
                    Failure f = new Failure(cause, attempt, next);
                    failures.add(f);
                    failed.complete(f);
                });
                client.connect();
                Failure f = get(failed, "the failure report, round " + round);
                assertInstanceOf(UnresolvedAddressException.class, f.cause(), "cause");
                assertEquals(-1, f.nextDelayMs(), "a fatal error announces no further attempt");
                assertEquals(1, f.attempt(), "each connect() starts with attempt 1");
                Connector connector = TcpClientStopTest.connectorOf(client);
                assertEquals(Connector.State.DISCONNECTED, onLoop(loop, connector::state));
                assertFalse(onLoop(loop, connector::retryPending), "a retry is pending after a fatal error");
                assertEquals(0, onLoop(loop, loop::pendingTimers), "timers pending after a fatal error");
                LoopTestSupport.runIterations(loop, 5);
                assertEquals(round, failures.size(), "failure reports: " + failures);
                TcpTestSupport.awaitAtMost(TcpTestSupport::openSockets, socketsBefore, "sockets after the failed attempt");
            }
            get(client.close(), "client close");
            assertTrue(connections.isEmpty(), "connection callbacks: " + connections);
            assertTrue(client.isClosed());
            assertEquals(0, onLoop(loop, loop::pendingTimers));
            TcpTestSupport.awaitAtMost(TcpTestSupport::openSockets, socketsBefore, "sockets after close");
        }
        assertTrue(errors.isEmpty(), "errors reported: " + errors);
    }
}
