package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A connection closed by another thread while its up callback runs still reads connected() true
 * in that callback (so {@code if (c.connected())} tells up from down), and false in the down
 * callback that follows. Before, the up callback read the closing thread's DISCONNECTING and
 * looked like a second down (seen as [down, down] in ConnectNowTest). Runs on every transport.
 */
@Timeout(30)
class UpCallbackSeesConnectedTest {
    @Test
    void theUpCallbackReadsConnectedWhileAnotherThreadCloses() throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("up-server");
            EventLoop clientLoop = loops.start("up-client");
            TcpServer server = TcpTestSupport.server(loops, base, "up", 1, s -> { });
            TcpClient client = new TcpClient(clientLoop, server.listenAddress(), "up-client");
            CompletableFuture<TcpConnection> inUp = new CompletableFuture<>();
            CountDownLatch closedElsewhere = new CountDownLatch(1);
            CountDownLatch down = new CountDownLatch(1);
            List<String> seen = new CopyOnWriteArrayList<>();
            client.setConnectionCallback(c -> {
                if (seen.isEmpty()) {
                    inUp.complete(c);
                    try {
                        LoopTestSupport.await(closedElsewhere, "the other thread's close");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new AssertionError(e);
                    }
                }
                seen.add(c.connected() ? "up" : "down");
                if (seen.size() == 2) {
                    down.countDown();
                }
            });
            client.connect();
            TcpConnection c = TcpTestSupport.get(inUp, "the up callback");
            c.forceClose(); // from this thread, while the up callback runs
            assertEquals(TcpConnection.State.DISCONNECTING, c.state());
            closedElsewhere.countDown();
            LoopTestSupport.await(down, "the down callback");
            assertEquals(List.of("up", "down"), seen);
            TcpTestSupport.get(client.close(), "client close");
            server.close();
        }
    }
}
