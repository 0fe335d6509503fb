package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Regression: a cross-thread {@code send} that writes directly and then has to post its
 * write-complete command while the loop's task queue is full waits for queue space; it must not
 * wait while holding the connection's send lock, because the loop thread may be about to take that
 * lock itself (an in-loop {@code send}), and then neither can move again.
 *
 * <p>The loop (task queue capacity 2) is held in a task; two more tasks fill its queue; another
 * thread sends on the idle connection (a direct write, then the post that waits for space); then
 * the held task is released and sends in the loop. The loop must get through to a later task, and
 * every byte of both sends must arrive.
 */
@Timeout(30)
class SendLockNeverWaitsForQueueTest {
    private static final int CAPACITY = 2;
    private static final long SEED = 41;
    private static final int LEN = 1000;
    /** Short enough that a hang fails well inside the class timeout. */
    private static final long HANG_SECONDS = 5;

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void inLoopSendGetsTheLockWhileACrossThreadSenderWaitsForQueueSpace(EventLoop.WaitMode mode) throws Exception {
        byte[] a = TcpTestSupport.streamBytes(SEED, 0, LEN);
        byte[] b = TcpTestSupport.streamBytes(SEED, LEN, LEN);
        AtomicInteger writeCompletes = new AtomicInteger();
        boolean loopAlive = false;
        DaemonLoop dl = DaemonLoop.start("send-lock-" + mode, TcpTestSupport.options(mode).taskQueueCapacity(CAPACITY));
        try (ServerSocket listener = new ServerSocket()) {
            listener.bind(TcpTestSupport.ANY_LOCAL_PORT);
            listener.setSoTimeout((int) TimeUnit.SECONDS.toMillis(LoopTestSupport.WAIT_SECONDS));
            EventLoop loop = dl.loop();
            CompletableFuture<TcpConnection> up = new CompletableFuture<>();
            TcpClient client = new TcpClient(loop, (InetSocketAddress) listener.getLocalSocketAddress(), "send-lock");
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                }
            });
            client.setWriteCompleteCallback(c -> writeCompletes.incrementAndGet());
            client.connect();
            try (Socket peer = listener.accept()) {
                peer.setSoTimeout((int) TimeUnit.SECONDS.toMillis(LoopTestSupport.WAIT_SECONDS));
                DataInputStream in = new DataInputStream(peer.getInputStream());
                TcpConnection conn = get(up, "the client connection");
                TcpTestSupport.onLoop(loop, () -> null); // nothing of the connect left in the queue

                // 1. Hold the loop in a task; it sends in the loop once released.
                CountDownLatch held = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                CompletableFuture<Boolean> loopSent = new CompletableFuture<>();
                CompletableFuture<Void> through = new CompletableFuture<>();
                loop.execute(() -> {
                    held.countDown();
                    try {
                        if (!release.await(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS)) {
                            loopSent.completeExceptionally(new AssertionError("the held loop task was never released"));
                            return;
                        }
                    } catch (InterruptedException e) {
                        loopSent.completeExceptionally(e);
                        return;
                    }
                    loopSent.complete(conn.send(b)); // takes the connection's send lock
                    loop.queueInLoop(() -> through.complete(null));
                });
                LoopTestSupport.await(held, "the loop to run the held task");

                // 2. Fill the cross-thread queue (the held task has left it), from a daemon thread
                // so that nothing here can wait for space itself.
                Thread filler = daemon("send-lock-filler", () -> {
                    for (int i = 0; i < CAPACITY; i++) {
                        loop.queueInLoop(() -> { });
                    }
                });
                filler.start();
                LoopTestSupport.awaitTrue(() -> loop.queueSize() == CAPACITY, "the loop's task queue to be full");

                // 3. A cross-thread send on the idle connection: written directly, then its
                // write-complete command waits for queue space.
                CompletableFuture<Boolean> crossSent = new CompletableFuture<>();
                daemon("send-lock-sender", () -> crossSent.complete(conn.send(a))).start();
                byte[] gotA = new byte[LEN];
                in.readFully(gotA);
                assertArrayEquals(a, gotA, "the cross-thread send, written by its own thread");
                assertFalse(crossSent.isDone(), "premise: the sender waits for space in the full task queue");

                // 4. Release the held task: its in-loop send needs the send lock.
                release.countDown();
                get(through, HANG_SECONDS, "the loop to get past its in-loop send (it waits for the send lock"
                        + " while the cross-thread sender holds it, waiting for queue space only the loop can make)");
                loopAlive = true;
                assertTrue(get(loopSent, "the in-loop send"), "the in-loop send was accepted");
                assertTrue(get(crossSent, HANG_SECONDS, "the cross-thread send to return"), "the cross-thread send was accepted");
                LoopTestSupport.join(filler);
                byte[] gotB = new byte[LEN];
                in.readFully(gotB);
                assertArrayEquals(b, gotB, "the in-loop send");
                LoopTestSupport.awaitTrue(() -> writeCompletes.get() >= 1, "a write-complete callback");
                assertEquals(2L * LEN, TcpTestSupport.onLoop(loop, conn::bytesSent));
                get(client.close(), "client close");
            }
        } finally {
            // A deadlocked loop cannot stop (nor can a client on it close); it is left behind as a daemon.
            boolean ended = dl.stop();
            if (loopAlive) {
                assertTrue(ended, "the loop thread ended");
            }
        }
    }

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
