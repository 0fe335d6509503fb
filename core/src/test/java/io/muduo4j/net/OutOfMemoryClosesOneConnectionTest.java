package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Direct memory exhausted while one connection's input buffer or output buffer grows: that
 * connection is closed with the {@link OutOfMemoryError} as its close cause, the send that could
 * not be queued is refused, and the loop goes on serving the others (a child JVM with
 * {@code -XX:MaxDirectMemorySize=32m}, see {@link DirectMemoryEchoServerMain}).
 */
@Timeout(120)
class OutOfMemoryClosesOneConnectionTest {
    @Test
    void theHogIsClosedWithTheErrorAndTheLoopServesTheOthers() throws Exception {
        try (ChildJvm child = new ChildJvm(DirectMemoryEchoServerMain.class, 1024,
                "-Xmx256m -XX:MaxDirectMemorySize=32m")) {
            String portLine = child.readLine(30, "PORT line");
            assertTrue(portLine.startsWith("PORT "), portLine);
            InetSocketAddress addr = new InetSocketAddress("127.0.0.1", Integer.parseInt(portLine.substring(5)));
            try (SocketChannel good = SocketChannel.open(addr)) {
                TcpTestSupport.assertEchoes(good, "before");
                try (SocketChannel hog = SocketChannel.open(addr)) {
                    // 'H', then up to 256 MiB that the server keeps but never consumes.
                    ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
                    chunk.put(0, (byte) 'H');
                    long sent = 0;
                    boolean closedByServer = false;
                    while (sent < 256L << 20) {
                        chunk.clear();
                        try {
                            while (chunk.hasRemaining()) {
                                sent += hog.write(chunk);
                            }
                        } catch (IOException e) {
                            closedByServer = true; // reset: the server closed the hog
                            break;
                        }
                        chunk.put(0, (byte) 'x');
                    }
                    String closed = child.readLine(30, "the hog's CLOSED line");
                    assertTrue(closed.startsWith("CLOSED java.lang.OutOfMemoryError"), closed);
                    assertTrue(closedByServer || sent >= 256L << 20, "sent " + sent);
                }
                TcpTestSupport.assertEchoes(good, "after the hog");
                try (SocketChannel sink = SocketChannel.open(addr)) {
                    sink.write(ByteBuffer.wrap(new byte[] {'S'})); // then never reads
                    String refused = child.readLine(30, "the sink's SINK line");
                    assertTrue(refused.startsWith("SINK refused after "), refused);
                    int mib = Integer.parseInt(refused.replaceAll("\\D+", ""));
                    assertTrue(mib > 0 && mib < 64, "refused after " + mib + " MiB with 32 MiB of direct memory");
                    String closed = child.readLine(30, "the sink's CLOSED line");
                    assertTrue(closed.startsWith("CLOSED java.lang.OutOfMemoryError"), closed);
                }
                TcpTestSupport.assertEchoes(good, "after the sink");
            }
            try (SocketChannel fresh = SocketChannel.open(addr)) {
                TcpTestSupport.assertEchoes(fresh, "a new connection");
            }
            assertTrue(child.process().isAlive(), child.info());
        }
    }
}
