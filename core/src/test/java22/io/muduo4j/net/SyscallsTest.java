package io.muduo4j.net;

import static io.muduo4j.net.Syscalls.AF_INET;
import static io.muduo4j.net.Syscalls.AF_INET6;
import static io.muduo4j.net.EpollCalls.EPOLLERR;
import static io.muduo4j.net.EpollCalls.EPOLLHUP;
import static io.muduo4j.net.EpollCalls.EPOLLIN;
import static io.muduo4j.net.EpollCalls.EPOLLOUT;
import static io.muduo4j.net.EpollCalls.EPOLLRDHUP;
import static io.muduo4j.net.EpollCalls.EPOLL_CTL_ADD;
import static io.muduo4j.net.EpollCalls.EPOLL_CTL_DEL;
import static io.muduo4j.net.EpollCalls.EPOLL_CTL_MOD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.BindException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Syscalls} against the real kernel, over loopback. Every wait is an {@code epoll_wait}
 * with a deadline, never a sleep; every descriptor a test opens is closed after it (and each
 * close must return 0).
 */
@Timeout(60)
class SyscallsTest {
    private static final int WAIT_MS = 5_000;
    private static final int BUFFER = 64 * 1024;
    private static final InetAddress V4_LOOPBACK = InetAddress.getLoopbackAddress();

    private final Deque<Integer> open = new ArrayDeque<>();
    private final ByteBuffer out = ByteBuffer.allocateDirect(BUFFER);
    private final ByteBuffer in = ByteBuffer.allocateDirect(BUFFER);
    private final ByteBuffer events = ByteBuffer.allocateDirect(16 * EpollCalls.EPOLL_EVENT_SIZE);
    private long outAddress;
    private long inAddress;
    private long eventsAddress;
    private int ep;

    @BeforeEach
    void setUp() {
        assertTrue(Syscalls.AVAILABLE, Syscalls::unavailableReason);
        outAddress = Syscalls.address(out);
        inAddress = Syscalls.address(in);
        eventsAddress = Syscalls.address(events);
        ep = track(EpollCalls.epollCreate(), "epoll_create1");
    }

    @AfterEach
    void closeAll() {
        List<String> failures = new ArrayList<>();
        while (!open.isEmpty()) {
            int fd = open.pop();
            int r = Syscalls.close(fd);
            if (r != 0) {
                failures.add("close(" + fd + "): " + Errno.errnoName(r));
            }
        }
        assertTrue(failures.isEmpty(), failures::toString);
    }

    /** Asserts that {@code fd} is a descriptor and closes it after the test. */
    private int track(int fd, String what) {
        assertTrue(fd >= 0, () -> what + ": " + Errno.errnoName(fd));
        open.push(fd);
        return fd;
    }

    /** Closes a tracked descriptor now. */
    private void closeNow(int fd) {
        assertTrue(open.remove(fd), "not tracked: " + fd);
        assertEquals(0, Syscalls.close(fd));
    }

    private static void ok(long r, String what) {
        assertTrue(r >= 0, () -> what + ": " + Errno.errnoName((int) r));
    }

    private int listener(int family, InetAddress ip) {
        int l = track(Syscalls.socketStream(family), "socket");
        ok(Syscalls.bind(l, family, new InetSocketAddress(ip, 0)), "bind");
        ok(Syscalls.listen(l, 16), "listen");
        return l;
    }

