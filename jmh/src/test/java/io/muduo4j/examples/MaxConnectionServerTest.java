package io.muduo4j.examples;

import static io.muduo4j.examples.ExampleTestSupport.ANY_LOCAL_PORT;
import static io.muduo4j.examples.ExampleTestSupport.assertEchoes;
import static io.muduo4j.examples.ExampleTestSupport.awaitClosedByPeer;
import static io.muduo4j.examples.ExampleTestSupport.awaitTrue;
import static io.muduo4j.examples.ExampleTestSupport.connect;
import static io.muduo4j.examples.ExampleTestSupport.readLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.muduo4j.net.EventLoopThread;
import java.net.Socket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Connections past the limit get a notice and are closed at once; the limit frees up as clients leave. */
@Timeout(60)
class MaxConnectionServerTest {
    private static void assertTurnedAway(Socket s) throws Exception {
        String notice = readLine(s);
        assertTrue(notice != null && notice.startsWith("too many connections: this server serves 2 at once"),
                "the notice: " + notice);
        assertTrue(awaitClosedByPeer(s), "closed right after the notice");
    }

    @Test
    void connectionsPastTheLimitAreTurnedAwayPolitely() throws Exception {
        try (EventLoopThread t = new EventLoopThread("max-connection")) {
            MaxConnectionServer server = new MaxConnectionServer(t.startLoop(), ANY_LOCAL_PORT, 2, 2);
            server.start();
            Socket a = connect(server.listenAddress());
            try (Socket b = connect(server.listenAddress())) {
                assertEchoes(a, "a"); // an echo proves the server has counted the connection
                assertEchoes(b, "b");
                try (Socket c = connect(server.listenAddress())) {
                    assertTurnedAway(c);
                }
                assertEquals(1, server.rejectedCount());
                assertEquals(2, server.servedCount(), "a turned-away connection does not count");
                assertEchoes(a, "a is still served");

                a.close();
                awaitTrue(() -> server.servedCount() == 1, 10, "the server noticed a left");
                try (Socket d = connect(server.listenAddress())) {
                    assertEchoes(d, "d takes a's place");
                    try (Socket e = connect(server.listenAddress())) {
                        assertTurnedAway(e);
                    }
                    assertEchoes(b, "b is still served");
                }
            } finally {
                a.close();
            }
            assertEquals(2, server.rejectedCount());
            awaitTrue(() -> server.servedCount() == 0 && server.connectionCount() == 0, 10, "all gone");
            server.close();
        }
    }

    @Test
    void aLimitOfZeroTurnsEveryoneAway() throws Exception {
        try (EventLoopThread t = new EventLoopThread("max-connection")) {
            MaxConnectionServer server = new MaxConnectionServer(t.startLoop(), ANY_LOCAL_PORT, 0, 0);
            server.start();
            for (int i = 0; i < 5; i++) {
                try (Socket s = connect(server.listenAddress())) {
                    String notice = readLine(s);
                    assertTrue(notice != null && notice.startsWith("too many connections"), "notice: " + notice);
                    assertTrue(awaitClosedByPeer(s));
                }
            }
            assertEquals(5, server.rejectedCount());
            assertEquals(0, server.servedCount());
            server.close();
        }
    }
}
