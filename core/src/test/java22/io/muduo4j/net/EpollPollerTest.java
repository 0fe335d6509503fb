package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The epoll poller's own rules, on a loop bound to the test thread and polled by hand: lazy
 * disarming and deregistration (and what undoes them), events of closed descriptors, and the
 * socket calls against a JDK peer.
 */
@Timeout(30)
class EpollPollerTest {
    private static final long WAIT_MS = 5_000;

    private EventLoop loop;
    private Poller poller;
    private ServerSocket server;
    private Socket peer;

    /** A test body; it runs on one thread with the loop, which JUnit's timeout threads would not give set-up methods. */
    @FunctionalInterface
    private interface Body {
        void run() throws Exception;
    }

    private final java.util.List<Channel> opened = new java.util.ArrayList<>();

    private void withLoop(Body body) throws Exception {
        assertTrue(Transport.EPOLL.isAvailable(), Transport::unavailableReason);
        loop = new EventLoop(EventLoopOptions.blocking().transport(Transport.EPOLL).name("epoll-poller-test"));
        try {
            poller = loop.poller();
            assertEquals(Transport.EPOLL, poller.transport());
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            body.run();
        } finally {
            for (Channel ch : opened) {
                if (poller.isOpen(ch)) {
                    ch.detach();
                    poller.close(ch);
                }
            }
            if (peer != null) {
                peer.close();
            }
            if (server != null) {
                server.close();
            }
            loop.close();
        }
    }

