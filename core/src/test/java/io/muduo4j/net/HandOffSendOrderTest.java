package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.DataInputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Regression: program order across a hand-off. {@code conn.send(a)} on a thread, then
 * {@code loop.execute(() -> conn.send(b))} from the same thread, puts {@code a} on the wire before
 * {@code b}, also when {@code a} was staged for the loop (its output busy) and the loop's command
 * that takes staged bytes over runs only after the hand-off task: the in-loop send must take the
 * staged bytes over first instead of appending {@code b} ahead of them.
 *
 * <p>That late command is made deterministic with a loop whose task queue holds 2: the loop posts
 * a connection command (here {@code startRead()}) while that queue is full, so the command task
 * goes to the loop thread's overflow queue, which runs after the tasks of the shared queue; the
 * staging send then only adds its bit to the command word, and the hand-off task is queued in the
 * shared queue, ahead of the command. Round after round, with sequence numbers; the peer reads
 * everything at the end and checks the order.
 */
@Timeout(30)
class HandOffSendOrderTest {
    private static final int CAPACITY = 2;
    private static final int ROUNDS = 20;
    /** Far more than the socket buffers hold: the output stays busy (OP_WRITE armed) for the whole test. */
    private static final int FILLER = 8 << 20;
    private static final long SEED = 53;
    private static final int RECORD = 8;

    private static byte[] record(char tag, int seq) {
        return ByteBuffer.allocate(RECORD).putInt(tag).putInt(seq).array();
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void sendThenHandOffKeepsProgramOrderWhileTheOutputIsBusy(EventLoop.WaitMode mode) throws Exception {
        AtomicReference<Throwable> loopProblem = new AtomicReference<>();
        List<Boolean> handedOffAccepted = new CopyOnWriteArrayList<>();
        try (DaemonLoop dl = DaemonLoop.start("hand-off-" + mode, TcpTestSupport.options(mode).taskQueueCapacity(CAPACITY));
             ServerSocket listener = new ServerSocket()) {
            listener.setReceiveBufferSize(32 * 1024); // accepted sockets inherit it
            listener.bind(TcpTestSupport.ANY_LOCAL_PORT);
            listener.setSoTimeout((int) TimeUnit.SECONDS.toMillis(LoopTestSupport.WAIT_SECONDS));
            EventLoop loop = dl.loop();
            CompletableFuture<TcpConnection> up = new CompletableFuture<>();
            TcpClient client = new TcpClient(loop, (InetSocketAddress) listener.getLocalSocketAddress(), "hand-off");
            client.setOutputLimit(Long.MAX_VALUE, null); // the peer reads only at the end
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                }
            });
            client.connect();
            try (Socket peer = listener.accept()) {
                peer.setSoTimeout((int) TimeUnit.SECONDS.toMillis(LoopTestSupport.WAIT_SECONDS));
                TcpConnection conn = get(up, "the client connection");
                byte[] filler = TcpTestSupport.streamBytes(SEED, 0, FILLER);
                assertTrue(TcpTestSupport.onLoop(loop, () -> conn.send(filler)), "the filler was accepted");

                for (int i = 0; i < ROUNDS; i++) {
                    round(loop, conn, i, loopProblem, handedOffAccepted);
                }
                assertEquals(null, loopProblem.get(), "a held loop task was not released in time");

                DataInputStream in = new DataInputStream(peer.getInputStream());
                byte[] got = new byte[FILLER];
                in.readFully(got);
                long bad = TcpTestSupport.firstMismatch(SEED, 0, ByteBuffer.wrap(got));
                assertEquals(-1, bad, "the filler differs at byte " + bad);
                List<String> order = new ArrayList<>();
                for (int i = 0; i < 2 * ROUNDS; i++) {
                    order.add((char) in.readInt() + "" + in.readInt());
                }
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < ROUNDS; i++) {
                    expected.add("A" + i);
                    expected.add("B" + i);
                }
                for (int i = 0; i < expected.size(); i++) {
                    if (!expected.get(i).equals(order.get(i))) {
                        fail("record " + i + " on the wire is " + order.get(i) + ", expected " + expected.get(i)
                                + " (each Bn is handed to the loop after An was sent); wire order: " + order);
                    }
                }
                assertEquals(ROUNDS, handedOffAccepted.size());
                assertTrue(handedOffAccepted.stream().allMatch(b -> b), "every handed-off send was accepted");
                get(client.close(), "client close");
            }
        }
    }

    /**
     * One round: L0 holds the loop while L1 and F1 are queued (one drain batch); while L1 runs, F2
     * fills the queue and L1 posts a command (to the overflow); while F1 runs, this thread sends
     * An (staged: the output is busy; the command bit joins the posted command) and hands Bn to
     * the loop (queued in the shared queue, ahead of the overflow).
     */
    private static void round(EventLoop loop, TcpConnection conn, int i, AtomicReference<Throwable> problem,
                              List<Boolean> handedOffAccepted) throws Exception {
        CountDownLatch l0In = new CountDownLatch(1);
        CountDownLatch l0Go = new CountDownLatch(1);
        CountDownLatch l1In = new CountDownLatch(1);
        CountDownLatch l1Go = new CountDownLatch(1);
        CountDownLatch f1In = new CountDownLatch(1);
        CountDownLatch f1Go = new CountDownLatch(1);
        CompletableFuture<Integer> queuedAfterPost = new CompletableFuture<>();
        CompletableFuture<Void> roundDone = new CompletableFuture<>();

        loop.execute(hold(l0In, l0Go, problem));
        LoopTestSupport.await(l0In, "L0 to hold the loop");
        loop.queueInLoop(() -> {
            hold(l1In, l1Go, problem).run();
            conn.startRead(); // a command posted by the loop into its full queue: it overflows
            queuedAfterPost.complete(loop.queueSize());
        });
        loop.queueInLoop(hold(f1In, f1Go, problem));
        l0Go.countDown();
        LoopTestSupport.await(l1In, "L1 to run");
        loop.queueInLoop(() -> { }); // F2: with F1 still queued, the queue is full
        l1Go.countDown();
        LoopTestSupport.await(f1In, "F1 to run");
        assertEquals(CAPACITY + 1, get(queuedAfterPost, "L1's post"),
                "premise: the shared queue full and the connection's command task in the loop's overflow queue");

        assertTrue(conn.send(record('A', i)), "A" + i + " accepted");
        loop.execute(() -> {
            handedOffAccepted.add(conn.send(record('B', i)));
            loop.queueInLoop(() -> roundDone.complete(null)); // behind the overflowed command
        });
        f1Go.countDown();
        get(roundDone, "round " + i + " to end on the loop");
    }

    private static Runnable hold(CountDownLatch in, CountDownLatch go, AtomicReference<Throwable> problem) {
        return () -> {
            in.countDown();
            try {
                if (!go.await(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS)) {
                    problem.compareAndSet(null, new AssertionError("a held loop task was not released"));
                }
            } catch (InterruptedException e) {
                problem.compareAndSet(null, e);
            }
        };
    }
}
