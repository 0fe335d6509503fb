package io.muduo4j.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

/**
 * A reactor: one poller (the multiplexer of its {@link Transport}), one timer queue and one
 * cross-thread task queue, driven by exactly one thread. muduo's {@code EventLoop}.
 *
 * <h2>Threading contract</h2>
 * <ul>
 *   <li>A loop is bound to the thread that creates it, and a thread owns at most one loop (a
 *       second {@code new EventLoop()} in the same thread throws). A loop made with
 *       {@link EventLoopOptions#bindOnStart()} is bound instead to the first thread that runs it
 *       ({@link #loop()}, {@link #onStart()} or {@link #doWork()}): that is how an Agrona
 *       {@code AgentRunner} drives it.</li>
 *   <li>Any thread: {@link #runInLoop}, {@link #queueInLoop}, {@link #execute}, {@link #quit()},
 *       the timer methods, {@link #cancel(long)} and the counters.</li>
 *   <li>Loop thread only (checked, {@link IllegalStateException} naming both threads):
 *       {@link #loop()}, {@link #doWork()}, {@link #close()}, everything on {@link Channel}.</li>
 * </ul>
 *
 * <h2>One iteration</h2>
 * Poll (dispatching ready channels), run due timers, then run the tasks that were queued when the
 * drain began. Tasks queued while the drain runs wait for the next iteration, after I/O, and make
 * that iteration's poll non-blocking, so neither side starves.
 *
 * <h2>Wait modes</h2>
 * {@link WaitMode#BLOCKING} selects until the next timer deadline (at most 10 s), and a producer
 * pays a poller wake-up only when it finds the loop asleep (one compare-and-set decides
 * which producer). {@link WaitMode#SPINNING} never blocks: it polls with {@code selectNow} and
 * idles with an Agrona {@link IdleStrategy}; producers never wake it.
 *
 * <h2>Task queue policy</h2>
 * The cross-thread queue is a bounded Agrona {@link ManyToOneConcurrentArrayQueue}. No task is
 * ever dropped: when it is full, a producer on a thread that runs no loop waits (yielding, and
 * waking the loop so it drains) until there is room. A loop thread never waits: its own tasks go
 * to an unbounded loop-local overflow queue, drained after the shared one, in order; and another
 * running loop's thread (a relay's send, a server handing a connection to its I/O loop) parks its
 * task with this loop, unbounded like the overflow, and this loop runs it after the shared queue's
 * tasks, so two loops posting to each other's full queues cannot wait for each other. Parked
 * tasks keep their producer's order, also against that producer's posts before and after them.
 * Every task accepted runs exactly once on the loop thread, including tasks accepted after
 * {@link #quit()} but before the loop ended; once the loop has ended a submission throws
 * {@link RejectedExecutionException}.
 *
 * <h2>Errors</h2>
 * A task, timer or channel callback that throws is reported through {@link System.Logger} and the
 * optional {@link ErrorHandler}; the loop keeps running, {@link OutOfMemoryError} and
 * {@link StackOverflowError} included (an out-of-memory in a connection's work closes that
 * connection). Only another {@link VirtualMachineError} ({@link InternalError}, {@link UnknownError})
 * ends the loop, logged at ERROR.
 */
public final class EventLoop implements Agent, Executor, AutoCloseable {
    /** How an idle loop waits. */
    public enum WaitMode {
        /** Block in {@code select} until I/O, a timer deadline or a wake-up. */
        BLOCKING,
        /** Poll with {@code selectNow} and idle with an {@link IdleStrategy}; never sleeps in the kernel. */
        SPINNING
    }

    /** Receives what a task, timer or callback threw, on the loop thread. */
    @FunctionalInterface
    public interface ErrorHandler {
        /**
         * Reports one error.
         *
         * @param loop the loop it happened on
         * @param error what was thrown
         */
        void onError(EventLoop loop, Throwable error);
    }

    /** Receives a stall the detector found (see {@link EventLoopOptions#stallThreshold}), on the detector's thread. */
    @FunctionalInterface
    public interface StallHandler {
        /**
         * Reports one stall, once.
         *
         * @param loop       the stalled loop
         * @param stalledNanos how long its current iteration had run when it was seen
         * @param stack      the loop thread's stack, sampled then
         */
        void onStall(EventLoop loop, long stalledNanos, StackTraceElement[] stack);
    }

    private static final ThreadLocal<EventLoop> CURRENT = new ThreadLocal<>();
    static final long MAX_POLL_MS = 10_000;

    private static final int NOT_STARTED = 0;
    private static final int RUNNING = 1;
    private static final int TERMINATED = 2;

