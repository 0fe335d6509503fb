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
 * What AUTO must pick is stated by the build ({@code muduo4j.test.expectedAuto}: epoll on JDK 22+
 * Linux, else nio), not computed from the availability check under test.
 */
class TransportSelectionTest {
    private static final String PINNED = System.getProperty("muduo4j.transport", "auto");
    private static final String EXPECTED_AUTO = System.getProperty("muduo4j.test.expectedAuto");

    @Test
    void autoIsEpollWhereAvailableElseNio() {
        org.junit.jupiter.api.Assumptions.assumeTrue(EXPECTED_AUTO != null,
                "run by the build, which states what AUTO must pick (-Dmuduo4j.test.expectedAuto)");
        Transport expected = Transport.of(PINNED.equalsIgnoreCase("auto") ? EXPECTED_AUTO : PINNED);
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
        org.junit.jupiter.api.Assumptions.assumeTrue(EXPECTED_AUTO != null, "run by the build");
        if (EXPECTED_AUTO.equals("epoll")) {
            assertTrue(Transport.EPOLL.isAvailable(), "epoll on JDK 22+ Linux: " + Transport.unavailableReason());
            assertNull(Transport.unavailableReason());
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
