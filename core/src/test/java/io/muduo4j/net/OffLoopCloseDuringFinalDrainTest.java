package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An off-loop close of a server or a client whose loop has terminated but is still in its final
 * drain (the tasks accepted before it ended still run, and may close connections) waits for that
 * drain instead of walking the loop's registry beside it. Made deterministic: a task of the final
 * drain holds the loop until {@code stop()} / {@code close()} has been called from the test
 * thread; behind it wait forced closes of every connection, posted from the test thread before the
 * loop ended. Every connection then gets exactly one down callback, each before the stop's (or the
 * close's) future completes, nothing is reported to the loop's error handler, the server's count of
 * open connections ends at 0 and no descriptor is left open.
 *
 * <p>Before the fix {@code stop()} closed the sockets and completed at once on the test thread; the
 * final drain then closed the same connections again: their down callbacks ran after the future had
 * completed, and the count ended at minus the number of connections (each counted out twice).
 */
@Timeout(60)
class OffLoopCloseDuringFinalDrainTest {
    private static final int CONNECTIONS = 4;

    /**
     * Holds {@code loop} in its final drain: quits it from a task that waits for {@code queueBehind},
     * which the test runs (queueing the final drain's work) while that task holds the loop. Returns
     * a latch the final drain's first task counts down once it holds the loop; it then waits for
     * {@code release}.
     */
    private static CountDownLatch holdInFinalDrain(EventLoop loop, Runnable queueBehind, CountDownLatch release,
            List<Throwable> problems) throws Exception {
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch queued = new CountDownLatch(1);
        CountDownLatch quitting = new CountDownLatch(1);
        loop.queueInLoop(() -> {
            loop.quit(); // ends after this iteration: what is queued now runs in the final drain
            quitting.countDown();
            awaitQuietly(queued, problems);
        });
        LoopTestSupport.await(quitting, "the loop to quit");
        loop.queueInLoop(() -> {
            if (!loop.isTerminated()) {
                problems.add(new AssertionError("the holding task ran before the loop terminated"));
            }
            holding.countDown();
            awaitQuietly(release, problems);
        });
        queueBehind.run();
        queued.countDown();
        return holding;
    }

