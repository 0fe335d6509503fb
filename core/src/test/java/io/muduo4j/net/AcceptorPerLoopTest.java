package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link TcpServer#setAcceptorPerLoop}: each I/O loop listens with SO_REUSEPORT and accepts its
 * own connections (the base loop accepts none, every connection lives on the loop that accepted
 * it, both loops get some), the stop releases every listener (the port binds again without
 * SO_REUSEPORT), a taken port fails the start and leaves the server stopped, and without I/O
 * threads the base loop accepts as always. Runs on every transport.
 */
@Timeout(60)
class AcceptorPerLoopTest {
    static final int CLIENTS = 40;

    @Test
    void eachIoLoopAcceptsItsOwnConnections() throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("apl-base");
            Map<String, AtomicInteger> perLoop = new ConcurrentHashMap<>();
            AtomicInteger elsewhere = new AtomicInteger();
            TcpServer server = TcpTestSupport.server(loops, base, "apl", 2, s -> {
                s.setAcceptorPerLoop(true);
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        perLoop.computeIfAbsent(Thread.currentThread().getName(), k -> new AtomicInteger()).incrementAndGet();
                        if (!c.loop().isInLoopThread() || c.loop() == base) {
                            elsewhere.incrementAndGet();
                        }
                    }
                });
                s.setMessageCallback((c, b, t) -> c.send(b));
            });
            InetSocketAddress address = server.listenAddress();
            assertTrue(address.getPort() > 0);
            for (int i = 0; i < CLIENTS; i++) {
                try (SocketChannel ch = SocketChannel.open(address)) {
                    TcpTestSupport.assertEchoes(ch, "client " + i);
                }
            }
            LoopMetrics m = new LoopMetrics();
            LoopTestSupport.awaitTrue(() -> server.metrics(m).connectionsClosed() == CLIENTS, "every connection closed");
            assertEquals(0, base.metrics(new LoopMetrics()).accepted(), "the base loop accepts nothing");
            assertEquals(CLIENTS, m.accepted(), "the I/O loops accepted them all");
            assertEquals(0, elsewhere.get(), "each connection runs on the loop that accepted it");
            assertEquals(2, perLoop.size(), "the kernel spread " + CLIENTS + " connections over both listeners: " + perLoop);
            server.close();
            try (ServerSocketChannel again = ServerSocketChannel.open()) {
                again.bind(address); // no SO_REUSEPORT: fails while any listener of the group is open
            }
        }
    }

    @Test
    void aTakenPortFailsTheStartAndStopsTheServer() throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING);
             ServerSocketChannel taken = ServerSocketChannel.open()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            EventLoop base = loops.start("apl-taken");
            TcpServer server = new TcpServer(base, (InetSocketAddress) taken.getLocalAddress(), "apl-taken");
            server.setThreadNum(2);
            server.setAcceptorPerLoop(true);
            assertThrows(UncheckedIOException.class, server::start);
            server.stop().get(5, TimeUnit.SECONDS);
            assertThrows(IllegalStateException.class, server::start, "stopped for good");
        }
    }

    @Test
    void withoutIoThreadsTheBaseLoopAccepts() throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("apl-zero");
            TcpServer server = TcpTestSupport.server(loops, base, "apl-zero", 0, s -> {
                s.setAcceptorPerLoop(true);
                s.setMessageCallback((c, b, t) -> c.send(b));
            });
            try (SocketChannel ch = SocketChannel.open(server.listenAddress())) {
                TcpTestSupport.assertEchoes(ch, "hello");
            }
            LoopMetrics m = new LoopMetrics();
            LoopTestSupport.awaitTrue(() -> base.metrics(m).accepted() == 1, "the base loop's accept");
            server.close();
        }
    }
}
