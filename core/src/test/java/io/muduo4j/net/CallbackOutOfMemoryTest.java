package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * README, "Errors and loops": a connection callback that throws {@link OutOfMemoryError} closes
 * that connection with the error as its {@code closeCause()}; the error is reported and the loop
 * and its other connections run on. A good connection and the victim share the server's one I/O
 * loop; the victim's callback throws a real (constructed, thrown) {@code OutOfMemoryError}, once.
 */
@Timeout(30)
class CallbackOutOfMemoryTest {
    /** The callback that throws. */
    enum Site { MESSAGE, WRITE_COMPLETE, HIGH_WATER, UP }

    /** Far above the 64 KiB high-water mark plus what the kernel buffers (the victim never reads). */
    private static final int BIG = 16 << 20;

    static List<Arguments> modesAndSites() {
        List<Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            for (Site s : Site.values()) {
                a.add(Arguments.of(m, s));
            }
        }
        return a;
    }

    private record Report(Throwable error, Thread thread) {
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("modesAndSites")
    void anOutOfMemoryErrorFromACallbackClosesThatConnectionOnly(EventLoop.WaitMode mode, Site site) throws Exception {
        BlockingQueue<Report> reports = new LinkedBlockingQueue<>();
        OutOfMemoryError thrown = new OutOfMemoryError("thrown by the " + site + " callback");
        Set<Long> victims = ConcurrentHashMap.newKeySet();
        AtomicInteger ups = new AtomicInteger();
        AtomicInteger throwsLeft = new AtomicInteger(1);
        CompletableFuture<TcpConnection> victimDown = new CompletableFuture<>();
        CompletableFuture<Thread> victimLoopThread = new CompletableFuture<>();
        Runnable raise = () -> {
            if (throwsLeft.getAndDecrement() == 1) {
                victimLoopThread.complete(Thread.currentThread());
                throw thrown;
            }
        };
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode,
                (loop, error) -> reports.add(new Report(error, Thread.currentThread())))) {
            EventLoop base = loops.start("oom-cb-base");
            TcpServer server = TcpTestSupport.server(loops, base, "oom-cb", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        if (ups.incrementAndGet() == 2) { // the second connection is the victim
                            victims.add(c.id());
                            if (site == Site.UP) {
                                raise.run();
                            }
                        }
                    } else if (victims.contains(c.id())) {
                        victimDown.complete(c);
                    }
                });
                s.setMessageCallback((c, b, t) -> {
                    if (!victims.contains(c.id())) {
                        c.send(b); // the good connection: an echo
                        return;
                    }
                    b.retrieveAll();
                    switch (site) {
                        case MESSAGE:
                            raise.run();
                            break;
                        case WRITE_COMPLETE:
                            c.send(new byte[] {'w'});
                            break;
                        case HIGH_WATER:
                            c.send(new byte[BIG]);
                            break;
                        default:
                            break;
                    }
                });
                s.setWriteCompleteCallback(c -> {
                    if (site == Site.WRITE_COMPLETE && victims.contains(c.id())) {
                        raise.run();
                    }
                });
                s.setHighWaterMarkCallback((c, q) -> {
                    if (site == Site.HIGH_WATER && victims.contains(c.id())) {
                        raise.run();
                    }
                }, 64 * 1024);
            });
            try (SocketChannel good = SocketChannel.open(server.listenAddress())) {
                TcpTestSupport.assertEchoes(good, "before");
                TcpTestSupport.awaitAtMost(() -> 1 - ups.get(), 0, "the good connection's up callback");
                try (SocketChannel victim = SocketChannel.open(server.listenAddress())) {
                    if (site != Site.UP) {
                        victim.write(ByteBuffer.wrap(new byte[] {'v'}));
                    }
                    TcpConnection closed = get(victimDown, "the victim's down callback");
                    assertSame(thrown, closed.closeCause(), "the victim's close cause");
                    assertEquals(TcpConnection.State.DISCONNECTED, closed.state());
                    Report r = reports.poll(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                    assertNotNull(r, "the error was not reported");
                    assertSame(thrown, r.error(), "the reported error");
                    assertSame(get(victimLoopThread, "the throwing callback"), r.thread(), "reported on the loop thread");
                    String end = readToEnd(victim);
                    assertTrue(end.equals("EOF") || end.equals("reset"), "the victim's peer saw: " + end);
                }
                TcpTestSupport.assertEchoes(good, "after the victim"); // the same I/O loop serves on
                TcpTestSupport.awaitAtMost(server::connectionCount, 1, "server connections after the victim");
                try (SocketChannel fresh = SocketChannel.open(server.listenAddress())) {
                    TcpTestSupport.assertEchoes(fresh, "a new connection");
                }
                assertEquals(0, reports.size(), "further reports: " + reports);
            }
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            assertFalse(server.loop().isTerminated());
            server.close();
        }
    }

    /** Reads and discards until the stream ends: "EOF", or "reset" when the read fails. */
    private static String readToEnd(SocketChannel ch) {
        ByteBuffer in = ByteBuffer.allocate(64 * 1024);
        try {
            while (ch.read(in.clear()) >= 0) {
                // the victim's queued output, if any
            }
            return "EOF";
        } catch (IOException e) {
            return "reset";
        }
    }
}