    static {
        AgronaAccess.check();
    }

    private final String name;
    private final WaitMode waitMode;
    private final IdleStrategy idleStrategy;
    private final LoopErrors errors;
    private final Poller poller;
    private final TimerQueue timers = new TimerQueue(64);
    private final TimerScheduler scheduler = new TimerScheduler(this, timers);
    private final TaskQueue tasks;
    private final BufferPool buffers = new BufferPool();
    private final LoopCounters counters = new LoopCounters();
    private final long stallThresholdNanos;
    private final StallHandler stallHandler;
    private StallDetector.Watch stallWatch; // loop thread: set while running with detection on
    private final int[] cpuAffinity; // null: the thread is left where it is

    private volatile Thread owner;
    private volatile int lifecycle = NOT_STARTED;
    private volatile boolean quit;
    private volatile boolean closed;
    private final Object endLock = new Object();
    private boolean ended; // guarded by endLock: the final drain is over
    private ArrayList<Runnable> afterEnd; // guarded by endLock: whenEnded's work, run at the end

    /** A blocking-mode loop bound to the calling thread. */
    public EventLoop() {
        this(EventLoopOptions.blocking());
    }

    /**
     * A loop made from {@code options}, bound to the calling thread unless {@link EventLoopOptions#bindOnStart()}.
     *
     * @param options the construction options
     */
    public EventLoop(EventLoopOptions options) {
        Objects.requireNonNull(options, "options");
        this.waitMode = options.waitMode();
        // The factory is asked once: a strategy per loop, and a factory may count or hand out its own.
        Supplier<? extends IdleStrategy> factory = options.idleStrategyFactory();
        IdleStrategy idle = factory == null ? null : factory.get();
        this.idleStrategy = idle != null ? idle : new BusySpinIdleStrategy();
        this.errors = new LoopErrors(this, options.errorHandler());
        this.tasks = new TaskQueue(this, options.taskQueueCapacity());
        this.stallThresholdNanos = options.stallThresholdNanos();
        StallHandler sh = options.stallHandler();
        this.stallHandler = sh != null ? sh : StallDetector::log;
        this.cpuAffinity = options.cpuAffinity();
        if (cpuAffinity != null) {
            Affinity.requireAvailable(); // fail here, on any thread, before anything is bound or opened
        }
        String n = options.name();
        this.name = n != null ? n : "EventLoop@" + Integer.toHexString(System.identityHashCode(this));
        if (!options.bindsOnStart()) {
            bindToCurrentThread();
        }
        try {
            this.poller = Pollers.open(options.transport());
        } catch (IOException e) {
            if (owner != null) {
                CURRENT.remove();
            }
            throw new UncheckedIOException("cannot open the " + options.transport().resolve() + " poller", e);
        } catch (RuntimeException | Error e) {
            // Do not leave the thread bound to a loop that does not exist (a retry would only
            // report "already owns" instead of the real cause, e.g. file descriptors exhausted).
            if (owner != null) {
                CURRENT.remove();
            }
            throw e;
        }
    }

    /**
     * The loop bound to the calling thread, or null.
     *
     * @return the current thread's loop, or null
     */
    public static EventLoop current() {
        return CURRENT.get();
    }

    /**
     * The loop's name.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * The transport this loop runs ({@link Transport#NIO} or {@link Transport#EPOLL}, never AUTO).
     *
     * @return the transport
     */
    public Transport transport() {
        return poller.transport();
    }

    /**
     * How this loop waits when idle.
     *
     * @return the wait mode
     */
    public WaitMode waitMode() {
        return waitMode;
    }

    private void bindToCurrentThread() {
        Thread t = Thread.currentThread();
        EventLoop existing = CURRENT.get();
        if (existing != null && existing != this) {
            throw new IllegalStateException("thread '" + t.getName() + "' already owns " + existing.name
                    + "; one loop per thread (close it first)");
        }
        if (cpuAffinity != null) {
            Affinity.pin(cpuAffinity); // before binding: a refused set leaves the thread unbound
        }
        CURRENT.set(this);
        owner = t;
    }

    private void bindIfUnbound() {
        if (owner == null) {
            bindToCurrentThread();
        } else {
            assertInLoopThread();
        }
    }

    // ------------------------------------------------------------------ running

