package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A {@link TcpServer#start()} whose I/O pool cannot start (the second of three I/O loops fails in
 * its constructor) throws with the cause, and releases everything it took: no I/O thread is left
 * running, the listening socket is closed (the port binds again), no descriptor stays open, and
 * nothing the loops report is left behind. {@code stop()} and {@code close()} afterwards complete
 * and a second {@code start()} is refused. It used to leave the first I/O thread running and the
 * port bound with nobody accepting, and {@code stop()} completed without closing the pool.
 */
@Timeout(30)
class TcpServerStartFailureTest {
    private static final class LoopConstructionFailure extends RuntimeException {
        LoopConstructionFailure(String thread) {
            super("no idle strategy for " + thread);
        }
    }

    private static boolean threadAlive(String prefix) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(prefix) && t.isAlive()) {
                return true;
            }
        }
        return false;
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void failedPoolStartReleasesEverythingAndThrows(EventLoop.WaitMode mode) throws Exception {
        String name = "start-fails-" + mode;
        TcpTestSupport.warmUpDescriptors();
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, e) -> reported.add(e))) {
            EventLoop base = loops.start(name + "-base");
            int fdsBefore = TcpTestSupport.openFds();
            InetSocketAddress addr = new InetSocketAddress("127.0.0.1", TcpTestSupport.freePort());
            TcpServer server = new TcpServer(base, addr, name);
            server.setThreadNum(3);
            // The loop of the second I/O thread fails in its constructor, whatever the wait mode.
            Supplier<IdleStrategy> factory = () -> {
                String thread = Thread.currentThread().getName();
                if (thread.equals(name + "-io-1")) {
                    throw new LoopConstructionFailure(thread);
                }
                return new BackoffIdleStrategy();
            };
            server.setLoopOptions(EventLoopOptions.spinning(factory).waitMode(mode));

            RuntimeException e = assertThrows(RuntimeException.class, server::start, "start() with a failing pool");
            assertTrue(causedBy(e, LoopConstructionFailure.class), "the cause is not in " + e);
            LoopTestSupport.awaitTrue(() -> !threadAlive(name + "-io-"), "the I/O threads of the failed start to end");
            try (ServerSocketChannel again = ServerSocketChannel.open()) {
                again.bind(addr); // the listener is closed: the port is free
            }
            TcpTestSupport.awaitAtMost(TcpTestSupport::openFds, fdsBefore, "descriptors after the failed start");

            assertSame(server.stop(), server.stop());
            get(server.stop(), "stop() after the failed start");
            server.close();
            assertThrows(IllegalStateException.class, server::start, "start() again after a failed start");
            assertFalse(threadAlive(name + "-io-"));
            LoopTestSupport.runIterations(base, 3);
            assertTrue(reported.isEmpty(), "errors reported by the loops: " + reported);
        }
    }
}
