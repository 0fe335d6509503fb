package io.muduo4j.bench;

/** JVM arguments every benchmark fork gets (compile-time constants, for the annotations). */
final class BenchJvm {
    /** Agrona 2.x reaches {@code jdk.internal.misc.Unsafe}. */
    static final String ADD_OPENS = "--add-opens";
    static final String MISC = "java.base/jdk.internal.misc=ALL-UNNAMED";
    /** The FFM epoll transport (muduo4j's MUDUO_EPOLL) and Netty's JNI transports load native code without a warning. */
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    /** A fixed heap, so GC sizing does not differ between implementations. */
    static final String XMS = "-Xms1g";
    static final String XMX = "-Xmx1g";
    /**
     * The JDK's epoll selector boxes every ready descriptor above 127 ({@code Integer.valueOf} in
     * {@code EPollSelectorImpl.processEvents}); a larger box cache makes that allocation-free. It
     * applies to every implementation in the fork alike (Netty NIO hits the same code).
     */
    static final String BOX_CACHE = "-XX:AutoBoxCacheMax=65536";
    /** As Netty's own microbenchmarks do: no leak-detection sampling on the measured paths. */
    static final String NO_LEAK_DETECTION = "-Dio.netty.leakDetection.level=disabled";

    private BenchJvm() {
    }
}
