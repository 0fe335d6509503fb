package io.muduo4j.net;

/**
 * Which system-call layer a loop runs on: its multiplexer and the socket calls of every connection
 * on it. Chosen per loop ({@link EventLoopOptions#transport(Transport)}); every loop of one server
 * or client must run the same one, since a socket belongs to the layer that opened it.
 *
 * <ul>
 *   <li>{@link #NIO}: the JDK's {@code java.nio.channels}; every JDK, every platform.</li>
 *   <li>{@link #EPOLL}: Linux {@code epoll} and raw descriptors called through the Foreign Function
 *       and Memory API; JDK 22 or later (the classes ship in the jar's {@code META-INF/versions/22})
 *       with native access enabled ({@code --enable-native-access=ALL-UNNAMED}, or the module's
 *       name on the module path). It makes the system calls a C server makes and no more.</li>
 *   <li>{@link #AUTO} (the default): {@link #EPOLL} where it is available, {@link #NIO} otherwise;
 *       {@link #unavailableReason()} says why epoll was not taken. The system property
 *       {@code muduo4j.transport} ({@code nio}, {@code epoll} or {@code auto}) overrides what
 *       {@code AUTO} stands for, so a deployment can choose without a code change.</li>
 * </ul>
 */
public enum Transport {
    /** The best available: {@link #EPOLL} where it works, else {@link #NIO}. */
    AUTO,
    /** The JDK's NIO selector and socket channels. */
    NIO,
    /** Native epoll through the FFM API (Linux, JDK 22+, native access enabled). */
    EPOLL;

    /**
     * Whether this transport can run here. {@link #AUTO} and {@link #NIO} always can.
     *
     * @return true when a loop can be made with it
     */
    public boolean isAvailable() {
        return this != EPOLL || Pollers.epollUnavailableReason() == null;
    }

    /**
     * Why {@link #EPOLL} cannot run here (the JDK is older than 22, not Linux, native access is
     * not enabled, ...), or null when it can.
     *
     * @return the reason, or null
     */
    public static String unavailableReason() {
        return Pollers.epollUnavailableReason();
    }

    /**
     * What {@link #AUTO} stands for here; {@link #NIO} and {@link #EPOLL} stand for themselves.
     *
     * @return {@link #NIO} or {@link #EPOLL}
     */
    public Transport resolve() {
        if (this != AUTO) {
            return this;
        }
        Transport chosen = Default.CHOSEN;
        if (chosen == null) {
            throw new IllegalArgumentException("system property muduo4j.transport=" + Default.VALUE
                    + ": not a transport (auto, nio or epoll)");
        }
        if (chosen != AUTO) {
            return chosen;
        }
        return EPOLL.isAvailable() ? EPOLL : NIO;
    }

    /** The {@code muduo4j.transport} property, read once; null when it names no transport. */
    private static final class Default {
        static final String VALUE = System.getProperty("muduo4j.transport", "auto").trim();
        static final Transport CHOSEN = parse(VALUE);

        private static Transport parse(String v) {
            for (Transport t : values()) {
                if (t.name().equalsIgnoreCase(v)) {
                    return t;
                }
            }
            return null;
        }
    }

    /**
     * The transport named {@code name}: {@code auto}, {@code nio} or {@code epoll}, in any case
     * (for command lines).
     *
     * @param name the name
     * @return the transport
     * @throws IllegalArgumentException for another name
     */
    public static Transport of(String name) {
        for (Transport t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown transport '" + name + "': auto, nio or epoll");
    }
}
