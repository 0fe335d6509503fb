package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link TcpServer#close()} after its base loop has already ended (the loop quit first, as when a
 * program's main loop returns and then tears down): the server still closes every connection (the
 * peers see EOF), its I/O threads end and no descriptor stays open. It used to complete at once
 * with the I/O threads running and the connections open.
 */
@Timeout(30)
class ServerCloseAfterLoopEndedTest {
    private static final int CONNECTIONS = 6;

    static List<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            a.add(Arguments.of(m, 0));
            a.add(Arguments.of(m, 2));
        }
        return a;
    }

    private static boolean threadAlive(String prefix) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(prefix) && t.isAlive()) {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest(name = "{0}, {1} I/O threads")
    @MethodSource("cases")
    void closeAfterTheBaseLoopEndedStillClosesConnectionsAndIoThreads(EventLoop.WaitMode mode, int ioThreads)
            throws Exception {
        String name = "ended-" + mode + "-" + ioThreads;
        TcpTestSupport.warmUpDescriptors();
        int fdsBefore = TcpTestSupport.openFds();
        List<Socket> peers = new ArrayList<>();
        try {
            TcpServer server;
            try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
                EventLoop base = loops.start(name + "-base");
                server = TcpTestSupport.server(loops, base, name, ioThreads, s ->
                        s.setMessageCallback((c, b, t) -> c.send(b)));
                for (int i = 0; i < CONNECTIONS; i++) {
                    Socket p = new Socket();
                    peers.add(p);
                    p.connect(server.listenAddress(), 5000);
                    p.setSoTimeout(5000);
                    p.getOutputStream().write(i);
                    assertEquals(i, p.getInputStream().read(), "echo on connection " + i);
                }
                assertEquals(CONNECTIONS, server.connectionCount());
            } // the base loop ends here, the server still open
            server.close();
            for (int i = 0; i < CONNECTIONS; i++) {
                assertEquals(-1, peers.get(i).getInputStream().read(), "connection " + i + " not closed by the server");
            }
            assertFalse(threadAlive(name + "-io-"), "an I/O thread outlived close()");
            assertEquals(0, server.connectionCount(), "connections after close()");
        } finally {
            for (Socket p : peers) {
                p.close();
            }
        }
        TcpTestSupport.awaitAtMost(TcpTestSupport::openFds, fdsBefore, "descriptors after close()");
    }
}
