package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.*;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class TcpSmokeTest {
    @Test
    void echoRoundTrip() throws Exception {
        try (EventLoopThread st = new EventLoopThread("srv"); EventLoopThread ct = new EventLoopThread("cli")) {
            EventLoop sl = st.startLoop();
            EventLoop cl = ct.startLoop();
            TcpServer server = new TcpServer(sl, new InetSocketAddress("127.0.0.1", 0), "echo");
            server.setThreadNum(1);
            server.setMessageCallback((c, b, t) -> c.send(b));
            server.start();
            CompletableFuture<String> got = new CompletableFuture<>();
            TcpClient client = new TcpClient(cl, server.listenAddress(), "c");
            client.setConnectionCallback(c -> { if (c.connected()) c.send("hello".getBytes(StandardCharsets.UTF_8)); });
            client.setMessageCallback((c, b, t) -> { if (b.readableBytes() >= 5) got.complete(b.retrieveAllAsString(StandardCharsets.UTF_8)); });
            client.connect();
            assertEquals("hello", got.get(5, TimeUnit.SECONDS));
            // cross-thread send
            CountDownLatch second = new CountDownLatch(1);
            client.setMessageCallback((c, b, t) -> { b.retrieveAll(); second.countDown(); });
            client.connection().send(new byte[]{1, 2, 3});
            client.close().get(5, TimeUnit.SECONDS);
            server.close();
            assertEquals(0, server.connectionCount());
        }
    }
}
