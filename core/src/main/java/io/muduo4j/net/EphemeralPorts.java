package io.muduo4j.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The local port range the kernel picks a connect's port from. Only a connect to a port in that
 * range can be given its destination port as its local port and so be connected to itself (TCP's
 * simultaneous open), so the self-connect check, a {@code getsockname} per connect on the epoll
 * transport, is needed only there; a server on a fixed port outside it (80, 443, 8080, ...) is
 * spared it.
 *
 * <p>The range is read once, when first needed, from {@code /proc/sys/net/ipv4/ip_local_port_range}
 * (which IPv6 uses too). Where it cannot be read (not Linux, no procfs, a format not understood),
 * every port counts as ephemeral, so every connect is checked. A range widened later with
 * {@code sysctl} is not seen by a running process. Immutable; any thread.
 */
final class EphemeralPorts {
    static final String RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range";

    private static final EphemeralPorts SYSTEM = read(Path.of(RANGE_FILE));

    private final int low;
    private final int high;

    private EphemeralPorts(int low, int high) {
        this.low = low;
        this.high = high;
    }

    /** The range this process's kernel uses. */
    static EphemeralPorts system() {
        return SYSTEM;
    }

    /** Whether a connect to {@code port} can be connected to itself. */
    boolean contains(int port) {
        return port >= low && port <= high;
    }

    int low() {
        return low;
    }

    int high() {
        return high;
    }

    /** The range in {@code file}, or every port when it cannot be read or parsed. */
    static EphemeralPorts read(Path file) {
        try {
            return parse(new String(Files.readAllBytes(file), StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            return all();
        }
    }

    /** Two port numbers separated by white space ({@code "32768\t60999\n"}); anything else is every port. */
    static EphemeralPorts parse(String text) {
        String[] parts = text.trim().split("\\s+");
        if (parts.length != 2) {
            return all();
        }
        try {
            int low = Integer.parseInt(parts[0]);
            int high = Integer.parseInt(parts[1]);
            if (low < 1 || high > 65535 || low > high) {
                return all();
            }
            return new EphemeralPorts(low, high);
        } catch (NumberFormatException e) {
            return all();
        }
    }

    static EphemeralPorts all() {
        return new EphemeralPorts(0, 65535);
    }
}