    /**
     * Runs until {@link #quit()} (which may have been called already: quit is sticky). Loop thread
     * only; runs once. On return the loop is terminated; {@link #close()} releases the poller.
     */
    public void loop() {
        bindIfUnbound();
        start();
        try {
            if (waitMode == WaitMode.SPINNING) {
                IdleStrategy idle = idleStrategy;
                idle.reset();
                while (!quit) {
                    int work = iterate(false);
                    if (work == 0) {
                        long t0 = System.nanoTime();
                        idle.idle(0);
                        counters.add(LoopCounters.IDLE_NANOS, System.nanoTime() - t0);
                    } else {
                        idle.idle(work);
                    }
                }
            } else {
                while (!quit) {
                    iterate(true);
                }
            }
        } catch (VirtualMachineError e) {
            errors.fatal(e);
            throw e;
        } finally {
            terminate();
        }
    }

    /** Requests the loop to end after its current iteration. Any thread, any state; sticky. */
    public void quit() {
        quit = true;
        if (!isInLoopThread()) {
            tasks.wakeIfSleeping();
        }
    }

    /**
     * Whether {@link #quit()} has been called.
     *
     * @return true once quit was requested
     */
    public boolean isQuitRequested() {
        return quit;
    }

    /**
     * True once the loop has stopped running (and refuses tasks).
     *
     * @return whether the loop has terminated
     */
    public boolean isTerminated() {
        return lifecycle == TERMINATED;
    }

    /** Agrona {@link Agent}: binds the loop to the agent's thread. */
    @Override
    public void onStart() {
        bindIfUnbound();
        start();
    }

    /**
     * Agrona {@link Agent}: one non-blocking iteration (poll, timers, tasks) on the caller's thread,
     * returning the amount of work done. After {@link #quit()} it ends the loop and throws
     * {@link AgentTerminationException}, which stops an {@code AgentRunner}.
     */
    @Override
    public int doWork() {
        if (lifecycle != RUNNING) {
            onStart();
        } else if (Thread.currentThread() != owner) {
            throw wrongThread(Thread.currentThread());
        }
        if (quit) {
            terminate();
            throw new AgentTerminationException("event loop " + name + " quit", true); // expected: not an error
        }
        return iterate(false);
    }

    /** Agrona {@link Agent}: ends the loop if still running and closes it. */
    @Override
    public void onClose() {
        if (lifecycle == RUNNING) {
            terminate();
        }
        close();
    }

    @Override
    public String roleName() {
        return name;
    }

    private void start() {
        if (lifecycle != NOT_STARTED) {
            throw new IllegalStateException("event loop " + name + " has already run; a loop runs once");
        }
        if (closed) {
            throw new IllegalStateException("event loop " + name + " is closed");
        }
        lifecycle = RUNNING;
        if (stallThresholdNanos > 0) {
            stallWatch = StallDetector.watch(this, stallThresholdNanos, stallHandler);
        }
    }

    /** One iteration; returns the number of events, timers and tasks handled. */
    private int iterate(boolean mayBlock) {
        int work;
        try {
            if (mayBlock) {
                work = blockingPoll();
            } else {
                work = poller.pollNow();
            }
        } catch (IOException e) {
            reportError(e);
            work = 0;
        }
        counters.increment(LoopCounters.ITERATIONS);
        if (timers.size() > 0) {
            int fired = timers.expire(System.nanoTime(), this);
            counters.add(LoopCounters.TIMERS, fired);
            work += fired;
        }
        int ran = tasks.drain();
        counters.add(LoopCounters.TASKS, ran);
        return work + ran;
    }

    private int blockingPoll() throws IOException {
        if (tasks.hasPending()) {
            return poller.pollNow();
        }
        long timeoutMs = MAX_POLL_MS;
        long deadline = timers.nextDeadline();
        if (deadline != Long.MAX_VALUE) {
            long delayNs = deadline - System.nanoTime();
            if (delayNs <= 0) {
                return poller.pollNow();
            }
            timeoutMs = Math.min(MAX_POLL_MS, (delayNs + 999_999) / 1_000_000);
        }
        // Asleep is published before the last look at the queue and at quit: a producer (or
        // quit()) writes first and reads the state after, so one side always sees the other.
        tasks.markSleeping();
        if (tasks.hasPending() || quit) {
            tasks.markAwake();
            return poller.pollNow();
        }
        long t0 = System.nanoTime();
        poller.waitBegins();
        try {
            return poller.poll(timeoutMs);
        } finally {
            poller.waitEnds();
            tasks.markAwake();
            counters.add(LoopCounters.IDLE_NANOS, System.nanoTime() - t0);
        }
    }

    private void terminate() {
        if (lifecycle == TERMINATED) {
            return;
        }
        lifecycle = TERMINATED;
        try {
            // Every task accepted before producers could see TERMINATED still runs, exactly once.
            tasks.drainAfterTermination();
            timers.clear();
        } finally {
            end();
        }
    }

