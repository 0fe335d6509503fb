package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Regression: the output buffer is not public any more (bytes appended to it directly bypassed the
 * ordering of direct writes and staged sends); {@link TcpConnection#queuedBytes()} tells any thread
 * how much is waiting, including what another thread staged and the loop has not taken over yet.
 */
@Timeout(30)
class QueuedBytesTest {
    private static final int CHUNK = 64 * 1024;
    /** 6 MiB: more than the socket takes (at most a 4 MiB send buffer plus a small receive window). */
    private static final int CHUNKS = 96;
    private static final int TOTAL = CHUNK * CHUNKS;
    private static final long SEED = 67;
    private static final int SO_TIMEOUT_MS = 5_000;

    @Test
    void noPublicMethodHandsOutABufferButTheInputBuffer() {
        List<String> buffers = Arrays.stream(TcpConnection.class.getMethods())
                .filter(m -> Buffer.class.isAssignableFrom(m.getReturnType()))
                .map(Method::getName)
                .sorted()
                .toList();
        assertEquals(List.of("inputBuffer"), buffers, "public methods of TcpConnection returning a Buffer");
        assertTrue(Arrays.stream(TcpConnection.class.getDeclaredMethods())
                        .filter(m -> m.getName().equals("queuedBytes"))
                        .anyMatch(m -> Modifier.isPublic(m.getModifiers()) && m.getReturnType() == long.class),
                "public long queuedBytes()");
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void queuedBytesCountsWhatAnotherThreadStagedAndDropsToZeroOnceThePeerReads(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("queued-base");
            TcpServer server = TcpTestSupport.server(loops, base, "queued", 1, s -> {
                s.setOutputLimit(Long.MAX_VALUE, null); // the sender ignores writability
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        up.complete(c);
                    }
                });
            });
            try (Socket peer = new Socket()) {
                peer.setReceiveBufferSize(32 * 1024); // and does not read until told
                peer.connect(server.listenAddress(), SO_TIMEOUT_MS);
                peer.setSoTimeout(SO_TIMEOUT_MS);
                TcpConnection conn = get(up, "the server connection");
                assertEquals(0, conn.queuedBytes(), "nothing queued on a fresh connection");

                // Hold the connection's loop: what the socket does not take stays staged, not taken over.
                CountDownLatch held = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                conn.loop().execute(() -> {
                    held.countDown();
                    try {
                        release.await(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                LoopTestSupport.await(held, "the loop to be held");

                CompletableFuture<Boolean> sent = new CompletableFuture<>();
                Thread sender = new Thread(() -> {
                    boolean all = true;
                    for (int i = 0; i < CHUNKS; i++) {
                        all &= conn.send(TcpTestSupport.streamBytes(SEED, (long) i * CHUNK, CHUNK));
                    }
                    sent.complete(all);
                }, "queued-sender");
                sender.setDaemon(true);
                sender.start();
                assertTrue(get(sent, "the sender"), "every chunk accepted");

                // Read here, a third thread, while the loop is still held.
                long queued = conn.queuedBytes();
                long written = conn.bytesSent(); // the sender's own direct writes; it finished before
                assertTrue(queued > 0, "bytes staged by the sender are queued: " + queued);
                assertEquals(TOTAL - written, queued, "queued = accepted - written (" + written + " written directly)");

                release.countDown();
                TcpTestSupport.readStream(peer.getInputStream(), SEED, TOTAL);
                LoopTestSupport.awaitTrue(() -> conn.queuedBytes() == 0, "queuedBytes() back to 0 after the peer read everything");
                LoopTestSupport.awaitTrue(conn::isWritable, "writable again");
                LoopTestSupport.join(sender);
            }
            server.close();
        }
    }
}
