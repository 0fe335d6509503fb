package io.muduo4j.net;

import static io.muduo4j.net.EpollCalls.*;
import static io.muduo4j.net.Errno.*;
import static io.muduo4j.net.Syscalls.*;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.Arrays;

/**
 * The {@link Transport#EPOLL} poller: a level-triggered {@code epoll} instance, an {@code eventfd}
 * for wake-ups, and sockets as raw descriptors, all through {@link Syscalls} (the FFM API, no JNI).
 * A handle's descriptor is its {@link Pollable#fd}; the poller finds the handle (a channel or a
 * connection) of an event in a table indexed by descriptor, and the event's data carries a tag
 * besides the descriptor, so an event of a socket closed earlier in the same batch never reaches
 * the handle that got the reused number.
 *
 * <p>Compared with NIO, a connection costs no {@code SocketChannel}, {@code FileDescriptor} or
 * selection key, and no {@code fcntl} pair (sockets are made non-blocking by {@code socket} and
 * {@code accept4} themselves), no {@code getsockname} of the JDK's own, and a registered socket
 * is closed with one {@code close}.
 *
 * <p>The socket operations of the {@link Poller} contract are {@link EpollSockets}'; this class
 * keeps the multiplexer (the interest set, the descriptor table and the event loop's wait) and the
 * read scratch's cached address.
 */
final class EpollPoller extends Poller {
    private static final int MAX_EVENTS = 256;
    private static final int READS = SelectionKey.OP_READ | SelectionKey.OP_ACCEPT;
    private static final int WRITES = SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT;
    /** {@link Pollable#armed} of a registered socket taken out of the epoll set by {@link #hangUp}. */
    private static final int PARKED = -1;

    private final int epfd;
    final int wakeFd; // package-private for the late-wake-up test
    private final ByteBuffer events = ByteBuffer.allocateDirect(MAX_EVENTS * EPOLL_EVENT_SIZE);
    private final long eventsAddress;
    private Pollable[] table = new Pollable[1024]; // by descriptor; loop thread only
    private int nextTag;
    private ByteBuffer scratch; // the loop's read scratch, whose address is cached below
    private long scratchAddress;
    private volatile boolean open = true;
    private volatile int wakers; // producers inside wakeup(); see close()
    private static final VarHandle WAKERS;

