package io.muduo4j.examples;

import static io.muduo4j.examples.ExampleTestSupport.ANY_LOCAL_PORT;
import static io.muduo4j.examples.ExampleTestSupport.awaitClosedByPeer;
import static io.muduo4j.examples.ExampleTestSupport.awaitTrue;
import static io.muduo4j.examples.ExampleTestSupport.connect;
import static io.muduo4j.examples.ExampleTestSupport.readLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.muduo4j.net.EventLoopThread;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Discard, daytime and chargen over loopback. */
@Timeout(60)
class ClassicServersTest {
    @Test
    void discardCountsEveryByteFromConcurrentClientsAndSendsNothing() throws Exception {
        try (EventLoopThread t = new EventLoopThread("discard")) {
            DiscardServer server = new DiscardServer(t.startLoop(), ANY_LOCAL_PORT);
            server.start();
            int perClient = 8 << 20;
            CompletableFuture<?>[] clients = new CompletableFuture<?>[2];
            for (int i = 0; i < clients.length; i++) {
                long seed = i;
                clients[i] = CompletableFuture.runAsync(() -> {
                    try (Socket s = connect(server.listenAddress())) {
                        byte[] chunk = new byte[64 * 1024];
                        new Random(seed).nextBytes(chunk);
                        OutputStream out = s.getOutputStream();
                        for (int sent = 0; sent < perClient; sent += chunk.length) {
                            out.write(chunk);
                        }
                        s.shutdownOutput();
                        assertEquals(-1, s.getInputStream().read(), "discard sends nothing, then closes after our FIN");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
            }
            CompletableFuture.allOf(clients).get(30, TimeUnit.SECONDS);
            awaitTrue(() -> server.receivedBytes() == 2L * perClient, 10, "all bytes counted");
            awaitTrue(() -> server.connectionCount() == 0, 10, "connections closed");
            assertEquals(2L * perClient, server.receivedBytes());
            server.close();
        }
    }

    @Test
    void daytimeSendsTheTimeAsOneLineThenCloses() throws Exception {
        Clock clock = Clock.fixed(Instant.parse("2026-01-01T12:34:56.789Z"), ZoneOffset.UTC);
        try (EventLoopThread t = new EventLoopThread("daytime")) {
            DaytimeServer server = new DaytimeServer(t.startLoop(), ANY_LOCAL_PORT, clock);
            server.start();
            for (int i = 0; i < 3; i++) {
                try (Socket s = connect(server.listenAddress())) {
                    assertEquals("2026-01-01T12:34:56.789Z", readLine(s));
                    assertNull(readLine(s), "end of stream after the one line");
                }
            }
            awaitTrue(() -> server.connectionCount() == 0, 10, "connections closed");
            server.close();
        }
    }

    @Test
    void chargenSendsTheRotatingPatternAndSurvivesAReaderThatLeaves() throws Exception {
        try (EventLoopThread t = new EventLoopThread("chargen")) {
            ChargenServer server = new ChargenServer(t.startLoop(), ANY_LOCAL_PORT);
            server.start();
            for (int round = 0; round < 2; round++) {
                try (Socket s = connect(server.listenAddress())) {
                    InputStream in = s.getInputStream();
                    byte[] buf = new byte[1 << 20];
                    int n = 0;
                    while (n < buf.length) {
                        int r = in.read(buf, n, buf.length - n);
                        assertTrue(r > 0, "chargen never ends the stream");
                        n += r;
                    }
                    // RFC 864: line L is 72 characters from '!' + L (mod 94 printables), then CRLF.
                    int lineLength = ChargenServer.LINE_LENGTH + 2;
                    for (int p = 0; p < n; p++) {
                        int line = p / lineLength;
                        int col = p % lineLength;
                        int expected = col == 72 ? '\r' : col == 73 ? '\n' : 33 + (line + col) % 94;
                        if (buf[p] != expected) {
                            throw new AssertionError("byte " + p + " (line " + line + ", column " + col + "): expected "
                                    + expected + ", got " + buf[p]);
                        }
                    }
                } // closed with unread data in flight: the server sees a reset or an end of stream
            }
            awaitTrue(() -> server.connectionCount() == 0, 10, "chargen connections closed after the readers left");
            long wholeBlocks = 2L * (1 << 20) - 2L * ChargenServer.block().length;
            assertTrue(server.sentBytes() >= wholeBlocks, "write-complete drove the sends: " + server.sentBytes());
            server.close();
        }
    }

    @Test
    void daytimeTellsTheSystemTimeInIso8601() throws Exception {
        try (EventLoopThread t = new EventLoopThread("daytime-linger")) {
            DaytimeServer server = new DaytimeServer(t.startLoop(), ANY_LOCAL_PORT, Clock.systemUTC());
            server.start();
            try (Socket s = connect(server.listenAddress())) {
                String line = readLine(s);
                Instant told = Instant.parse(line);
                assertTrue(Math.abs(told.toEpochMilli() - System.currentTimeMillis()) < 60_000, "now: " + line);
                assertTrue(awaitClosedByPeer(s));
            }
            server.close();
        }
    }
}
