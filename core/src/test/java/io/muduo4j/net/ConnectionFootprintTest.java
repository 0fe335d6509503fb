package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;
import java.nio.channels.SelectionKey;
import org.junit.jupiter.api.Test;

/**
 * What one connection object costs, exactly: the bytes {@code new TcpConnection(...)} allocates,
 * which is all an accept or a connect allocates of the library's own (the connection is its own
 * poller handle and its own send lock). The whole-cycle tests ({@link TcpZeroAllocationTest},
 * {@link ConnectNowAllocationTest}) bound the rest, JDK objects included, less exactly.
 */
class ConnectionFootprintTest {
    private static final int N = 20_000;
    private static final int ROUNDS = 8;

    /*
     * JDK 17 and JDK 25, default object layout (12-byte headers, compressed oops and class
     * pointers), heap histogram: TcpConnection 248 B (its Pollable fields included), and nothing
     * else: it queues itself for its commands (EventLoop.queueCommands) and is its own send lock.
     * Before the connection was its own handle: TcpConnection 232 + Channel 64 + three channel
     * callbacks 48 + the command task 16 + a lock Object 16 = 376.
     */
    static final long CONNECTION_BYTES = 248;

    @Test
    void aConnectionIsOneObject() throws Exception {
        assumeDefaultObjectLayout();
        AllocationWindows.enableCounting();
        long me = Thread.currentThread().getId();
        TcpConnection[] keep = new TcpConnection[N];
        double best = Double.MAX_VALUE;
        StringBuilder report = new StringBuilder();
        try (EventLoop loop = new EventLoop()) {
            for (int r = 0; r < ROUNDS; r++) {
                long b0 = AllocationWindows.MX.getThreadAllocatedBytes(me);
                for (int i = 0; i < N; i++) {
                    keep[i] = new TcpConnection(loop, i, "fp");
                }
                long b1 = AllocationWindows.MX.getThreadAllocatedBytes(me);
                double perConnection = (b1 - b0) / (double) N;
                report.append(String.format("%.2f ", perConnection));
                best = Math.min(best, perConnection);
            }
            assertSame(loop, keep[N - 1].loop());
        }
        System.out.println("[ConnectionFootprintTest] B per new TcpConnection, by round: " + report);
        // The best round, rounded down: a compile request or a class's string literals resolved on
        // this thread add a few bytes to a round, never 16 per connection.
        assertEquals(CONNECTION_BYTES, (long) best,
                "bytes per connection object (TcpConnection 248 expected; a lock, a command task, a"
                        + " Channel or a callback object per connection would add 16 to 64): " + report);
    }

    @Test
    void aNewConnectionHoldsNoSocketAndWantsNothing() throws Exception {
        try (EventLoop loop = new EventLoop()) {
            TcpConnection c = new TcpConnection(loop, 1, "fp");
            assertEquals(-1, c.fd, "descriptor of a connection made ahead of its socket");
            assertEquals(null, c.selectable, "NIO socket of a connection made ahead of its socket");
            assertEquals(0, c.interest(), "interest of a new connection");
            assertEquals(SelectionKey.OP_READ, c.readOp(), "a connection's read bit");
            assertEquals(false, loop.poller().isOpen(c), "a new connection's socket is open");
            assertEquals(TcpConnection.State.CONNECTING, c.state());
        }
    }

    /** The figures above hold for the default layout only (compact headers or uncompressed oops change them). */
    private static void assumeDefaultObjectLayout() {
        HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        assumeTrue(flag(hs, "UseCompressedOops", true) && flag(hs, "UseCompressedClassPointers", true)
                && !flag(hs, "UseCompactObjectHeaders", false), "not the default object layout");
    }

    private static boolean flag(HotSpotDiagnosticMXBean hs, String name, boolean absent) {
        try {
            VMOption o = hs.getVMOption(name);
            return Boolean.parseBoolean(o.getValue());
        } catch (IllegalArgumentException e) {
            return absent;
        }
    }
}