    private static void awaitQuietly(CountDownLatch latch, List<Throwable> problems) {
        try {
            if (!latch.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS)) {
                problems.add(new AssertionError("a held loop task was never released"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problems.add(e);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void serverStopDuringTheFinalDrainWaitsForIt(EventLoop.WaitMode mode) throws Exception {
        String name = "final-drain-stop-" + mode;
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        List<Throwable> problems = new CopyOnWriteArrayList<>();
        Map<Long, AtomicInteger> downs = new ConcurrentHashMap<>();
        List<TcpConnection> conns = new CopyOnWriteArrayList<>();
        CountDownLatch allUp = new CountDownLatch(CONNECTIONS);
        CompletableFuture<CompletableFuture<Void>> stopFuture = new CompletableFuture<>();
        List<Boolean> stopDoneAtDown = new CopyOnWriteArrayList<>();
        TcpTestSupport.warmUpDescriptors();
        int fdsBefore = TcpTestSupport.openFds();
        List<Socket> peers = new ArrayList<>();
        TcpServer server;
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, e) -> reported.add(e))) {
            EventLoop base = loops.start(name);
            server = TcpTestSupport.server(loops, base, name, 0, s -> s.setConnectionCallback(c -> {
                if (c.connected()) {
                    downs.put(c.id(), new AtomicInteger());
                    conns.add(c);
                    allUp.countDown();
                } else {
                    downs.get(c.id()).incrementAndGet();
                    CompletableFuture<Void> f = stopFuture.getNow(null);
                    stopDoneAtDown.add(f != null && f.isDone());
                }
            }));
            try {
                for (int i = 0; i < CONNECTIONS; i++) {
                    Socket p = new Socket();
                    peers.add(p);
                    p.connect(server.listenAddress(), 5000);
                    p.setSoTimeout(5000);
                }
                LoopTestSupport.await(allUp, CONNECTIONS + " connections up");
                CountDownLatch release = new CountDownLatch(1);
                CountDownLatch holding = holdInFinalDrain(base, () -> conns.forEach(TcpConnection::forceClose),
                        release, problems);
                LoopTestSupport.await(holding, "the final drain to hold the loop");
                assertTrue(base.isTerminated());
                CompletableFuture<Void> stopped = server.stop(); // from this thread, the loop in its final drain
                stopFuture.complete(stopped);
                release.countDown();
                get(stopped, "the stop");
                for (int i = 0; i < CONNECTIONS; i++) {
                    assertEquals(-1, peers.get(i).getInputStream().read(), "connection " + i + " closed");
                }
            } finally {
                for (Socket p : peers) {
                    p.close();
                }
            }
        }
        assertEquals(List.of(), problems);
        assertEquals(List.of(), reported, "errors reported on the loop");
        assertEquals(0, server.connectionCount(), "open connections counted after the stop");
        assertEquals(CONNECTIONS, downs.size());
        downs.forEach((id, n) -> assertEquals(1, n.get(), "down callbacks of connection " + id));
        assertEquals(CONNECTIONS, stopDoneAtDown.size());
        assertFalse(stopDoneAtDown.contains(Boolean.TRUE), "a down callback ran after the stop had completed");
        TcpTestSupport.awaitAtMost(TcpTestSupport::openFds, fdsBefore, "descriptors after the stop");
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void clientCloseDuringTheFinalDrainWaitsForIt(EventLoop.WaitMode mode) throws Exception {
        String name = "final-drain-close-" + mode;
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        List<Throwable> problems = new CopyOnWriteArrayList<>();
        AtomicInteger downs = new AtomicInteger();
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<CompletableFuture<Void>> closeFuture = new CompletableFuture<>();
        List<Boolean> closeDoneAtDown = new CopyOnWriteArrayList<>();
        TcpTestSupport.warmUpDescriptors();
        int fdsBefore = TcpTestSupport.openFds();
        try (TcpTestSupport.Loops serverLoops = new TcpTestSupport.Loops(mode)) {
            EventLoop serverLoop = serverLoops.start(name + "-server");
            TcpServer server = TcpTestSupport.server(serverLoops, serverLoop, name + "-server", 0, s -> { });
            try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, e) -> reported.add(e))) {
                EventLoop loop = loops.start(name);
                TcpClient client = new TcpClient(loop, server.listenAddress(), name);
                client.setConnectionCallback(c -> {
                    if (c.connected()) {
                        up.complete(c);
                    } else {
                        downs.incrementAndGet();
                        CompletableFuture<Void> f = closeFuture.getNow(null);
                        closeDoneAtDown.add(f != null && f.isDone());
                    }
                });
                client.connect();
                TcpConnection conn = get(up, "the client's connection");
                CountDownLatch release = new CountDownLatch(1);
                CountDownLatch holding = holdInFinalDrain(loop, conn::forceClose, release, problems);
                LoopTestSupport.await(holding, "the final drain to hold the loop");
                assertTrue(loop.isTerminated());
                CompletableFuture<Void> closed = client.close(); // from this thread, the loop in its final drain
                closeFuture.complete(closed);
                release.countDown();
                get(closed, "the client's close");
            }
            server.close();
        }
        assertEquals(List.of(), problems);
        assertEquals(List.of(), reported, "errors reported on the client's loop");
        assertEquals(1, downs.get(), "down callbacks");
        assertEquals(List.of(Boolean.FALSE), closeDoneAtDown, "the down callback ran before the close completed");
        TcpTestSupport.awaitAtMost(TcpTestSupport::openFds, fdsBefore, "descriptors after the close");
    }
}
