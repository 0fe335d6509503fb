package io.muduo4j.examples;

import static io.muduo4j.examples.ExampleTestSupport.ANY_LOCAL_PORT;
import static io.muduo4j.examples.ExampleTestSupport.assertEchoes;
import static io.muduo4j.examples.ExampleTestSupport.awaitClosedByPeer;
import static io.muduo4j.examples.ExampleTestSupport.awaitTrue;
import static io.muduo4j.examples.ExampleTestSupport.connect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.muduo4j.net.EventLoopThread;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Idle connections are closed after the idle time, busy ones are not, with one timer per loop. */
@Timeout(60)
class IdleEchoServerTest {
    private static final long IDLE_MS = 1000;
    private static final int TICKS = 4; // so a connection is closed 1.00 to 1.25 s after its last message

    /** Milliseconds from now until the server closes {@code s} (fails if it sends instead). */
    private static CompletableFuture<Long> closedAfter(Socket s, long sinceNanos) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                assertTrue(awaitClosedByPeer(s));
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void silentConnectionsAreClosedAfterTheIdleTimeAndBusyOnesAreNot() throws Exception {
        try (EventLoopThread t = new EventLoopThread("idle-echo")) {
            IdleEchoServer server = new IdleEchoServer(t.startLoop(), ANY_LOCAL_PORT, 2, IDLE_MS, TICKS);
            server.start();
            try (Socket silent = connect(server.listenAddress()); Socket busy = connect(server.listenAddress())) {
                long silentSince = System.nanoTime(); // the server saw it connect no earlier than this
                CompletableFuture<Long> silentClosed = closedAfter(silent, silentSince);

                // The busy client talks every 200 ms for 2.5 s: well past the idle time in total.
                long busyUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2500);
                int round = 0;
                while (System.nanoTime() < busyUntil) {
                    assertEchoes(busy, "still here " + round++);
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // pacing, not synchronisation
                }
                assertTrue(silentClosed.isDone(), "the silent connection was closed while the busy one talked");
                long silentMs = silentClosed.get();
                assertTrue(silentMs >= IDLE_MS - 50, "not closed before the idle time: " + silentMs + " ms");
                assertTrue(silentMs <= IDLE_MS + IDLE_MS / TICKS + 1000, "closed soon after the idle time: " + silentMs + " ms");
                assertEquals(1, server.kickedCount());

                long lastMessage = System.nanoTime();
                assertEchoes(busy, "last words");
                CompletableFuture<Long> busyClosed = closedAfter(busy, lastMessage);
                long busyMs = busyClosed.get(10, TimeUnit.SECONDS);
                assertTrue(busyMs >= IDLE_MS - 50, "busy one closed once silent, not before: " + busyMs + " ms");
                assertTrue(busyMs <= IDLE_MS + IDLE_MS / TICKS + 1000, "and soon after: " + busyMs + " ms");
                assertEquals(2, server.kickedCount());
                System.out.printf("idle %d ms, %d ticks: silent closed after %d ms, busy after %d ms of silence%n",
                        IDLE_MS, TICKS, silentMs, busyMs);
            }
            awaitTrue(() -> server.connectionCount() == 0, 10, "kicked connections gone");
            server.close();
        }
    }

    @Test
    void aConnectionThatLeavesItselfIsForgottenByTheWheel() throws Exception {
        try (EventLoopThread t = new EventLoopThread("idle-echo")) {
            IdleEchoServer server = new IdleEchoServer(t.startLoop(), ANY_LOCAL_PORT, 0, IDLE_MS, TICKS);
            server.start();
            for (int i = 0; i < 20; i++) {
                try (Socket s = connect(server.listenAddress())) {
                    assertEchoes(s, "hi " + i);
                }
            }
            awaitTrue(() -> server.connectionCount() == 0, 10, "clients gone");
            try (Socket s = connect(server.listenAddress())) {
                assertTrue(awaitClosedByPeer(s), "the wheel still kicks");
            }
            assertEquals(1, server.kickedCount(), "only the last one was kicked: the others were removed when they left");
            server.close();
        }
    }
}
