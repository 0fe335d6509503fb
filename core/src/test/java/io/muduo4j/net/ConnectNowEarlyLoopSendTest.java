package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A {@link TcpClient#connectNow()} connection sent to by a task of its own loop that runs before
 * the loop has registered it (its establish command is queued behind that task): the send is
 * larger than the socket takes at once, so part of it is staged for the loop, and all of it still
 * reaches the peer. The loop's flush of the staged part used to be dropped (there was no output
 * buffer yet) and never retried, so the rest sat unsent and a request/reply client hung.
 */
@Timeout(60)
class ConnectNowEarlyLoopSendTest {
    private static final int MESSAGE = 16 << 20; // far more than a loopback socket takes in one write
    private static final long SEED = 24;

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aSendBeforeTheRegistrationIsFlushedWhole(EventLoop.WaitMode mode) throws Exception {
        byte[] message = TcpTestSupport.streamBytes(SEED, 0, MESSAGE);
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("early-server");
            EventLoop clientLoop = loops.start("early-client");
            TcpServer server = TcpTestSupport.server(loops, base, "early-echo", 1,
                    s -> s.setMessageCallback((c, b, t) -> c.send(b)));
            TcpClient client = new TcpClient(clientLoop, server.listenAddress(), "early");
            CompletableFuture<Void> echoed = new CompletableFuture<>();
            long[] received = {0};
            client.setMessageCallback((c, b, t) -> {
                int n = b.readableBytes();
                for (int i = 0; i < n; i++) {
                    if (b.getByte(i) != TcpTestSupport.streamByte(SEED, received[0] + i)) {
                        echoed.completeExceptionally(new AssertionError("echo differs at byte " + (received[0] + i)));
                        return;
                    }
                }
                received[0] += n;
                b.retrieveAll();
                if (received[0] == MESSAGE) {
                    echoed.complete(null);
                }
            });

            // Holds the client's loop until connectNow() has returned: its establish command is
            // queued behind this task, so the send below runs before the registration.
            CompletableFuture<TcpConnection> published = new CompletableFuture<>();
            CompletableFuture<Long> stagedAfterSend = new CompletableFuture<>();
            clientLoop.execute(() -> {
                try {
                    TcpConnection c = published.get(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                    assertTrue(c.send(message), "send on the loop before the registration");
                    stagedAfterSend.complete(c.queuedBytes());
                } catch (Throwable t) {
                    stagedAfterSend.completeExceptionally(t);
                }
            });
            TcpConnection conn = client.connectNow();
            published.complete(conn);
            long staged = get(stagedAfterSend, "the early send");
            assertTrue(staged > 0, "precondition: the socket took the whole message at once (" + MESSAGE
                    + " bytes), nothing was left for the loop to flush");

            get(echoed, 30, "the echo of all " + MESSAGE + " bytes (" + staged
                    + " of them were staged before the registration)");
            assertEquals(0, TcpTestSupport.onLoop(clientLoop, conn::queuedBytes), "bytes queued after the echo");
            get(client.close(), "client close");
            server.close();
        }
    }
}
