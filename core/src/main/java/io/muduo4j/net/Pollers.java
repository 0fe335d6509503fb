package io.muduo4j.net;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Makes a loop's {@link Poller} for a {@link Transport}. The epoll poller lives in the jar's
 * {@code META-INF/versions/22} and is looked up by name, so this Java 17 code never links to it:
 * on an older JDK the lookup fails and {@link Transport#AUTO} falls back to NIO.
 */
final class Pollers {
    private static final String EPOLL_CLASS = "io.muduo4j.net.EpollPoller";
    private static final MethodHandle EPOLL_NEW;
    private static final String EPOLL_UNAVAILABLE;

    static {
        MethodHandle ctor = null;
        String reason;
        try {
            Class<?> c = Class.forName(EPOLL_CLASS, true, Pollers.class.getClassLoader());
            MethodHandles.Lookup l = MethodHandles.lookup();
            reason = (String) l.findStatic(c, "unavailableReason", MethodType.methodType(String.class)).invoke();
            if (reason == null) {
                ctor = l.findConstructor(c, MethodType.methodType(void.class)).asType(MethodType.methodType(Poller.class));
            }
        } catch (ClassNotFoundException | LinkageError e) {
            reason = "the epoll transport needs JDK 22 or later (this is " + Runtime.version().feature()
                    + ") and the multi-release muduo4j-core jar";
        } catch (Throwable t) {
            reason = "the epoll transport could not load: " + t;
        }
        EPOLL_NEW = ctor;
        EPOLL_UNAVAILABLE = reason;
    }

    private Pollers() {
    }

    static String epollUnavailableReason() {
        return EPOLL_UNAVAILABLE;
    }

    /** A new poller of {@code transport} ({@link Transport#AUTO} resolved first). */
    static Poller open(Transport transport) throws IOException {
        Transport t = transport.resolve();
        if (t == Transport.NIO) {
            return new NioPoller();
        }
        if (EPOLL_NEW == null) {
            throw new UnsupportedOperationException("transport EPOLL is not available: " + EPOLL_UNAVAILABLE);
        }
        try {
            return (Poller) EPOLL_NEW.invokeExact();
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t2) {
            throw new IOException("cannot open an epoll poller", t2);
        }
    }
}