    /** The thread that terminated the loop, after its final drain: from now on nothing of the loop runs. */
    private void end() {
        if (stallWatch != null) {
            StallDetector.unwatch(stallWatch);
            stallWatch = null;
        }
        ArrayList<Runnable> work;
        synchronized (endLock) {
            ended = true;
            work = afterEnd;
            afterEnd = null;
        }
        if (work != null) {
            for (Runnable r : work) {
                runTask(r);
            }
        }
    }

    /**
     * For the off-loop close paths of a loop that has terminated (a submission was refused): runs
     * {@code work} once the loop's final drain is over, so that {@code work} may touch what is
     * confined to the loop (a server's registry, a client's connection) without racing the tasks
     * that drain still runs. Never waits: at once on the calling thread when the drain is over
     * already, or when the caller is the loop's own thread (which is the one running the drain);
     * else on the loop's thread right after the drain (what it throws is then reported). A drain
     * held for good by one of its tasks holds {@code work} with it. Any thread.
     */
    void whenEnded(Runnable work) {
        if (!isInLoopThread()) {
            synchronized (endLock) {
                if (!ended) {
                    if (afterEnd == null) {
                        afterEnd = new ArrayList<>(2);
                    }
                    afterEnd.add(work);
                    return;
                }
            }
        }
        work.run();
    }

    /**
     * Releases the poller and unbinds the thread (which may then create another loop). Loop
     * thread only, when the loop is not running (never started, or {@link #loop()} returned).
     * Sockets still registered are not closed: stop servers and clients first.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (owner != null) {
            assertInLoopThread();
        }
        if (lifecycle == RUNNING) {
            throw new IllegalStateException("event loop " + name + " is running; quit() it first");
        }
        if (lifecycle == NOT_STARTED) {
            terminate();
        }
        closed = true;
        try {
            poller.close();
        } catch (IOException e) {
            reportError(e);
        }
        if (owner != null && CURRENT.get() == this) {
            CURRENT.remove();
        }
    }

    /**
     * Whether {@link #close()} has released the poller.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return closed;
    }

    // ------------------------------------------------------------------ tasks

    /**
     * Whether the calling thread is this loop's thread.
     *
     * @return true on the loop thread
     */
    public boolean isInLoopThread() {
        return Thread.currentThread() == owner;
    }

    /** Throws {@link IllegalStateException} naming both threads when not called on the loop thread. */
    public void assertInLoopThread() {
        Thread t = Thread.currentThread();
        if (t != owner) {
            throw wrongThread(t);
        }
    }

    private IllegalStateException wrongThread(Thread caller) {
        Thread o = owner;
        return new IllegalStateException("event loop " + name + " is owned by thread '"
                + (o == null ? "<not bound yet>" : o.getName()) + "' but was called from thread '"
                + caller.getName() + "'");
    }

    /**
     * Runs {@code task} now if called on the loop thread, else queues it.
     *
     * @param task the task
     */
    public void runInLoop(Runnable task) {
        if (isInLoopThread()) {
            task.run();
        } else {
            queueInLoop(task);
        }
    }

    /** Same as {@link #runInLoop(Runnable)}. */
    @Override
    public void execute(Runnable task) {
        runInLoop(task);
    }

    /**
     * Queues {@code task} to run on the loop thread in a later drain. See the class comment for the full-queue policy.
     *
     * @param task the task
     */
    public void queueInLoop(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (isInLoopThread()) {
            tasks.offerFromLoop(task);
        } else {
            tasks.offerFromOtherThread(task);
        }
    }

    /**
     * Queues {@code conn}'s pending commands to run on the loop thread, as {@link #queueInLoop}
     * would a task, with the connection itself as the queue element: nothing is allocated.
     */
    void queueCommands(ConnectionCore conn) {
        if (isInLoopThread()) {
            tasks.offerFromLoop(conn);
        } else {
            tasks.offerFromOtherThread(conn);
        }
    }

    /**
     * Whether this loop's thread, the caller, must not wait for another loop's queue: while the
     * loop runs (its final drain included), waiting could wait for a loop that waits for it.
     */
    boolean mustNotWait() {
        return lifecycle == RUNNING || tasks.inFinalDrain();
    }

    /**
     * Number of tasks waiting (approximate when read from another thread).
     *
     * @return the number of queued tasks
     */
    public int queueSize() {
        return tasks.size(isInLoopThread());
    }

    /**
     * How many times a producer paid a poller wake-up.
     *
     * @return the wake-up count
     */
    public long wakeupCount() {
        return tasks.wakeupCount();
    }