    /**
     * Waits until {@code fd} reports one of {@code interest} (it is registered for the wait only)
     * and returns the reported mask.
     */
    private int await(int fd, int interest) {
        ok(EpollCalls.epollCtl(ep, EPOLL_CTL_ADD, fd, interest, fd), "epoll_ctl ADD");
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
            while (true) {
                int left = (int) TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                assertTrue(left > 0, () -> "no event " + interest + " on " + fd + " within " + WAIT_MS + " ms");
                int n = EpollCalls.epollWait(ep, eventsAddress, 16, left);
                if (n == -Errno.EINTR) {
                    continue;
                }
                ok(n, "epoll_wait");
                for (int i = 0; i < n; i++) {
                    if (EpollCalls.eventData(eventsAddress, i) == fd) {
                        return EpollCalls.eventMask(eventsAddress, i);
                    }
                }
            }
        } finally {
            ok(EpollCalls.epollCtl(ep, EPOLL_CTL_DEL, fd, 0, 0), "epoll_ctl DEL");
        }
    }

    /** {client, server}: a connected pair through a listener on {@code ip}, checked on the way. */
    private int[] connectedPair(int family, InetAddress ip) throws IOException {
        int l = listener(family, ip);
        InetSocketAddress bound = Syscalls.localAddress(l);
        int c = track(Syscalls.socketStream(family), "socket");
        int r = Syscalls.connect(c, family, bound);
        assertTrue(r == 0 || r == -Errno.EINPROGRESS, () -> "connect: " + Errno.errnoName(r));
        assertTrue((await(c, EPOLLOUT) & EPOLLOUT) != 0);
        assertEquals(0, Syscalls.getIntOption(c, Syscalls.SOL_SOCKET, Syscalls.SO_ERROR));
        await(l, EPOLLIN);
        int s = track(Syscalls.accept(l), "accept4");
        assertEquals(Syscalls.localAddress(c), Syscalls.peerAddress(s));
        assertEquals(Syscalls.peerAddress(c), Syscalls.localAddress(s));
        assertEquals(bound, Syscalls.peerAddress(c));
        assertEquals(-Errno.EAGAIN, Syscalls.accept(l), "one connection, one accept");
        return new int[] {c, s};
    }

    private void fill(int length, int seed) {
        for (int i = 0; i < length; i++) {
            out.put(i, (byte) (i * 31 + seed));
        }
    }

    /** Reads exactly {@code length} bytes into {@code in} at {@code offset}, waiting as needed. */
    private void readFully(int fd, int offset, int length) {
        int got = 0;
        while (got < length) {
            long n = Syscalls.read(fd, inAddress + offset + got, length - got);
            if (n == -Errno.EAGAIN) {
                await(fd, EPOLLIN);
                continue;
            }
            ok(n, "read");
            assertTrue(n > 0, "end of stream after " + got + " of " + length + " bytes");
            got += (int) n;
        }
    }

    private void assertReceived(int offset, int length, int seed) {
        for (int i = 0; i < length; i++) {
            int at = i;
            assertEquals((byte) (i * 31 + seed), in.get(offset + i), () -> "byte " + at);
        }
    }

    // ---------------------------------------------------------------- availability

    @Test
    void availableWithNativeAccessAndCriticalFromJdk24() {
        assertNull(Syscalls.unavailableReason());
        assertEquals(Runtime.version().feature() >= 24, Downcalls.criticalLinked());
    }

    @Test
    void withoutNativeAccessTheClassLoadsUnavailableAndNamesTheFlag() throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:TieredStopAtLevel=1"); // a short-lived child: start fast
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(SyscallsProbe.class.getName());
        Path output = Files.createTempFile("syscalls-probe", ".txt");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile());
            pb.environment().remove("JDK_JAVA_OPTIONS"); // no flag may sneak in from outside
            pb.environment().remove("JAVA_TOOL_OPTIONS");
            Process p = pb.start();
            if (!p.waitFor(40, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("probe JVM did not finish");
            }
            String text = Files.readString(output, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), text);
            assertTrue(text.contains("available=false"), text);
            assertTrue(text.contains("--enable-native-access=ALL-UNNAMED"), text);
            assertTrue(text.contains("call=IllegalStateException"), text);
            // Nothing restricted was called, so the JDK has nothing to warn about.
            assertFalse(text.contains("WARNING"), text);
        } finally {
            Files.deleteIfExists(output);
        }
    }

    // ---------------------------------------------------------------- addresses

    @Test
    void listenOnIpv4LoopbackReportsTheBoundPort() throws IOException {
        int l = listener(AF_INET, V4_LOOPBACK);
        InetSocketAddress a = Syscalls.localAddress(l);
        assertEquals(V4_LOOPBACK, a.getAddress());
        assertTrue(a.getPort() > 0, a::toString);
        int other = track(Syscalls.socketStream(AF_INET), "socket");
        int r = Syscalls.bind(other, AF_INET, a);
        assertEquals(-Errno.EADDRINUSE, r);
        IOException e = Errno.exception("bind", r);
        assertInstanceOf(BindException.class, e);
        assertEquals("bind: Address already in use (EADDRINUSE)", e.getMessage());
    }

    @Test
    void listenConnectAndTalkOverIpv6Loopback() throws IOException {
        InetAddress v6 = InetAddress.getByName("::1");
        int probe = Syscalls.socketStream(AF_INET6);
        assumeTrue(probe != -Errno.EAFNOSUPPORT, "no IPv6 in this kernel");
        track(probe, "socket");
        int r = Syscalls.bind(probe, AF_INET6, new InetSocketAddress(v6, 0));
        assumeTrue(r != -Errno.EADDRNOTAVAIL, "no ::1 on this machine");
        ok(r, "bind ::1");
        ok(Syscalls.listen(probe, 16), "listen");
        InetSocketAddress a = Syscalls.localAddress(probe);
        assertInstanceOf(Inet6Address.class, a.getAddress());
        assertEquals(v6, a.getAddress());
        assertTrue(a.getPort() > 0);

        int[] pair = connectedPair(AF_INET6, v6);
        fill(1000, 6);
        assertEquals(1000, Syscalls.send(pair[0], outAddress, 1000));
        readFully(pair[1], 0, 1000);
        assertReceived(0, 1000, 6);
    }

    @Test
    void ipv4OnAnIpv6SocketIsMappedAndDecodesAsInet4() throws IOException {
        int l = Syscalls.socketStream(AF_INET6);
        assumeTrue(l != -Errno.EAFNOSUPPORT, "no IPv6 in this kernel");
        track(l, "socket");
        ok(Syscalls.setIntOption(l, Syscalls.IPPROTO_IPV6, Syscalls.IPV6_V6ONLY, 0), "IPV6_V6ONLY");
        ok(Syscalls.bind(l, AF_INET6, new InetSocketAddress(InetAddress.getByName("::"), 0)), "bind ::");
        ok(Syscalls.listen(l, 16), "listen");
        int port = Syscalls.localAddress(l).getPort();

        int c = track(Syscalls.socketStream(AF_INET6), "socket");
        InetSocketAddress target = new InetSocketAddress(V4_LOOPBACK, port);
        int r = Syscalls.connect(c, AF_INET6, target); // sent as ::ffff:127.0.0.1
        assertTrue(r == 0 || r == -Errno.EINPROGRESS, () -> "connect: " + Errno.errnoName(r));
        await(c, EPOLLOUT);
        assertEquals(0, Syscalls.getIntOption(c, Syscalls.SOL_SOCKET, Syscalls.SO_ERROR));
        await(l, EPOLLIN);
        int s = track(Syscalls.accept(l), "accept4");

        InetSocketAddress peer = Syscalls.peerAddress(s);
        assertInstanceOf(Inet4Address.class, peer.getAddress());
        assertEquals(V4_LOOPBACK, peer.getAddress());
        assertEquals(Syscalls.localAddress(c), peer);
        assertEquals(target, Syscalls.peerAddress(c));
        assertInstanceOf(Inet4Address.class, Syscalls.localAddress(s).getAddress());
    }

    @Test
    void linkLocalIpv6CarriesTheScopeId() throws IOException {
        Inet6Address linkLocal = linkLocalAddress();
        assumeTrue(linkLocal != null, "no link-local IPv6 address with a scope on this machine");
        int l = Syscalls.socketStream(AF_INET6);
        assumeTrue(l != -Errno.EAFNOSUPPORT, "no IPv6 in this kernel");
        track(l, "socket");
        int r = Syscalls.bind(l, AF_INET6, new InetSocketAddress(linkLocal, 0));
        assumeTrue(r != -Errno.EADDRNOTAVAIL, "link-local address not usable (tentative?)");
        ok(r, "bind " + linkLocal);
        ok(Syscalls.listen(l, 16), "listen");
        InetSocketAddress a = Syscalls.localAddress(l);
        Inet6Address got = assertInstanceOf(Inet6Address.class, a.getAddress());
        assertEquals(linkLocal.getScopeId(), got.getScopeId());
        assertEquals(linkLocal, got);

        int c = track(Syscalls.socketStream(AF_INET6), "socket");
        int cr = Syscalls.connect(c, AF_INET6, a);
        assertTrue(cr == 0 || cr == -Errno.EINPROGRESS, () -> "connect: " + Errno.errnoName(cr));
        await(c, EPOLLOUT);
        assertEquals(0, Syscalls.getIntOption(c, Syscalls.SOL_SOCKET, Syscalls.SO_ERROR), "needs the scope id");
    }

    private static Inet6Address linkLocalAddress() throws SocketException {
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!ni.isUp()) {
                continue;
            }
            for (InetAddress ip : Collections.list(ni.getInetAddresses())) {
                if (ip instanceof Inet6Address v6 && v6.isLinkLocalAddress() && v6.getScopeId() != 0) {
                    return v6;
                }
            }
        }
        return null;
    }

    @Test
    void addressChecksHappenBeforeTheCall() throws IOException {
        int s4 = track(Syscalls.socketStream(AF_INET), "socket");
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("::1"), 1);
        assertEquals(-Errno.EAFNOSUPPORT, Syscalls.connect(s4, AF_INET, v6), "IPv6 on an AF_INET socket");
        assertEquals(-Errno.EAFNOSUPPORT, Syscalls.bind(s4, 12345, new InetSocketAddress(V4_LOOPBACK, 0)));
        assertThrows(IllegalArgumentException.class,
                () -> Syscalls.connect(s4, AF_INET, InetSocketAddress.createUnresolved("localhost", 1)));
    }

    @Test
    void addressOfADirectBufferIsItsIndexZero() {
        ByteBuffer b = ByteBuffer.allocateDirect(16);
        long at0 = Syscalls.address(b);
        b.position(10);
        assertEquals(at0, Syscalls.address(b));
        assertThrows(IllegalArgumentException.class, () -> Syscalls.address(ByteBuffer.allocate(16)));
    }

    // ---------------------------------------------------------------- data

    @Test
    void sendAndReadRoundTripBytesThroughDirectBuffers() throws IOException {
        int[] p = connectedPair(AF_INET, V4_LOOPBACK);
        fill(50_000, 1);
        long sent = 0;
        while (sent < 50_000) {
            long n = Syscalls.send(p[0], outAddress + sent, (int) (50_000 - sent));
            ok(n, "send");
            sent += n;
        }
        readFully(p[1], 0, 50_000);
        assertReceived(0, 50_000, 1);
        assertEquals(-Errno.EAGAIN, Syscalls.read(p[1], inAddress, BUFFER), "nothing more");
    }

    @Test
    void readOnAnEmptyNonBlockingSocketIsEagain() throws IOException {
        int[] p = connectedPair(AF_INET, V4_LOOPBACK);
        assertEquals(-Errno.EAGAIN, Syscalls.read(p[1], inAddress, BUFFER));
        assertEquals(-Errno.EAGAIN, Syscalls.readv2(p[1], inAddress, 10, inAddress + 10, 10));
    }

    @Test
    void readv2FillsTheFirstRegionThenTheSecond() throws IOException {
        int[] p = connectedPair(AF_INET, V4_LOOPBACK);
        fill(100, 2);
        assertEquals(100, Syscalls.send(p[0], outAddress, 100));
        await(p[1], EPOLLIN);
        // 30 bytes of room at offset 1000, the rest spills to offset 5000
        long n = Syscalls.readv2(p[1], inAddress + 1000, 30, inAddress + 5000, 1000);
        assertEquals(100, n);
        for (int i = 0; i < 30; i++) {
            assertEquals((byte) (i * 31 + 2), in.get(1000 + i), "first region " + i);
        }
        assertEquals(0, in.get(1030), "first region overrun");
        for (int i = 30; i < 100; i++) {
            assertEquals((byte) (i * 31 + 2), in.get(5000 + i - 30), "second region " + i);
        }
        assertEquals(0, in.get(5070), "second region overrun");
    }

    @Test
    void sendv2SendsTheFirstRegionThenTheSecond() throws IOException {
        int[] p = connectedPair(AF_INET, V4_LOOPBACK);
        fill(300, 3);
        // bytes [0, 120) from offset 0 and [120, 300) from offset 120: one stream in order
        assertEquals(300, Syscalls.sendv2(p[0], outAddress, 120, outAddress + 120, 180));
        readFully(p[1], 0, 300);
        assertReceived(0, 300, 3);
        // the regions need not be adjacent: the second half is taken from elsewhere
        for (int i = 0; i < 50; i++) {
            out.put(2000 + i, (byte) (i * 31 + 3 + 50 * 31));
        }
        assertEquals(100, Syscalls.sendv2(p[0], outAddress, 50, outAddress + 2000, 50));
        readFully(p[1], 0, 100);
        assertReceived(0, 100, 3);
    }

    @Test
    void shutdownWriteGivesThePeerEndOfStreamAndKeepsTheOtherDirection() throws IOException {
        int[] p = connectedPair(AF_INET, V4_LOOPBACK);
        fill(5, 4);
        assertEquals(5, Syscalls.send(p[0], outAddress, 5));
        assertEquals(0, Syscalls.shutdown(p[0], Syscalls.SHUT_WR));
        readFully(p[1], 0, 5);
        assertReceived(0, 5, 4);
        assertTrue((await(p[1], EPOLLRDHUP) & EPOLLRDHUP) != 0);
        assertEquals(0, Syscalls.read(p[1], inAddress, BUFFER), "end of stream");
        assertEquals(-Errno.EPIPE, Syscalls.send(p[0], outAddress, 1), "no writing after SHUT_WR");

        assertEquals(5, Syscalls.send(p[1], outAddress, 5), "the other direction still works");
        readFully(p[0], 100, 5);
        for (int i = 0; i < 5; i++) {
            assertEquals(out.get(i), in.get(100 + i));
        }
    }

    @Test
    void sendAfterThePeerResetIsAnErrorNotASignal() throws IOException {
        int[] p = connectedPair(AF_INET, V4_LOOPBACK);
        assertEquals(0, Syscalls.setLinger(p[1], true, 0));
        closeNow(p[1]); // linger 0: an RST instead of a FIN
        int mask = await(p[0], EPOLLIN | EPOLLRDHUP);
        assertTrue((mask & (EPOLLERR | EPOLLHUP)) != 0, "reset reported: " + Integer.toHexString(mask));
        long first = Syscalls.send(p[0], outAddress, 100);
        assertTrue(first == -Errno.ECONNRESET || first == -Errno.EPIPE, "send: " + first);
        assertEquals(-Errno.EPIPE, Syscalls.send(p[0], outAddress, 100));
        assertEquals(-Errno.EPIPE, Syscalls.sendv2(p[0], outAddress, 10, outAddress, 10));
        IOException e = Errno.exception("send", -Errno.ECONNRESET);
        assertInstanceOf(IOException.class, e);
        assertEquals("send: Connection reset by peer (ECONNRESET)", e.getMessage());
    }

    /**
     * A reset ends many connections of a server (every client closing with SO_LINGER 0), so its
     * exception is one small object: no stack walk (a backtrace is several hundred bytes and
     * microseconds), no message built per call for the data path's reads and writes.
     */
    @Test
    void aResetOnTheDataPathCostsOneSmallObject() {
        IOException read = Errno.exception("read", -Errno.ECONNRESET);
        assertEquals("read: Connection reset by peer (ECONNRESET)", read.getMessage());
        assertEquals(0, read.getStackTrace().length, "stack trace of a reset");
        assertEquals("write: Broken pipe (EPIPE)", Errno.exception("write", -Errno.EPIPE).getMessage());
        assertTrue(Errno.exception("read", -Errno.EBADF).getStackTrace().length > 0, "other errors keep their stack");

        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        IOException[] keep = new IOException[10_000];
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            long b0 = mx.getThreadAllocatedBytes(me);
            for (int i = 0; i < keep.length; i++) {
                keep[i] = Errno.exception((i & 1) == 0 ? "read" : "write", -Errno.ECONNRESET);
            }
            long b1 = mx.getThreadAllocatedBytes(me);
            best = Math.min(best, (b1 - b0) / (double) keep.length);
        }
        assertEquals("write: Connection reset by peer (ECONNRESET)", keep[keep.length - 1].getMessage());
        // The exception object: a 12-byte header and six fields, 40 B with compressed oops.
        assertTrue(best <= 48, "bytes per reset exception: " + best);
    }

    @Test
    void connectToAClosedPortIsRefused() throws IOException {
        // A bound socket that never listens: its port answers a SYN with an RST.
        int holder = track(Syscalls.socketStream(AF_INET), "socket");
        ok(Syscalls.bind(holder, AF_INET, new InetSocketAddress(V4_LOOPBACK, 0)), "bind");
        InetSocketAddress closed = Syscalls.localAddress(holder);

        int c = track(Syscalls.socketStream(AF_INET), "socket");
        int r = Syscalls.connect(c, AF_INET, closed);
        int error;
        if (r == -Errno.EINPROGRESS) {
            int mask = await(c, EPOLLOUT);
            assertTrue((mask & (EPOLLERR | EPOLLHUP)) != 0, "failure reported: " + Integer.toHexString(mask));
            error = Syscalls.getIntOption(c, Syscalls.SOL_SOCKET, Syscalls.SO_ERROR);
            assertEquals(0, Syscalls.getIntOption(c, Syscalls.SOL_SOCKET, Syscalls.SO_ERROR), "reading clears it");
        } else {
            error = -r;
        }
        assertEquals(Errno.ECONNREFUSED, error, Errno.errnoName(error));
        IOException e = Errno.exception("connect", error);
        assertInstanceOf(ConnectException.class, e);
        assertEquals("connect: Connection refused (ECONNREFUSED)", e.getMessage());
    }

    // ---------------------------------------------------------------- options, descriptors

    @Test
    void intOptionsReadBackWhatWasSet() throws IOException {
        int[] p = connectedPair(AF_INET, V4_LOOPBACK);
        assertEquals(0, Syscalls.getIntOption(p[0], Syscalls.IPPROTO_TCP, Syscalls.TCP_NODELAY));
        assertEquals(0, Syscalls.setIntOption(p[0], Syscalls.IPPROTO_TCP, Syscalls.TCP_NODELAY, 1));
        assertEquals(1, Syscalls.getIntOption(p[0], Syscalls.IPPROTO_TCP, Syscalls.TCP_NODELAY));
        assertEquals(0, Syscalls.setIntOption(p[0], Syscalls.SOL_SOCKET, Syscalls.SO_KEEPALIVE, 1));
        assertEquals(1, Syscalls.getIntOption(p[0], Syscalls.SOL_SOCKET, Syscalls.SO_KEEPALIVE));
        assertEquals(0, Syscalls.setIntOption(p[0], Syscalls.SOL_SOCKET, Syscalls.SO_REUSEADDR, 1));
        assertEquals(1, Syscalls.getIntOption(p[0], Syscalls.SOL_SOCKET, Syscalls.SO_REUSEADDR));
        assertEquals(0, Syscalls.setIntOption(p[0], Syscalls.SOL_SOCKET, Syscalls.SO_REUSEPORT, 1));
        assertEquals(1, Syscalls.getIntOption(p[0], Syscalls.SOL_SOCKET, Syscalls.SO_REUSEPORT));
        assertEquals(0, Syscalls.setIntOption(p[0], Syscalls.SOL_SOCKET, Syscalls.SO_SNDBUF, 32 * 1024));
        assertEquals(64 * 1024, Syscalls.getIntOption(p[0], Syscalls.SOL_SOCKET, Syscalls.SO_SNDBUF),
                "Linux doubles the value set");
        assertEquals(0, Syscalls.setIntOption(p[0], Syscalls.SOL_SOCKET, Syscalls.SO_RCVBUF, 32 * 1024));
        assertEquals(64 * 1024, Syscalls.getIntOption(p[0], Syscalls.SOL_SOCKET, Syscalls.SO_RCVBUF));
        assertEquals(AF_INET, Syscalls.getIntOption(p[0], Syscalls.SOL_SOCKET, Syscalls.SO_DOMAIN));
        assertEquals(0, Syscalls.setLinger(p[0], true, 5));
        assertEquals(0, Syscalls.setLinger(p[0], false, 0));
        assertEquals(-Errno.ENOTSOCK, Syscalls.getIntOption(ep, Syscalls.SOL_SOCKET, Syscalls.SO_ERROR));
    }

    @Test
    void closeReturnsZeroAndASecondCloseIsEbadf() {
        int fd = Syscalls.socketStream(AF_INET);
        ok(fd, "socket");
        assertEquals(0, Syscalls.close(fd));
        // Nothing else in this JVM opens descriptors between the two calls (the lowest free number
        // would be reused); were one opened, the assertion would fail, not pass.
        assertEquals(-Errno.EBADF, Syscalls.close(fd));
        assertEquals(-Errno.EBADF, Syscalls.close(-1));
        assertEquals(-Errno.EBADF, Syscalls.read(-1, inAddress, 1));
        IOException e = Errno.exception("close", -Errno.EBADF);
        assertEquals("close: Bad file descriptor (EBADF)", e.getMessage());
    }

    @Test
    void devNullIsASpareDescriptorAtEndOfFile() {
        int fd = track(Syscalls.openDevNull(), "open /dev/null");
        assertEquals(0, Syscalls.read(fd, inAddress, 16), "end of file");
        assertEquals(-Errno.ENOTSOCK, Syscalls.accept(fd));
    }

    @Test
    void errnoNamesAndExceptions() {
        assertEquals("EAGAIN", Errno.errnoName(Errno.EAGAIN));
        assertEquals("EAGAIN", Errno.errnoName(-Errno.EAGAIN));
        assertEquals("EINPROGRESS", Errno.errnoName(115));
        assertEquals("errno 999", Errno.errnoName(-999));
        assertEquals("read: errno 999", Errno.exception("read", 999).getMessage());
        assertInstanceOf(ConnectException.class, Errno.exception("connect", Errno.ETIMEDOUT));
        assertInstanceOf(BindException.class, Errno.exception("bind", -Errno.EADDRNOTAVAIL));
        assertInstanceOf(NoRouteToHostException.class, Errno.exception("connect", Errno.EHOSTUNREACH));
        assertEquals("accept: Too many open files (EMFILE)", Errno.exception("accept", -Errno.EMFILE).getMessage());
    }

    // ---------------------------------------------------------------- epoll, eventfd

    @Test
    void epollReportsReadinessWithTheRegisteredData() throws IOException {
        int[] p = connectedPair(AF_INET, V4_LOOPBACK);
        long data = 0x1234_5678_9ABC_DEF0L;
        assertEquals(0, EpollCalls.epollCtl(ep, EPOLL_CTL_ADD, p[1], EPOLLIN, data));
        assertEquals(0, EpollCalls.epollWait(ep, eventsAddress, 16, 0), "nothing to read yet");
        assertEquals(1, Syscalls.send(p[0], outAddress, 1));
        assertEquals(1, EpollCalls.epollWait(ep, eventsAddress, 16, WAIT_MS));
        assertEquals(EPOLLIN, EpollCalls.eventMask(eventsAddress, 0));
        assertEquals(data, EpollCalls.eventData(eventsAddress, 0));

        assertEquals(0, EpollCalls.epollCtl(ep, EPOLL_CTL_MOD, p[1], EPOLLOUT, -7L));
        assertEquals(1, EpollCalls.epollWait(ep, eventsAddress, 16, WAIT_MS));
        assertEquals(EPOLLOUT, EpollCalls.eventMask(eventsAddress, 0), "readable but not asked for");
        assertEquals(-7L, EpollCalls.eventData(eventsAddress, 0));

        assertEquals(0, EpollCalls.epollCtl(ep, EPOLL_CTL_ADD, p[0], EPOLLOUT, 99L));
        assertEquals(2, EpollCalls.epollWait(ep, eventsAddress, 16, WAIT_MS));
        long d0 = EpollCalls.eventData(eventsAddress, 0);
        long d1 = EpollCalls.eventData(eventsAddress, 1);
        assertTrue(d0 == -7L && d1 == 99L || d0 == 99L && d1 == -7L, d0 + ", " + d1);

        assertEquals(0, EpollCalls.epollCtl(ep, EPOLL_CTL_DEL, p[1], 0, 0));
        assertEquals(0, EpollCalls.epollCtl(ep, EPOLL_CTL_DEL, p[0], 0, 0));
        assertEquals(0, EpollCalls.epollWait(ep, eventsAddress, 16, 0));
        assertEquals(-Errno.ENOENT, EpollCalls.epollCtl(ep, EPOLL_CTL_DEL, p[0], 0, 0));
    }

    @Test
    void eventfdSignalFromAnotherThreadWakesEpollWait() throws InterruptedException {
        int efd = track(EpollCalls.eventfd(), "eventfd");
        assertEquals(0, EpollCalls.epollCtl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 42L));
        assertEquals(0, EpollCalls.epollWait(ep, eventsAddress, 16, 0));
        assertEquals(-Errno.EAGAIN, EpollCalls.eventfdDrain(efd));

        AtomicInteger signalled = new AtomicInteger(Integer.MIN_VALUE);
        Thread waker = new Thread(() -> signalled.set(EpollCalls.eventfdSignal(efd)), "eventfd-waker");
        waker.start();
        assertEquals(1, EpollCalls.epollWait(ep, eventsAddress, 16, WAIT_MS));
        assertEquals(42L, EpollCalls.eventData(eventsAddress, 0));
        assertEquals(EPOLLIN, EpollCalls.eventMask(eventsAddress, 0));
        waker.join(WAIT_MS);
        assertEquals(0, signalled.get(), "signal from the waker thread");
        assertEquals(1, EpollCalls.eventfdDrain(efd));
        assertEquals(-Errno.EAGAIN, EpollCalls.eventfdDrain(efd));
        assertEquals(0, EpollCalls.epollWait(ep, eventsAddress, 16, 0), "drained: no longer readable");

        assertEquals(0, EpollCalls.eventfdSignal(efd));
        assertEquals(0, EpollCalls.eventfdSignal(efd));
        assertEquals(2, EpollCalls.eventfdDrain(efd), "signals add up until drained");
    }

    // ---------------------------------------------------------------- allocation

    @Test
    void sendAndReadAllocateNothingOnAWarmThread() throws IOException {
        Windows r = warmWindows(PingPong::window, 5, "send+read pairs");
        assertCleanAfterWarmUp(r);
        assertReceived(0, PingPong.SIZE, 5);
    }

    /**
     * The same pairs called twelve frames deep, as a send from a user callback under the loop is:
     * with the downcall handles {@code static final}, C2 inlined the JDK's capture-segment slicing
     * past its depth limit into this caller, and every call allocated a 40-byte segment (see
     * {@link Downcalls}, "Why the handles are not final").
     */
    @Test
    void sendAndReadCalledDeepInACallChainAllocateNothingOnAWarmThread() throws IOException {
        Windows r = warmWindows(Deep::window, 6, "deep send+read pairs");
        assertCleanAfterWarmUp(r);
        assertReceived(0, PingPong.SIZE, 6);
    }

    /**
     * The rest of a connection's system calls: socket, connect, accept4, epoll_ctl (add, modify,
     * delete), setsockopt (SO_LINGER 0, so no TIME_WAIT piles up) and close, one cycle per
     * connection through a listener, as the transport makes them.
     */
    @Test
    void connectAcceptRegisterAndCloseAllocateNothingOnAWarmThread() throws IOException {
        int l = listener(AF_INET, V4_LOOPBACK);
        ok(EpollCalls.epollCtl(ep, EPOLL_CTL_ADD, l, EPOLLIN, l), "epoll_ctl ADD listener");
        InetSocketAddress to = Syscalls.localAddress(l);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported(), "JVM cannot count per-thread allocation");
        mx.setThreadAllocatedMemoryEnabled(true);
        Windows r = measureWindows(() -> Cycle.window(mx, l, to, ep, eventsAddress), "connect/accept/register/close cycles");
        assertCleanAfterWarmUp(r);
    }

    /** One measured window: bytes the current thread allocated over {@link PingPong#PAIRS} pairs, -1 on a failure. */
    interface Window {
        long measure(com.sun.management.ThreadMXBean mx, int client, int server, long out, long in, int ep, long events);
    }

    /** The warm-up (it must end clean), the measured windows (each must be 0), and their description. */
    record Windows(boolean warmedUp, long[] measured, String text) {
    }

    /** Windows that must all be clean once the warm-up has had {@link #CLEAN_TO_START} clean windows in a row. */
    private static final int CLEAN_TO_START = 3;
    private static final int MAX_WARMUP = 60;
    private static final int MEASURED = 5;

    private static void assertCleanAfterWarmUp(Windows r) {
        assertTrue(r.warmedUp, "the warm-up never had " + CLEAN_TO_START + " clean windows in a row: " + r.text);
        for (long b : r.measured) {
            assertTrue(b >= 0, "a call failed: " + r.text);
            assertEquals(0, b, r.text);
        }
    }

    private Windows warmWindows(Window window, int seed, String what) throws IOException {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported(), "JVM cannot count per-thread allocation");
        mx.setThreadAllocatedMemoryEnabled(true);
        int[] p = connectedPair(AF_INET, V4_LOOPBACK);
        assertEquals(0, EpollCalls.epollCtl(ep, EPOLL_CTL_ADD, p[1], EPOLLIN, 0L));
        fill(PingPong.SIZE, seed);
        return measureWindows(() -> window.measure(mx, p[0], p[1], outAddress, inAddress, ep, eventsAddress), what);
    }

    private static Windows measureWindows(java.util.function.LongSupplier window, String what) {
        long[] warmup = new long[MAX_WARMUP];
        int w = 0;
        int clean = 0;
        while (clean < CLEAN_TO_START && w < MAX_WARMUP) {
            warmup[w] = window.getAsLong();
            assertTrue(warmup[w] >= 0, "a call failed during the warm-up");
            clean = warmup[w] == 0 ? clean + 1 : 0;
            w++;
        }
        long[] measured = new long[MEASURED];
        for (int i = 0; i < MEASURED; i++) {
            measured[i] = window.getAsLong();
        }
        String text = "warm-up " + Arrays.toString(Arrays.copyOf(warmup, w))
                + ", then " + Arrays.toString(measured) + " bytes per window of " + what;
        System.out.println("[SyscallsTest] " + text);
        return new Windows(clean == CLEAN_TO_START, measured, text);
    }

    /** One connection's calls besides send and read, {@link #CYCLES} times. No string literals (see {@link PingPong}). */
    static final class Cycle {
        static final int CYCLES = 1_000;

        private Cycle() {
        }

        static long window(com.sun.management.ThreadMXBean mx, int listener, InetSocketAddress to, int ep, long events) {
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < CYCLES; i++) {
                if (!cycle(listener, to, ep, events)) {
                    return -1;
                }
            }
            return mx.getCurrentThreadAllocatedBytes() - before;
        }

        static boolean cycle(int listener, InetSocketAddress to, int ep, long events) {
            int c = Syscalls.socketStream(AF_INET);
            if (c < 0) {
                return false;
            }
            int s = -1;
            try {
                int r = Syscalls.connect(c, AF_INET, to);
                if (r != 0 && r != -Errno.EINPROGRESS) {
                    return false;
                }
                s = Syscalls.accept(listener);
                while (s == -Errno.EAGAIN) {
                    if (EpollCalls.epollWait(ep, events, 16, 5_000) <= 0) {
                        return false;
                    }
                    s = Syscalls.accept(listener);
                }
                if (s < 0
                        || EpollCalls.epollCtl(ep, EPOLL_CTL_ADD, s, EPOLLIN, s) != 0
                        || EpollCalls.epollCtl(ep, EPOLL_CTL_MOD, s, EPOLLIN | EPOLLOUT, s) != 0
                        || EpollCalls.epollCtl(ep, EPOLL_CTL_DEL, s, 0, 0) != 0
                        || Syscalls.setLinger(c, true, 0) != 0) {
                    return false;
                }
                return true;
            } finally {
                Syscalls.close(c);
                if (s >= 0) {
                    Syscalls.close(s);
                }
            }
        }
    }

    /** {@link PingPong}'s pairs under twelve frames of this class's own (each inlined by C2). */
    static final class Deep {
        private Deep() {
        }

        static long window(com.sun.management.ThreadMXBean mx, int client, int server, long out, long in, int ep,
                long events) {
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < PingPong.PAIRS; i++) {
                if (!d1(client, server, out, in, ep, events)) {
                    return -1;
                }
            }
            return mx.getCurrentThreadAllocatedBytes() - before;
        }

        private static boolean d1(int c, int s, long o, long i, int ep, long ev) {
            return d2(c, s, o, i, ep, ev);
        }

        private static boolean d2(int c, int s, long o, long i, int ep, long ev) {
            return d3(c, s, o, i, ep, ev);
        }

        private static boolean d3(int c, int s, long o, long i, int ep, long ev) {
            return d4(c, s, o, i, ep, ev);
        }

        private static boolean d4(int c, int s, long o, long i, int ep, long ev) {
            return d5(c, s, o, i, ep, ev);
        }

        private static boolean d5(int c, int s, long o, long i, int ep, long ev) {
            return d6(c, s, o, i, ep, ev);
        }

        private static boolean d6(int c, int s, long o, long i, int ep, long ev) {
            return d7(c, s, o, i, ep, ev);
        }

        private static boolean d7(int c, int s, long o, long i, int ep, long ev) {
            return d8(c, s, o, i, ep, ev);
        }

        private static boolean d8(int c, int s, long o, long i, int ep, long ev) {
            return d9(c, s, o, i, ep, ev);
        }

        private static boolean d9(int c, int s, long o, long i, int ep, long ev) {
            return d10(c, s, o, i, ep, ev);
        }

        private static boolean d10(int c, int s, long o, long i, int ep, long ev) {
            return d11(c, s, o, i, ep, ev);
        }

        private static boolean d11(int c, int s, long o, long i, int ep, long ev) {
            return PingPong.pair(c, s, o, i, ep, ev);
        }
    }

    /**
     * The measured loop. No string literals here: a late JIT compile of this class would resolve
     * them on the measured thread (see {@code AllocationWindows}).
     */
    static final class PingPong {
        static final int PAIRS = 10_000;
        static final int SIZE = 64;

        private PingPong() {
        }

        /** Bytes the current thread allocated over {@link #PAIRS} send+read pairs; -1 on a failure. */
        static long window(com.sun.management.ThreadMXBean mx, int client, int server, long out, long in, int ep,
                long events) {
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < PAIRS; i++) {
                if (!pair(client, server, out, in, ep, events)) {
                    return -1;
                }
            }
            return mx.getCurrentThreadAllocatedBytes() - before;
        }

        static boolean pair(int client, int server, long out, long in, int ep, long events) {
            if (Syscalls.send(client, out, SIZE) != SIZE) {
                return false;
            }
            int got = 0;
            while (got < SIZE) {
                long n = Syscalls.read(server, in + got, SIZE - got);
                if (n > 0) {
                    got += (int) n;
                } else if (n != -Errno.EAGAIN || EpollCalls.epollWait(ep, events, 16, 5_000) <= 0) {
                    return false;
                }
            }
            return true;
        }
    }
}
