package io.muduo4j.net;

import java.util.Objects;
import java.util.function.Supplier;
import org.agrona.concurrent.IdleStrategy;

/**
 * How an {@link EventLoop} is made: its wait mode, idle strategy, task queue capacity, error
 * handler, name, thread binding and transport. A plain mutable holder with chained setters.
 *
 * <p><b>Threading:</b> not thread-safe; configure it on one thread, then hand it over. A loop reads
 * it once, in its constructor, and {@link EventLoopThread} copies it in its own constructor, so
 * changing it afterwards affects only loops made from it later. An {@link EventLoopThreadPool} (and
 * so a {@link TcpServer}) keeps the instance it was given until it starts its threads: leave it
 * alone until then.
 */
public final class EventLoopOptions {
    private EventLoop.WaitMode waitMode = EventLoop.WaitMode.BLOCKING;
    private Supplier<? extends IdleStrategy> idleStrategy;
    private int taskQueueCapacity = 8192;
    private EventLoop.ErrorHandler errorHandler;
    private String name;
    private boolean bindOnStart;
    private Transport transport = Transport.AUTO;

    /** Blocking mode, the defaults; the same as {@link #blocking()}. */
    public EventLoopOptions() {
    }

    /**
     * Blocking mode (the default): select until I/O, the next timer or a wake-up.
     *
     * @return new options
     */
    public static EventLoopOptions blocking() {
        return new EventLoopOptions();
    }

    /**
     * Spinning mode idling with {@code idle}. Strategies such as Agrona's
     * {@code BackoffIdleStrategy} keep state, so an instance must serve one loop only: to
     * configure several loops (a pool, a server's I/O threads) pass a factory to
     * {@link #spinning(Supplier)} instead.
     *
     * @param idle the idle strategy of the one loop these options configure
     * @return new options
     */
    public static EventLoopOptions spinning(IdleStrategy idle) {
        Objects.requireNonNull(idle, "idle");
        return spinning(() -> idle);
    }

    /**
     * Spinning mode; each loop made from these options gets its own strategy from {@code factory}.
     *
     * @param factory makes one idle strategy per loop
     * @return new options
     */
    public static EventLoopOptions spinning(Supplier<? extends IdleStrategy> factory) {
        EventLoopOptions o = new EventLoopOptions();
        o.waitMode = EventLoop.WaitMode.SPINNING;
        o.idleStrategy = Objects.requireNonNull(factory, "factory");
        return o;
    }

    /**
     * The wait mode.
     *
     * @param mode blocking or spinning
     * @return these options
     */
    public EventLoopOptions waitMode(EventLoop.WaitMode mode) {
        this.waitMode = Objects.requireNonNull(mode, "mode");
        return this;
    }

    /**
     * The idle strategy of the spinning mode (see {@link #spinning(IdleStrategy)} on sharing).
     *
     * @param idle the idle strategy
     * @return these options
     */
    public EventLoopOptions idleStrategy(IdleStrategy idle) {
        Objects.requireNonNull(idle, "idle");
        this.idleStrategy = () -> idle;
        return this;
    }

    /**
     * Capacity of the cross-thread task queue; rounded up to a power of two by Agrona.
     *
     * @param capacity the capacity, {@code >= 2} (default 8192)
     * @return these options
     */
    public EventLoopOptions taskQueueCapacity(int capacity) {
        if (capacity < 2) {
            throw new IllegalArgumentException("taskQueueCapacity must be >= 2: " + capacity);
        }
        this.taskQueueCapacity = capacity;
        return this;
    }

    /**
     * Also receives what tasks, timers and callbacks throw (every error is logged either way).
     *
     * @param handler the error handler, or null for the default
     * @return these options
     */
    public EventLoopOptions errorHandler(EventLoop.ErrorHandler handler) {
        this.errorHandler = handler;
        return this;
    }

    /**
     * The loop's name, used in logs and errors.
     *
     * @param name the name, or null for a generated one
     * @return these options
     */
    public EventLoopOptions name(String name) {
        this.name = name;
        return this;
    }

    /**
     * Bind the loop to the first thread that runs it instead of the creating thread.
     *
     * @return these options
     */
    public EventLoopOptions bindOnStart() {
        this.bindOnStart = true;
        return this;
    }

    /**
     * The transport (default {@link Transport#AUTO}: epoll where available, else NIO). A loop
     * made with {@link Transport#EPOLL} where it is not available fails with
     * {@link UnsupportedOperationException} saying why.
     *
     * @param transport the transport
     * @return these options
     */
    public EventLoopOptions transport(Transport transport) {
        this.transport = Objects.requireNonNull(transport, "transport");
        return this;
    }

    // ------------------------------------------------------------------ read by the library

    EventLoop.WaitMode waitMode() {
        return waitMode;
    }

    /** The idle strategy factory, or null (the loop then busy-spins). */
    Supplier<? extends IdleStrategy> idleStrategyFactory() {
        return idleStrategy;
    }

    int taskQueueCapacity() {
        return taskQueueCapacity;
    }

    EventLoop.ErrorHandler errorHandler() {
        return errorHandler;
    }

    String name() {
        return name;
    }

    // Not bindOnStart(): that name is the public setter.
    boolean bindsOnStart() {
        return bindOnStart;
    }

    Transport transport() {
        return transport;
    }

    /** A copy, so one instance can configure many loops (each gets its own idle strategy state). */
    EventLoopOptions copy() {
        EventLoopOptions o = new EventLoopOptions();
        o.waitMode = waitMode;
        o.idleStrategy = idleStrategy;
        o.taskQueueCapacity = taskQueueCapacity;
        o.errorHandler = errorHandler;
        o.name = name;
        o.bindOnStart = bindOnStart;
        o.transport = transport;
        return o;
    }
}
