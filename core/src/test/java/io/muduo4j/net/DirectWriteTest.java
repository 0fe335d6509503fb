package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A send from another thread while the connection's output is idle is written by that thread
 * itself: the loop is not woken, and the bytes still arrive whole and in order.
 */
@Timeout(30)
class DirectWriteTest {
    @Test
    void idleOutputIsWrittenByTheSenderWithoutWakingTheLoop() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open();
             EventLoopThread t = new EventLoopThread("direct-write")) {
            listener.bind(new InetSocketAddress("127.0.0.1", 0));
            EventLoop loop = t.startLoop();
            CompletableFuture<TcpConnection> up = new CompletableFuture<>();
            TcpClient client = new TcpClient(loop, (InetSocketAddress) listener.getLocalAddress(), "direct");
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                }
            });
            client.connect();
            try (SocketChannel peer = listener.accept()) {
                TcpConnection conn = up.get(5, TimeUnit.SECONDS);
                LoopTestSupport.awaitSleeping(loop);
                long wakeupsBefore = loop.wakeupCount();
                int messages = 1000;
                for (int i = 0; i < messages; i++) {
                    assertTrue(conn.send(new byte[] {(byte) i, (byte) (i >> 8)}));
                }
                ByteBuffer in = ByteBuffer.allocate(2 * messages);
                while (in.hasRemaining()) {
                    assertTrue(peer.read(in) >= 0, "peer saw EOF");
                }
                in.flip();
                for (int i = 0; i < messages; i++) {
                    assertEquals((byte) i, in.get());
                    assertEquals((byte) (i >> 8), in.get());
                }
                assertEquals(wakeupsBefore, loop.wakeupCount(), "the loop was woken for idle-output sends");
                assertEquals(2L * messages, conn.bytesSent());
            }
            client.close().get(5, TimeUnit.SECONDS);
        }
    }
}
