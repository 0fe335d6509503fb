package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a {@link TcpClient#connectNow()} + {@link TcpConnection#abort()} cycle allocates, measured
 * exactly per thread, against the same cycle done with a plain blocking JDK socket in the same
 * test: on the connecting thread the JDK's socket objects plus the connection's own objects and
 * nothing else (no buffer, no task, no future: the staging buffer is only taken when the caller
 * sends before the loop registered the connection); on the loop only what the JDK's selector
 * registration and close allocate.
 */
@Timeout(60)
class ConnectNowAllocationTest {
    private static final int CYCLES = 2_000;
    private static final int ROUNDS = 6;
    private static final int RING = 64;

    /*
     * The connection's own objects (JDK 17 and 25, heap histogram): the TcpConnection 248 B (its
     * own poller handle, send lock and command task), nothing else (see ConnectionFootprintTest). Before the connection was its own handle they were 376 B: the
     * TcpConnection 232, a Channel 64, three channel callbacks 48, the command task 16, a lock
     * Object 16. The JDK's part on the loop: SelectionKeyImpl 48, the channel's key array 24, the
     * selector's key-set and descriptor-map nodes ~64, close 24: ~160 B, plus boxing of
     * descriptors above 127.
     *
     * Measured on NIO, connecting thread minus the plain JDK cycle, with the command task still a
     * 16 B object of its own: 256 B on JDK 17 (680 against 424; the JDK's part of connectNow is
     * 16 B less than the blocking cycle's there), 272 on JDK 25 (744 against 472); before the
     * connection was its own handle: 360 and 376. So on NIO the bound is the JDK's figure plus the
     * connection's 248 plus 8: any object per connection put back fails it on JDK 25, any but a
     * 16-byte one on JDK 17 (the lock, the command task and the callbacks fail
     * ConnectionFootprintTest anyway). Without the command task: 656 on JDK 17 (232 over the JDK's 424).
     * On epoll (JDK 25) connectNow costs no JDK socket object and the caller's figure drifts with
     * the C2 warm-up of the FFM calls (the errno capture's slices of the colder calls), from
     * ~550-590 B in the first round to 288-413 in the last, of which the connection is 248; the
     * loop's part falls from ~190-290 to 1-21. There the bound only catches a gross regression.
     */
    static final double OWN_OBJECTS = 248;
    static final double SLACK = 8;
    static final double EPOLL_SLACK = 64;
    static final double LOOP_BOUND = 160 + 64;

    @Test
    void connectNowAllocatesTheJdkSocketAndTheConnectionOnly() throws Exception {
        AllocationWindows.enableCounting();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("cna-server");
            EventLoop clientLoop = loops.start("cna-client");
            TcpServer server = TcpTestSupport.server(loops, base, "cna", 1, s -> { });
            InetSocketAddress address = server.listenAddress();
            long me = Thread.currentThread().getId();
            long loopTid = LoopTestSupport.loopThread(clientLoop).getId();
            TcpClient[] ring = new TcpClient[RING];
            for (int i = 0; i < RING; i++) {
                ring[i] = new TcpClient(clientLoop, address, "cna-" + i);
            }

            double jdk = Double.MAX_VALUE;
            double caller = Double.MAX_VALUE;
            double loop = Double.MAX_VALUE;
            StringBuilder report = new StringBuilder();
            for (int round = 0; round < ROUNDS; round++) {
                long j0 = AllocationWindows.MX.getThreadAllocatedBytes(me);
                for (int i = 0; i < CYCLES; i++) {
                    try (SocketChannel s = SocketChannel.open(StandardProtocolFamily.INET)) {
                        s.connect(address);
                        s.setOption(StandardSocketOptions.TCP_NODELAY, true);
                        s.setOption(StandardSocketOptions.SO_LINGER, 0);
                    }
                }
                long j1 = AllocationWindows.MX.getThreadAllocatedBytes(me);

                long c0 = AllocationWindows.MX.getThreadAllocatedBytes(me);
                long l0 = AllocationWindows.MX.getThreadAllocatedBytes(loopTid);
                for (int i = 0; i < CYCLES; i++) {
                    TcpClient c = ring[i % RING];
                    while (c.connection() != null) {
                        Thread.onSpinWait(); // the loop has not closed this client's last connection yet
                    }
                    c.connectNow().abort();
                }
                for (TcpClient c : ring) {
                    while (c.connection() != null) {
                        Thread.onSpinWait();
                    }
                }
                LoopTestSupport.runIterations(clientLoop, 2); // destroys run a turn after the close
                long c1 = AllocationWindows.MX.getThreadAllocatedBytes(me);
                long l1 = AllocationWindows.MX.getThreadAllocatedBytes(loopTid);

                double j = (j1 - j0) / (double) CYCLES;
                double c = (c1 - c0) / (double) CYCLES;
                double l = (l1 - l0) / (double) CYCLES;
                report.append(String.format("round %d: JDK %.1f, connectNow caller %.1f, loop %.1f B/cycle; ", round, j, c, l));
                if (round >= 2) { // the first rounds warm up the JIT and fill the loop's buffer pool
                    jdk = Math.min(jdk, j);
                    caller = Math.max(caller == Double.MAX_VALUE ? 0 : caller, c);
                    loop = Math.max(loop == Double.MAX_VALUE ? 0 : loop, l);
                }
            }
            System.out.println("[ConnectNowAllocationTest] " + report);
            for (TcpClient c : ring) {
                TcpTestSupport.get(c.close(), "client close");
            }
            server.close();
            double slack = clientLoop.transport() == Transport.EPOLL ? EPOLL_SLACK : SLACK;
            assertTrue(caller <= jdk + OWN_OBJECTS + slack, "connecting thread: " + caller + " B per cycle against the"
                    + " JDK's " + jdk + " plus the connection's " + OWN_OBJECTS + " (" + report + ")");
            assertTrue(loop <= LOOP_BOUND, "client loop: " + loop + " B per cycle (" + report + ")");
        }
    }
}
