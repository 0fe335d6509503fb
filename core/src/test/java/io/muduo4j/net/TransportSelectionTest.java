package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Which transport a loop gets. The build runs the suite on JDK 17 (NIO only) and on JDK 22+ with
 * native access enabled (epoll available); {@code -Dmuduo4j.transport} may pin what AUTO means.
 */
class TransportSelectionTest {
    private static final String PINNED = System.getProperty("muduo4j.transport", "auto");

    @Test
    void autoIsEpollWhereAvailableElseNio() {
        Transport expected = !PINNED.equalsIgnoreCase("auto") ? Transport.of(PINNED)
                : Runtime.version().feature() >= 22 && Transport.EPOLL.isAvailable() ? Transport.EPOLL : Transport.NIO;
        assertEquals(expected, Transport.AUTO.resolve());
        EventLoop loop = new EventLoop();
        try {
            assertEquals(expected, loop.transport());
        } finally {
            loop.close();
        }
    }

    @Test
    void epollIsAvailableOnJdk22WithNativeAccessAndSaysWhyNotOtherwise() {
        if (Runtime.version().feature() >= 22 && System.getProperty("os.name").startsWith("Linux")
                && ModuleLayer.boot() != null && Transport.unavailableReason() == null) {
            assertTrue(Transport.EPOLL.isAvailable());
            return;
        }
        String why = Transport.unavailableReason();
        assertNotNull(why, "epoll unavailable without a reason");
        assertTrue(why.contains("JDK 22") || why.contains("--enable-native-access"), why);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> new EventLoop(EventLoopOptions.blocking().transport(Transport.EPOLL)));
        assertTrue(e.getMessage().contains(why), e.getMessage());
        assertNull(EventLoop.current(), "a failed loop left its thread bound");
    }

    @Test
    void nioIsAlwaysAvailableAndNioChannelsNeedANioLoop() throws Exception {
        EventLoop loop = new EventLoop(EventLoopOptions.blocking().transport(Transport.NIO));
        try {
            assertEquals(Transport.NIO, loop.transport());
        } finally {
            loop.close();
        }
        if (!Transport.EPOLL.isAvailable()) {
            return;
        }
        EventLoop epoll = new EventLoop(EventLoopOptions.blocking().transport(Transport.EPOLL));
        try (java.nio.channels.Pipe.SourceChannel source = java.nio.channels.Pipe.open().source()) {
            assertEquals(Transport.EPOLL, epoll.transport());
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> new Channel(epoll, source));
            assertTrue(e.getMessage().contains("Transport.NIO"), e.getMessage());
        } finally {
            epoll.close();
        }
    }

    @Test
    void namesParseInAnyCase() {
        assertEquals(Transport.EPOLL, Transport.of("EPoll"));
        assertEquals(Transport.NIO, Transport.of("nio"));
        assertEquals(Transport.AUTO, Transport.of("auto"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Transport.of("uring"));
        assertTrue(e.getMessage().contains("auto, nio or epoll"), e.getMessage());
    }
}
