package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link TcpServer#listenAddress()} is the address bound at {@link TcpServer#start()}, kept: it
 * never asks the listening socket again, so once the server has stopped it still answers with
 * that address, and never with the address of another socket that took over the listener's
 * descriptor number. (It used to ask the socket on every call, from any thread: after the stop
 * that failed, or read whichever socket had the number by then.)
 */
@Timeout(30)
class ListenAddressAfterStopTest {
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void theBoundAddressOutlivesTheListener(EventLoop.WaitMode mode) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("listen-addr-base");
            TcpServer unstarted = new TcpServer(base, TcpTestSupport.ANY_LOCAL_PORT, "listen-addr-unstarted");
            assertThrows(IllegalStateException.class, unstarted::listenAddress, "before start()");

            TcpServer server = TcpTestSupport.server(loops, base, "listen-addr", 1, s -> { });
            InetSocketAddress bound = server.listenAddress();
            assertNotEquals(0, bound.getPort(), "the real port, not the 0 asked for");
            server.close();
            assertEquals(bound, server.listenAddress(), "after stop()");

            // Listeners that may take the closed listener's descriptor number.
            List<ServerSocketChannel> others = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    ServerSocketChannel o = ServerSocketChannel.open();
                    others.add(o);
                    o.bind(TcpTestSupport.ANY_LOCAL_PORT);
                }
                assertEquals(bound, server.listenAddress(), "with other listeners open after the stop");
            } finally {
                for (ServerSocketChannel o : others) {
                    o.close();
                }
            }
        }
    }
}
