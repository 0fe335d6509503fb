package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * How many {@code accept} calls the {@link Acceptor} makes: connections that arrive one at a time
 * cost one call each, plus one failing call every {@value Acceptor#PROBE_EVERY} events (the probe
 * for a burst), not one per connection; a burst that piled up while the loop was busy is taken
 * within the probe interval, at a couple of failing calls for the lot.
 */
@Timeout(30)
class AcceptBatchTest {
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void oneAcceptPerConnectionOneAtATimeAndBurstsTakenWhole(EventLoop.WaitMode mode) throws Exception {
        List<SocketChannel> handed = new CopyOnWriteArrayList<>();
        List<Socket> clients = new ArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode).onTransport(Transport.NIO)) {
            EventLoop loop = loops.start("accept-batch");
            Acceptor acceptor = new Acceptor(loop, TcpTestSupport.ANY_LOCAL_PORT, false, 256,
                    LoopTestSupport.nioHandler(loop, handed::add), PollerAccept.INSTANCE);
            try {
                onLoop(loop, () -> {
                    acceptor.listen();
                    return null;
                });
                int single = 50;
                for (int i = 0; i < single; i++) {
                    Socket s = new Socket();
                    clients.add(s);
                    s.connect(acceptor.localAddress(), 5_000);
                    int want = i + 1;
                    TcpTestSupport.awaitAtMost(() -> want - handed.size(), 0, "connection " + want + " accepted");
                }
                long calls = onLoop(loop, acceptor::acceptCalls);
                long probes = single / Acceptor.PROBE_EVERY;
                assertEquals(single + probes, calls, "accept calls for " + single + " connections made one at a time");

                // A burst: the loop is held while the connections complete in the backlog.
                int burst = 40;
                CountDownLatch held = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                loop.execute(() -> {
                    held.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                LoopTestSupport.await(held, "the loop to be held");
                for (int i = 0; i < burst; i++) {
                    Socket s = new Socket();
                    clients.add(s);
                    s.connect(acceptor.localAddress(), 5_000);
                }
                long eventsBefore = onLoopAfter(release, loop, acceptor::readEvents);
                TcpTestSupport.awaitAtMost(() -> single + burst - handed.size(), 0, "the burst accepted");
                long[] c = onLoop(loop, () -> new long[] {acceptor.acceptCalls(), acceptor.readEvents()});
                long burstCalls = c[0] - calls;
                long burstEvents = c[1] - eventsBefore;
                assertTrue(burstCalls <= burst + 2, "accept calls for a burst of " + burst + ": " + burstCalls);
                assertTrue(burstEvents <= Acceptor.PROBE_EVERY + 2, "readiness events for a burst of " + burst + ": " + burstEvents);
            } finally {
                onLoop(loop, () -> {
                    acceptor.close();
                    return null;
                });
                for (Socket s : clients) {
                    s.close();
                }
                for (SocketChannel s : handed) {
                    s.close();
                }
            }
        }
    }

    /** Releases the held loop and reads a counter in the loop's next task, before any readiness event ran. */
    private static long onLoopAfter(CountDownLatch release, EventLoop loop, java.util.concurrent.Callable<Long> c)
            throws Exception {
        java.util.concurrent.CompletableFuture<Long> f = new java.util.concurrent.CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(c.call());
            } catch (Exception e) {
                f.completeExceptionally(e);
            }
        });
        release.countDown();
        return TcpTestSupport.get(f, "the counter");
    }

    /** The production accept, counted by the acceptor like any other. */
    enum PollerAccept implements Acceptor.AcceptCall {
        INSTANCE;

        @Override
        public boolean accept(Poller poller, Pollable listener, Pollable into) throws IOException {
            return poller.accept(listener, into);
        }
    }
}