    /** A channel connected to a JDK socket (now {@link #peer}) through the poller's own calls. */
    private Channel connected() throws IOException {
        InetSocketAddress addr = (InetSocketAddress) server.getLocalSocketAddress();
        Channel ch = new Channel(loop);
        poller.open(ch, addr);
        opened.add(ch);
        boolean done = poller.connect(ch, addr);
        peer = server.accept(); // the handshake is over once the backlog has the connection
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!done) {
            assertTrue(System.nanoTime() < deadline, "connect did not finish");
            done = poller.finishConnect(ch, addr);
        }
        assertFalse(poller.isSelfConnected(ch, addr));
        assertEquals(peer.getLocalSocketAddress(), poller.remoteAddress(ch));
        assertEquals(peer.getRemoteSocketAddress(), poller.localAddress(ch));
        return ch;
    }

    /** Polls until {@code done} holds (each poll blocks until an event or 100 ms). */
    private void pollUntil(BooleanSupplier done, String what) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            poller.poll(100);
        }
    }

    @Test
    void disablingEverythingIsLazyAndTheFirstUnwantedEventDisarms() throws Exception {
        withLoop(() -> {
            Channel ch = connected();
            AtomicInteger reads = new AtomicInteger();
            ch.setReadCallback(reads::incrementAndGet);
            ch.enableReading();
            peer.getOutputStream().write(1);
            pollUntil(() -> reads.get() == 1, "the first read event");

            ch.disableAll(); // the byte stays unread: the descriptor stays readable
            assertNotEquals(0, ch.armed, "disabling everything made a system call");
            pollUntil(() -> ch.armed == 0, "the unwanted event to disarm the descriptor");
            assertEquals(1, reads.get(), "an event reached a channel that wants none");
            assertEquals(0, poller.pollNow(), "a disarmed descriptor still reported");

            ch.enableReading();
            pollUntil(() -> reads.get() == 2, "the read event after enabling again");
        });
    }

    @Test
    void aLazilyRemovedDescriptorIsTakenOutByItsNextEventAndCanRegisterAgain() throws Exception {
        withLoop(() -> {
            Channel ch = connected();
            AtomicInteger reads = new AtomicInteger();
            ch.setReadCallback(reads::incrementAndGet);
            ch.enableReading();
            ch.remove(); // lazy: still in the kernel's set
            peer.getOutputStream().write(1);
            poller.poll(200); // reports it for a channel it no longer has: deleted from the set
            assertEquals(0, reads.get(), "an event reached a removed channel");
            assertEquals(0, poller.pollNow(), "a removed descriptor still reported");

            ch.enableReading(); // a plain add again
            pollUntil(() -> reads.get() == 1, "the read event after registering again");

            ch.remove();
            ch.enableReading(); // still in the set (no event since): the add finds it there and modifies
            pollUntil(() -> reads.get() == 2, "the read event after registering over a lazy removal");
        });
    }

    @Test
    void aClosedDescriptorsEventsGoNowhereAndItsNumberServesTheNextSocket() throws Exception {
        withLoop(() -> {
            Channel first = connected();
            AtomicInteger firstReads = new AtomicInteger();
            first.setReadCallback(firstReads::incrementAndGet);
            first.enableReading();
            int number = first.fd;
            peer.getOutputStream().write(1);
            first.detach();
            poller.close(first);
            assertFalse(poller.isOpen(first));
            assertThrows(IOException.class, () -> poller.write(first, new Buffer()));
            peer.close();
            peer = null;

            Channel second = connected(); // the lowest free number: usually the one just closed
            AtomicInteger secondReads = new AtomicInteger();
            second.setReadCallback(secondReads::incrementAndGet);
            second.enableReading();
            poller.pollNow();
            assertEquals(0, firstReads.get(), "an event reached the closed channel");
            peer.getOutputStream().write(2);
            pollUntil(() -> secondReads.get() == 1, "the new socket's read event"
                    + (second.fd == number ? " (on the reused number " + number + ")" : ""));
            assertEquals(0, firstReads.get(), "the closed channel got an event");
            Buffer in = new Buffer();
            assertEquals(1, poller.read(second, in, java.nio.ByteBuffer.allocateDirect(64 * 1024)));
            assertEquals(2, in.readInt8());
        });
    }

    @Test
    void writesReadsShutdownAndEndOfStream() throws Exception {
        withLoop(() -> {
            Channel ch = connected();
            Buffer out = new Buffer();
            out.append("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertEquals(5, poller.write(ch, out));
            assertEquals(0, out.readableBytes(), "written bytes not retrieved");
            byte[] got = peer.getInputStream().readNBytes(5);
            assertEquals("hello", new String(got, java.nio.charset.StandardCharsets.US_ASCII));

            java.nio.ByteBuffer scratch = java.nio.ByteBuffer.allocateDirect(64 * 1024);
            Buffer in = new Buffer(16);
            assertEquals(0, poller.read(ch, in, scratch), "nothing to read is 0, not an error");
            byte[] big = new byte[100_000];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) (i * 7);
            }
            peer.getOutputStream().write(big);
            AtomicInteger reads = new AtomicInteger();
            ch.setReadCallback(() -> {
                try {
                    if (poller.read(ch, in, scratch) > 0) {
                        reads.incrementAndGet();
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            ch.enableReading();
            pollUntil(() -> in.readableBytes() == big.length, "100000 bytes through the tail and the scratch");
            for (int i = 0; i < big.length; i++) {
                assertEquals(big[i], in.readInt8(), "byte " + i);
            }

            poller.shutdownOutput(ch);
            assertEquals(-1, peer.getInputStream().read(), "no FIN after shutdownOutput");
            peer.shutdownOutput();
            ch.disableAll();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
            int r;
            while ((r = poller.read(ch, in, scratch)) == 0) {
                assertTrue(System.nanoTime() < deadline, "no end of stream");
                Thread.onSpinWait();
            }
            assertEquals(-1, r, "end of stream");
        });
    }

    @Test
    void aRefusedConnectFailsWithConnectException() throws Exception {
        withLoop(() -> {
            InetSocketAddress addr = (InetSocketAddress) server.getLocalSocketAddress();
            server.close();
            Channel ch = new Channel(loop);
            poller.open(ch, addr);
            try {
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
                IOException e = assertThrows(IOException.class, () -> {
                    boolean done = poller.connect(ch, addr);
                    while (!done) {
                        assertTrue(System.nanoTime() < deadline, "connect to a closed port neither failed nor finished");
                        done = poller.finishConnect(ch, addr);
                    }
                });
                assertTrue(e instanceof ConnectException, e.toString());
                assertTrue(e.getMessage().contains("ECONNREFUSED"), e.getMessage());
            } finally {
                poller.close(ch);
                server = null; // closed above
            }
        });
    }

    /**
     * A producer that won the wake-up and signals only after the loop closed its poller must not
     * write into the descriptor that took the eventfd's number: here a new eventfd is given that
     * number, and the late wake-up must leave it unsignalled.
     */
    @Test
    void aWakeUpAfterCloseWritesIntoNoReusedDescriptor() throws Exception {
        EpollPoller p = new EpollPoller();
        int wake = p.wakeFd;
        p.close();
        int[] opened = new int[16];
        int n = 0;
        int reused = -1;
        try {
            while (n < opened.length && reused < 0) {
                int fd = EpollCalls.eventfd();
                assertTrue(fd >= 0, "eventfd: " + fd);
                opened[n++] = fd;
                if (fd == wake) {
                    reused = fd;
                }
            }
            org.junit.jupiter.api.Assumptions.assumeTrue(reused >= 0, "the closed eventfd's number was not reused");
            p.wakeup(); // late: the poller is closed
            assertEquals(-Errno.EAGAIN, EpollCalls.eventfdDrain(reused), "the late wake-up wrote into descriptor " + reused);
        } finally {
            for (int i = 0; i < n; i++) {
                Syscalls.close(opened[i]);
            }
        }
    }
}
