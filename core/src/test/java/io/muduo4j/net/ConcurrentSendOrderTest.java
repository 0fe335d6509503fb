package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Eight threads send framed records over one client connection at once, through all the
 * {@code send} variants, while the connection's own loop sends too. The server checks every
 * record: its frame is intact (length, sender, sequence number and a payload derived from both,
 * so a record torn by another thread's bytes is caught) and each sender's sequence numbers arrive
 * in order, without gaps.
 */
@Timeout(60)
class ConcurrentSendOrderTest {
    private static final int THREADS = 8;
    private static final int RECORDS = 4000;
    private static final int HEADER = 12;
    /** Sender id of the records sent on the connection's own loop. */
    private static final int LOOP_SENDER = THREADS;

    static int recordLength(int sender, int seq) {
        return HEADER + ((seq * 131 + sender * 977) % 3000);
    }

    static byte payloadByte(int sender, int seq, int i) {
        return (byte) (sender * 31 + seq * 7 + i);
    }

    static byte[] record(int sender, int seq) {
        int len = recordLength(sender, seq);
        ByteBuffer b = ByteBuffer.allocate(len);
        b.putInt(len).putInt(sender).putInt(seq);
        for (int i = HEADER; i < len; i++) {
            b.put(payloadByte(sender, seq, i));
        }
        return b.array();
    }

    /** Sends record {@code seq} with one of the send variants, chosen by {@code seq}. */
    static boolean send(TcpConnection c, int sender, int seq, Buffer scratch) {
        byte[] r = record(sender, seq);
        switch (seq % 5) {
            case 0:
                return c.send(r);
            case 1: {
                byte[] padded = new byte[r.length + 20];
                System.arraycopy(r, 0, padded, 7, r.length);
                return c.send(padded, 7, r.length);
            }
            case 2:
                return c.send(ByteBuffer.wrap(r));
            case 3: {
                ByteBuffer d = ByteBuffer.allocateDirect(r.length);
                d.put(r).flip();
                return c.send(d);
            }
            default:
                scratch.append(r);
                return c.send(scratch);
        }
    }

    /** Server side: parses records, checks each, counts them. Loop thread only. */
    static final class Checker {
        final int[] next = new int[THREADS + 1];
        final CompletableFuture<Integer> done = new CompletableFuture<>();
        int total;

        void onMessage(Buffer b) {
            while (b.readableBytes() >= HEADER && b.readableBytes() >= b.peekInt32()) {
                int len = b.readInt32();
                int sender = b.readInt32();
                int seq = b.readInt32();
                if (sender < 0 || sender > THREADS || len != recordLength(sender, seq)) {
                    fail("torn record: len " + len + ", sender " + sender + ", seq " + seq);
                    return;
                }
                if (seq != next[sender]) {
                    fail("sender " + sender + ": seq " + seq + " after " + (next[sender] - 1));
                    return;
                }
                for (int i = HEADER; i < len; i++) {
                    if (b.getByte(i - HEADER) != payloadByte(sender, seq, i)) {
                        fail("sender " + sender + " seq " + seq + ": payload torn at byte " + i);
                        return;
                    }
                }
                b.retrieve(len - HEADER);
                next[sender]++;
                if (++total == (THREADS + 1) * RECORDS) {
                    done.complete(total);
                }
            }
        }

        private void fail(String why) {
            done.completeExceptionally(new AssertionError(why));
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void perThreadOrderIsKeptAndNoRecordIsTorn(EventLoop.WaitMode mode) throws Exception {
        Checker checker = new Checker();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("order-base");
            EventLoop clientLoop = loops.start("order-client");
            TcpServer server = TcpTestSupport.server(loops, base, "order", 1, s ->
                    s.setMessageCallback((c, b, t) -> checker.onMessage(b)));
            CompletableFuture<TcpConnection> up = new CompletableFuture<>();
            TcpClient client = new TcpClient(clientLoop, server.listenAddress(), "order-client");
            client.setOutputLimit(Long.MAX_VALUE, null); // producers that ignore writability: this tests order only
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                }
            });
            client.connect();
            TcpConnection conn = get(up, "connection");

            CyclicBarrier start = new CyclicBarrier(THREADS + 1);
            List<CompletableFuture<Void>> senders = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int sender = t;
                CompletableFuture<Void> f = new CompletableFuture<>();
                senders.add(f);
                Thread th = new Thread(() -> {
                    try {
                        Buffer scratch = new Buffer();
                        start.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                        for (int seq = 0; seq < RECORDS; seq++) {
                            assertTrue(send(conn, sender, seq, scratch), "send refused");
                        }
                        f.complete(null);
                    } catch (Throwable e) {
                        f.completeExceptionally(e);
                    }
                }, "order-sender-" + t);
                th.setDaemon(true);
                th.start();
            }
            // The loop's own sender: one record per task, interleaved with the flushes of the others.
            CompletableFuture<Void> loopSender = new CompletableFuture<>();
            Buffer loopScratch = new Buffer();
            Runnable loopSend = new Runnable() {
                int seq;

                @Override
                public void run() {
                    if (!send(conn, LOOP_SENDER, seq, loopScratch)) {
                        loopSender.completeExceptionally(new AssertionError("in-loop send refused"));
                    } else if (++seq == RECORDS) {
                        loopSender.complete(null);
                    } else {
                        clientLoop.queueInLoop(this);
                    }
                }
            };
            start.await(TcpTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
            clientLoop.queueInLoop(loopSend);
            for (CompletableFuture<Void> f : senders) {
                get(f, "a sender thread");
            }
            get(loopSender, "the loop's sender");
            assertEquals((THREADS + 1) * RECORDS, (int) get(checker.done, 30, "all records at the server"));
            get(client.close(), "client close");
            server.close();
        }
    }
}