    static {
        try {
            WAKERS = MethodHandles.lookup().findVarHandle(EpollPoller.class, "wakers", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Why this transport cannot run here, or null; read by {@link Pollers} by name. */
    static String unavailableReason() {
        return Syscalls.AVAILABLE ? null : Syscalls.unavailableReason();
    }

    EpollPoller() throws IOException {
        int ep = epollCreate();
        if (ep < 0) {
            throw ioException("epoll_create1", ep);
        }
        int wake = eventfd();
        if (wake < 0) {
            Syscalls.close(ep);
            throw ioException("eventfd", wake);
        }
        int r = epollCtl(ep, EPOLL_CTL_ADD, wake, EPOLLIN, data(wake, 0));
        if (r < 0) {
            Syscalls.close(wake);
            Syscalls.close(ep);
            throw ioException("epoll_ctl", r);
        }
        epfd = ep;
        wakeFd = wake;
        eventsAddress = Syscalls.address(events);
    }

    private static long data(int fd, int tag) {
        return ((long) tag << 32) | (fd & 0xFFFF_FFFFL);
    }

    @Override
    Transport transport() {
        return Transport.EPOLL;
    }

    @Override
    int poll(long timeoutMs) throws IOException {
        return waitAndDispatch((int) Math.min(timeoutMs, Integer.MAX_VALUE));
    }

    @Override
    int pollNow() throws IOException {
        return waitAndDispatch(0);
    }

    private int waitAndDispatch(int timeoutMs) throws IOException {
        int n = epollWait(epfd, eventsAddress, MAX_EVENTS, timeoutMs);
        waitEnds();
        if (n < 0) {
            if (n == -EINTR) {
                return 0;
            }
            throw ioException("epoll_wait", n);
        }
        long base = eventsAddress;
        int handled = 0;
        for (int i = 0; i < n; i++) {
            long d = eventData(base, i);
            int fd = (int) d;
            if (fd == wakeFd) {
                eventfdDrain(wakeFd);
                continue;
            }
            Pollable[] t = table;
            Pollable ch = fd < t.length ? t[fd] : null;
            if (ch == null || ch.fd != fd) {
                // Deregistered lazily and still open (else the close removed it and this event
                // is from before): take it out now. On a closed or reused number this fails
                // harmlessly (the number is then in no set of ours, or the set has it anew).
                if (ch == null) {
                    epollCtl(epfd, EPOLL_CTL_DEL, fd, 0, 0L);
                }
                continue;
            }
            if (ch.tag != (int) (d >>> 32)) {
                continue; // from before the channel registered this number again
            }
            int mask = eventMask(base, i);
            int interest = ch.interest();
            int ready;
            if ((mask & (EPOLLERR | EPOLLHUP)) != 0) {
                ready = interest; // as NIO does: the callbacks' own calls see the error
            } else {
                ready = 0;
                if ((mask & EPOLLIN) != 0) {
                    ready |= interest & READS;
                }
                if ((mask & EPOLLOUT) != 0) {
                    ready |= interest & WRITES;
                }
            }
            if (ready != 0) {
                handled++;
                ch.handleEvent(ready);
            } else if ((mask & (EPOLLERR | EPOLLHUP)) != 0) {
                handled += hangUp(ch, fd, mask);
            } else if (ch.armed != 0) {
                disarm(ch, interest); // an event nobody wants any more: disarm now (see update)
            }
        }
        return handled;
    }

    /**
     * Any thread. Bracketed by {@link #wakers} so that {@link #close()} never closes the eventfd
     * under a producer that won the wake-up and was preempted before its write: the number could be
     * another socket's by then, and 8 bytes would go into it.
     */
    @Override
    void wakeup() {
        WAKERS.getAndAdd(this, 1);
        try {
            if (open) {
                eventfdSignal(wakeFd); // EAGAIN (the counter is full) still leaves the loop woken
            }
        } finally {
            WAKERS.getAndAdd(this, -1);
        }
    }

    @Override
    boolean isOpen() {
        return open;
    }

    private static int events(int ops) {
        int e = 0;
        if ((ops & READS) != 0) {
            e |= EPOLLIN;
        }
        if ((ops & WRITES) != 0) {
            e |= EPOLLOUT;
        }
        return e;
    }

    /**
     * Interest changes are made at once, except a change to no interest at all: that one is left
     * for the first event the channel no longer wants, which then disarms it. A connection that
     * closes disables everything and is closed right after, and its close takes the descriptor out
     * of the set: the lazy way costs it no {@code epoll_ctl} at all. {@link #remove} is lazy the
     * same way.
     */
    @Override
    void update(Pollable ch, int oldOps, int ops) {
        int fd = ch.fd;
        if (fd < 0) {
            ch.lostRegistration();
            return;
        }
        int want = events(ops);
        int r;
        if (ch.registration == null) {
            if (ops == 0) {
                return;
            }
            int tag = ++nextTag;
            if (tag == 0) {
                tag = ++nextTag;
            }
            ch.tag = tag;
            r = epollCtl(epfd, EPOLL_CTL_ADD, fd, want, data(fd, tag));
            if (r == -EEXIST) {
                r = epollCtl(epfd, EPOLL_CTL_MOD, fd, want, data(fd, tag)); // removed lazily, still in the set
            }
            if (r == 0) {
                ch.registration = this;
                ch.armed = want;
                put(fd, ch);
                return;
            }
        } else {
            if (want == 0 || want == ch.armed) {
                return;
            }
            r = epollCtl(epfd, ch.armed == PARKED ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, want, data(fd, ch.tag));
            if (r == 0) {
                ch.armed = want;
                return;
            }
        }
        forget(ch);
        ch.lostRegistration();
        if (r != -EBADF && r != -ENOENT) {
            // ENOSPC (max_user_watches), ENOMEM: the socket is open and would never get an event.
            ch.registrationFailed(ioException("epoll_ctl", r));
        }
        // else the socket was closed under us: nothing is registered; the owner finds out
        // through its own close path.
    }

    /**
     * An error or hang-up on a socket whose interest has nothing for it (a connection that stopped
     * reading, with no output queued). epoll reports both whatever the interest set, so disarming
     * cannot silence them and every wait would return at once. A pending error (the peer's reset)
     * goes to the handle, which closes with it; otherwise the socket leaves the epoll set until the
     * interest changes ({@link #PARKED}), as NIO's selector deregisters a key with no interest.
     * Returns 1 when the handle closed.
     */
    private int hangUp(Pollable ch, int fd, int mask) {
        if ((mask & EPOLLERR) != 0) {
            int err = getIntOption(fd, SOL_SOCKET, SO_ERROR); // reading it clears it
            if (err > 0 && ch.pendingError(ioException("read", err))) {
                return 1;
            }
        }
        if (epollCtl(epfd, EPOLL_CTL_DEL, fd, 0, 0L) == 0) {
            ch.armed = PARKED;
        }
        return 0;
    }

    private void disarm(Pollable ch, int interest) {
        int want = events(interest);
        if (epollCtl(epfd, EPOLL_CTL_MOD, ch.fd, want, data(ch.fd, ch.tag)) == 0) {
            ch.armed = want;
        }
    }

    private void put(int fd, Pollable ch) {
        Pollable[] t = table;
        if (fd >= t.length) {
            t = table = Arrays.copyOf(t, Math.max(fd + 1, t.length * 2));
        }
        t[fd] = ch;
    }

    private void forget(Pollable ch) {
        int fd = ch.fd;
        Pollable[] t = table;
        if (fd >= 0 && fd < t.length && t[fd] == ch) {
            t[fd] = null;
        }
        ch.registration = null;
    }

    /** Lazy (see {@link #update}): an event for a forgotten descriptor still open takes it out of the set. */
    @Override
    void remove(Pollable ch) {
        if (ch.registration != null) {
            forget(ch);
        }
    }

    @Override
    void transfer(Pollable from, Pollable to) {
        to.fd = from.fd;
        to.tag = from.tag;
        to.armed = from.armed;
        to.registration = from.registration;
        if (to.registration != null) {
            put(to.fd, to);
        }
        from.fd = -1;
        from.registration = null;
    }

    @Override
    public void close() throws IOException {
        if (!open) {
            return;
        }
        open = false;
        // A producer counted in before it could see open == false may still write: wait for it
        // (one write system call at most). One counted in after sees false and writes nothing.
        while (wakers != 0) {
            Thread.onSpinWait();
        }
        Syscalls.close(wakeFd);
        int r = Syscalls.close(epfd);
        table = new Pollable[0];
        if (r < 0) {
            throw ioException("close(epoll)", r);
        }
    }

    // ------------------------------------------------------------------ sockets (EpollSockets)

    @Override
    void listen(Pollable ch, InetSocketAddress address, int backlog, boolean reusePort) throws IOException {
        EpollSockets.listen(ch, address, backlog, reusePort);
    }

    @Override
    boolean accept(Pollable listener, Pollable into) throws IOException {
        return EpollSockets.accept(listener, into);
    }

    @Override
    void open(Pollable ch, InetSocketAddress remote) throws IOException {
        EpollSockets.open(ch, remote);
    }

    @Override
    boolean connect(Pollable ch, InetSocketAddress remote) throws IOException {
        return EpollSockets.connect(ch, remote);
    }

    @Override
    boolean finishConnect(Pollable ch, InetSocketAddress remote) throws IOException {
        return EpollSockets.finishConnect(ch, remote);
    }

    @Override
    boolean isSelfConnected(Pollable ch, InetSocketAddress remote) throws IOException {
        return EpollSockets.isSelfConnected(ch, remote);
    }

    @Override
    int read(Pollable ch, Buffer dst, ByteBuffer scratchBuffer) throws IOException {
        if (scratchBuffer != scratch) {
            scratchAddress = Syscalls.address(scratchBuffer); // once per loop: the scratch is the loop's own
            scratch = scratchBuffer;
        }
        return EpollSockets.read(ch, dst, scratchBuffer, scratchAddress);
    }

    @Override
    int write(Pollable ch, Buffer src) throws IOException {
        return EpollSockets.write(ch, src);
    }

    @Override
    void shutdownOutput(Pollable ch) throws IOException {
        EpollSockets.shutdownOutput(ch);
    }

    @Override
    <T> void setOption(Pollable ch, SocketOption<T> option, T value) throws IOException {
        EpollSockets.setOption(ch, option, value);
    }

    @Override
    void setOption(Pollable ch, TcpOption option, int value) throws IOException {
        EpollSockets.setOption(ch, option, value);
    }

    @Override
    int getOption(Pollable ch, TcpOption option) throws IOException {
        return EpollSockets.getOption(ch, option);
    }

    @Override
    boolean tcpInfo(Pollable ch, TcpInfo into) throws IOException {
        EpollSockets.tcpInfo(ch, into);
        return true;
    }

    @Override
    InetSocketAddress localAddress(Pollable ch) throws IOException {
        return EpollSockets.localAddress(ch);
    }

    @Override
    InetSocketAddress remoteAddress(Pollable ch) throws IOException {
        return EpollSockets.remoteAddress(ch);
    }

    @Override
    boolean isOpen(Pollable ch) {
        return EpollSockets.isOpen(ch);
    }

    @Override
    void close(Pollable ch) {
        EpollSockets.close(ch);
    }

    @Override
    Object openReserve() {
        return EpollSockets.openReserve();
    }

    @Override
    void closeReserve(Object reserve) {
        EpollSockets.closeReserve(reserve);
    }
}
