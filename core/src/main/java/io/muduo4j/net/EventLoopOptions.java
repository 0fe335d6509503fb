package io.muduo4j.net;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
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
    private long stallThresholdNanos;
    private EventLoop.StallHandler stallHandler;
    private int[] cpuAffinity;

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

    /**
     * Reports an iteration that holds the loop longer than {@code threshold} (a task, timer or
     * callback that blocks or runs long), once per stall, with the loop thread's stack sampled
     * from another thread; 0 (the default) turns detection off, and a loop without it costs
     * nothing. The report goes to {@link #stallHandler}, by default a warning through
     * {@link System.Logger} naming the loop, how long, and the stack. Detection samples every
     * quarter of the threshold (1 to 100 ms), so a stall is seen between 1 and 1.25 thresholds after
     * it began. An Agrona runner's idle strategy between {@code doWork} calls counts as a stall if
     * it idles longer than the threshold.
     *
     * @param threshold how long one iteration may run, &gt;= 1 ms, or 0 for no detection
     * @param unit      its unit
     * @return these options
     */
    public EventLoopOptions stallThreshold(long threshold, TimeUnit unit) {
        long ns = unit.toNanos(threshold);
        if (ns != 0 && ns < TimeUnit.MILLISECONDS.toNanos(1)) {
            throw new IllegalArgumentException("stall threshold " + threshold + " " + unit
                    + ": at least 1 ms, or 0 for no detection");
        }
        this.stallThresholdNanos = ns;
        return this;
    }

    /**
     * Receives the stalls {@link #stallThreshold} finds, on the detector's thread, instead of the
     * default warning.
     *
     * @param handler the handler, or null for the default
     * @return these options
     */
    public EventLoopOptions stallHandler(EventLoop.StallHandler handler) {
        this.stallHandler = handler;
        return this;
    }

    /**
     * Pins the loop's thread to these CPUs ({@code sched_setaffinity}; Linux, JDK 22+ with native
     * access, as the native transports need), when the loop binds to it: in the constructor, or on
     * the first run with {@link #bindOnStart()}. The spinning wait mode wants this: a pinned core,
     * ideally isolated from the scheduler ({@code isolcpus}, {@code nohz_full}), so the spin neither
     * migrates nor competes. Elsewhere the loop's construction fails with
     * {@link UnsupportedOperationException} saying why, and a set the kernel refuses (no CPU of it
     * online and allowed to this process) with {@link IllegalArgumentException} naming the CPUs
     * and the error. Every loop of a server's pool made from these options gets the same set.
     *
     * @param cpus the CPUs, each 0 to 1,023, at least one; none (an empty call) for no pinning
     * @return these options
     */
    public EventLoopOptions cpuAffinity(int... cpus) {
        this.cpuAffinity = cpus.length == 0 ? null : Affinity.checked(cpus);
        return this;
    }

    // ------------------------------------------------------------------ read by the library

    /** The CPUs to pin the loop thread to, sorted, or null. */
    int[] cpuAffinity() {
        return cpuAffinity;
    }

    long stallThresholdNanos() {
        return stallThresholdNanos;
    }

    EventLoop.StallHandler stallHandler() {
        return stallHandler;
    }

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
        o.stallThresholdNanos = stallThresholdNanos;
        o.stallHandler = stallHandler;
        o.cpuAffinity = cpuAffinity;
        return o;
    }
}