    /**
     * Iterations so far (exact on the loop thread, maybe a little behind elsewhere).
     *
     * @return the number of loop iterations
     */
    public long iterations() {
        return counters.get(LoopCounters.ITERATIONS);
    }

    /**
     * Fills {@code into} with this loop's counters (see {@link LoopMetrics}), replacing what it
     * held. Any thread; allocates nothing.
     *
     * @param into the snapshot to fill
     * @return {@code into}
     */
    public LoopMetrics metrics(LoopMetrics into) {
        into.clear();
        addMetricsTo(into);
        return into;
    }

    /** Adds this loop's counters to {@code into}. Any thread. */
    void addMetricsTo(LoopMetrics into) {
        into.add(counters, tasks.wakeupCount(), System.nanoTime());
    }

    // ------------------------------------------------------------------ timers

    /**
     * Runs {@code task} once at {@code deadlineNanos} ({@link System#nanoTime()} base). Any thread.
     * Returns the timer id for {@link #cancel(long)}. Called on the loop thread nothing is
     * allocated; from another thread one small command object is.
     *
     * @param deadlineNanos when to run, on the {@link System#nanoTime()} clock
     * @param task the task
     * @return the timer id
     */
    public long runAt(long deadlineNanos, Runnable task) {
        return scheduler.schedule(deadlineNanos, 0, task);
    }

    /**
     * Runs {@code task} once after {@code delay}. Any thread.
     *
     * @param delay the delay (a negative one is 0)
     * @param unit its unit
     * @param task the task
     * @return the timer id for {@link #cancel(long)}
     */
    public long runAfter(long delay, TimeUnit unit, Runnable task) {
        return scheduler.schedule(System.nanoTime() + unit.toNanos(Math.max(0, delay)), 0, task);
    }

    /**
     * Runs {@code task} every {@code period} at a fixed rate (no cumulative drift), first after one period.
     *
     * @param period the period, {@code > 0}
     * @param unit its unit
     * @param task the task
     * @return the timer id for {@link #cancel(long)}
     */
    public long runEvery(long period, TimeUnit unit, Runnable task) {
        long p = TimerScheduler.positive(unit.toNanos(period));
        return scheduler.schedule(System.nanoTime() + p, p, task);
    }

    /**
     * Runs {@code task} every {@code delay} measured from the end of the previous run, first after one delay.
     *
     * @param delay the delay between runs, {@code > 0}
     * @param unit its unit
     * @param task the task
     * @return the timer id for {@link #cancel(long)}
     */
    public long runWithFixedDelay(long delay, TimeUnit unit, Runnable task) {
        long p = TimerScheduler.positive(unit.toNanos(delay));
        return scheduler.schedule(System.nanoTime() + p, -p, task);
    }

    /**
     * Cancels a timer. Any thread. On the loop thread the effect is immediate: the timer does not
     * run (again), even when it is due in the same expiry pass, and a repeating timer cancelled
     * from its own callback is not re-armed. From another thread the cancel is queued behind
     * everything that thread queued before (its own schedule included), so a timer that has not
     * fired yet when the cancel reaches the loop never fires. Unknown or spent ids are ignored.
     *
     * @param timerId an id returned by {@code runAt}, {@code runAfter}, {@code runEvery} or
     *                {@code runWithFixedDelay}
     */
    public void cancel(long timerId) {
        scheduler.cancel(timerId);
    }

    /** Timers pending, loop thread only. */
    int pendingTimers() {
        return timers.size();
    }

    // ------------------------------------------------------------------ errors

    void runTask(Object task) {
        try {
            if (task instanceof ConnectionCore) {
                ((ConnectionCore) task).runCommands();
            } else {
                ((Runnable) task).run();
            }
        } catch (Throwable t) {
            rethrowIfFatal(t);
            reportError(t);
        }
    }

    /** Reports an error on the loop thread: logs it and passes it to the handler, if any. */
    void reportError(Throwable t) {
        errors.report(t);
    }

    /** {@link LoopErrors#rethrowIfFatal}, where the loop's collaborators have always called it. */
    static void rethrowIfFatal(Throwable t) {
        LoopErrors.rethrowIfFatal(t);
    }

    Poller poller() {
        return poller;
    }

    /** The live counters behind {@link #metrics}; written on the loop thread (see {@link LoopCounters}). */
    LoopCounters counters() {
        return counters;
    }

    /** Connection buffers and read scratch of this loop; loop thread only. */
    BufferPool buffers() {
        return buffers;
    }

    @Override
    public String toString() {
        return name;
    }
}
