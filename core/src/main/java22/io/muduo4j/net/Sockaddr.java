package io.muduo4j.net;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;

/**
 * The {@code struct sockaddr_storage} of one thread's {@link Scratch}: an
 * {@link InetSocketAddress} encoded as {@code sockaddr_in} or {@code sockaddr_in6} for bind and
 * connect, and decoded from what getsockname or getpeername left there.
 *
 * <p>Encoding allocates nothing once the address's bytes are cached: {@code InetAddress} has no
 * allocation-free accessor, so the bytes of the address encoded last are kept and fetched again
 * only for another address.
 *
 * <p>Threading: its scratch's thread only, one call at a time.
 */
final class Sockaddr {
    static final int SOCKADDR_IN_SIZE = 16;
    static final int SOCKADDR_IN6_SIZE = 28;
    static final int SOCKADDR_STORAGE_SIZE = 128;
    private static final ValueLayout.OfShort NET_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

    private final MemorySegment mem;
    private final long sa;
    /** The address whose bytes are in {@link #addressBytes}; null until the first encode. */
    private InetAddress encoded;
    private final byte[] addressBytes = new byte[16];
    private int addressLength;

    /**
     * @param mem    the scratch memory
     * @param offset where in {@code mem} the {@link #SOCKADDR_STORAGE_SIZE} bytes of the sockaddr are
     */
    Sockaddr(MemorySegment mem, long offset) {
        this.mem = mem;
        this.sa = offset;
    }

    /**
     * Writes the sockaddr for a socket of {@code family}: its length, or -EAFNOSUPPORT. An IPv4
     * address on an {@code AF_INET6} socket becomes {@code ::ffff:a.b.c.d}.
     *
     * @throws IllegalArgumentException if {@code a} is unresolved
     */
    int encode(int family, InetSocketAddress a) {
        InetAddress ip = a.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("unresolved address: " + a);
        }
        boolean v4 = ip instanceof Inet4Address;
        if (family != Syscalls.AF_INET6 && (family != Syscalls.AF_INET || !v4)) {
            return -Errno.EAFNOSUPPORT;
        }
        if (ip != encoded) {
            byte[] b = ip.getAddress();
            System.arraycopy(b, 0, addressBytes, 0, b.length);
            addressLength = b.length;
            encoded = ip;
        }
        mem.set(NET_SHORT, sa + 2, (short) a.getPort());
        if (family == Syscalls.AF_INET) {
            mem.set(JAVA_SHORT, sa, (short) Syscalls.AF_INET);
            copyAddress(sa + 4, 0, 4);
            mem.set(JAVA_LONG, sa + 8, 0L); // sin_zero
            return SOCKADDR_IN_SIZE;
        }
        mem.set(JAVA_SHORT, sa, (short) Syscalls.AF_INET6);
        mem.set(JAVA_INT, sa + 4, 0); // sin6_flowinfo
        if (addressLength == 4) { // IPv4-mapped: ::ffff:a.b.c.d
            mem.set(JAVA_LONG, sa + 8, 0L);
            mem.set(JAVA_SHORT, sa + 16, (short) 0);
            mem.set(JAVA_SHORT, sa + 18, (short) 0xffff);
            copyAddress(sa + 20, 0, 4);
            mem.set(JAVA_INT, sa + 24, 0);
        } else {
            copyAddress(sa + 8, 0, 16);
            mem.set(JAVA_INT, sa + 24, ((Inet6Address) ip).getScopeId());
        }
        return SOCKADDR_IN6_SIZE;
    }

    private void copyAddress(long offset, int from, int count) {
        for (int i = 0; i < count; i++) {
            mem.set(JAVA_BYTE, offset + i, addressBytes[from + i]);
        }
    }

    /** The address getsockname or getpeername left in the sockaddr; allocates the result. */
    InetSocketAddress decode(String what) throws IOException {
        int family = mem.get(JAVA_SHORT, sa);
        int port = port();
        byte[] b;
        int scope = 0;
        if (family == Syscalls.AF_INET) {
            b = new byte[4];
            MemorySegment.copy(mem, JAVA_BYTE, sa + 4, b, 0, 4);
        } else if (family == Syscalls.AF_INET6) {
            b = new byte[16];
            MemorySegment.copy(mem, JAVA_BYTE, sa + 8, b, 0, 16);
            scope = mem.get(JAVA_INT, sa + 24);
        } else {
            throw new IOException(what + ": address family " + family + " is not IP");
        }
        // getByAddress turns an IPv4-mapped IPv6 address into an Inet4Address.
        InetAddress ip = scope == 0 ? InetAddress.getByAddress(b) : Inet6Address.getByAddress(null, b, scope);
        return new InetSocketAddress(ip, port);
    }

    /** The port in the sockaddr, of either family (sin_port and sin6_port share an offset); allocates nothing. */
    int port() {
        return mem.get(NET_SHORT, sa + 2) & 0xffff;
    }
}
