package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An echo server that sends its own input buffer ({@code conn.send(buf)}) while the output is idle
 * has the bytes written from that buffer, with no copy first; what the socket does not take is
 * staged. The stream still arrives whole and in order, the input buffer is empty after every
 * accepted send, and the queued bytes drain to zero. The peer starts reading only after the socket
 * refused part of an echo, so the staging of the rest is exercised every run.
 */
@Timeout(60)
class EchoOwnInputTest {
    private static final int CHUNK = 64 * 1024;
    /** 8 MiB: far more than the peer's socket takes while it does not read. */
    private static final int CHUNKS = 128;
    private static final int TOTAL = CHUNK * CHUNKS;
    private static final long SEED = 91;
    private static final int SO_TIMEOUT_MS = 10_000;

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void echoOfTheInputBufferArrivesWholeWhenTheSocketTakesOnlyPart(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        AtomicInteger leftInInput = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicBoolean sawQueued = new AtomicBoolean();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("echo-own-base");
            TcpServer server = TcpTestSupport.server(loops, base, "echo-own", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        up.complete(c);
                    }
                });
                s.setMessageCallback((c, buf, t) -> {
                    if (!c.send(buf)) {
                        refused.incrementAndGet();
                    }
                    if (buf.readableBytes() != 0) {
                        leftInInput.incrementAndGet();
                    }
                    if (c.queuedBytes() > 0) {
                        sawQueued.set(true);
                    }
                });
            });
            try (Socket peer = new Socket()) {
                peer.setReceiveBufferSize(32 * 1024);
                peer.connect(server.listenAddress(), SO_TIMEOUT_MS);
                peer.setSoTimeout(SO_TIMEOUT_MS);
                TcpConnection conn = get(up, "the server connection");

                CompletableFuture<Void> written = new CompletableFuture<>();
                Thread writer = new Thread(() -> {
                    try {
                        OutputStream out = peer.getOutputStream();
                        for (int i = 0; i < CHUNKS; i++) {
                            out.write(TcpTestSupport.streamBytes(SEED, (long) i * CHUNK, CHUNK));
                        }
                        written.complete(null);
                    } catch (Throwable e) {
                        written.completeExceptionally(e);
                    }
                }, "echo-own-writer");
                writer.setDaemon(true);
                writer.start();
                // Not reading until the socket has refused part of an echo; meanwhile the server,
                // its own upstream, stops reading once unwritable and TCP holds the writer.
                LoopTestSupport.awaitTrue(sawQueued::get, "a send the socket took only part of");

                TcpTestSupport.readStream(peer.getInputStream(), SEED, TOTAL);
                get(written, "the peer's writes");
                LoopTestSupport.awaitTrue(() -> conn.queuedBytes() == 0, "queuedBytes() back to 0");
                assertEquals(TOTAL, conn.bytesSent(), "bytes sent");
                assertEquals(0, refused.get(), "sends refused");
                assertEquals(0, leftInInput.get(), "accepted sends that left bytes in the input buffer");
                LoopTestSupport.join(writer);
            }
            server.close();
        }
    }
}
