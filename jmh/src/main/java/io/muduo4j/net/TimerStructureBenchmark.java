package io.muduo4j.net;

import java.util.concurrent.TimeUnit;
import org.agrona.DeadlineTimerWheel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The measurement behind the loop's timer structure: muduo4j's {@link TimerQueue} (a primitive
 * binary heap with a long-to-slot map) beside Agrona's {@link DeadlineTimerWheel}, with
 * {@code pending} other timers in place, for the two things a loop does with timers: schedule and
 * cancel (a connect timeout that did not fire), and schedule and fire. Lives in the library's
 * package to reach the package-private queue.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class TimerStructureBenchmark {
    @Param({"16", "4096"})
    public int pending;

    private static final long FAR = TimeUnit.SECONDS.toNanos(30);
    private static final Runnable NOOP = () -> { };
    private static final DeadlineTimerWheel.TimerHandler FIRE = (unit, now, id) -> true;

    private EventLoop loop;
    private TimerQueue heap;
    private DeadlineTimerWheel wheel;
    private long nextId;
    private long now;

    @Setup(Level.Trial)
    public void setUp() {
        loop = new EventLoop(EventLoopOptions.blocking());
        heap = new TimerQueue(64);
        now = System.nanoTime();
        // 1 ms ticks, 1024 slots: the wheel's usual shape for network timeouts.
        wheel = new DeadlineTimerWheel(TimeUnit.NANOSECONDS, now, 1L << 20, 1024);
        for (int i = 0; i < pending; i++) {
            long deadline = now + FAR + i * 1_000_000L;
            heap.schedule(++nextId, deadline, 0, NOOP);
            wheel.scheduleTimer(deadline);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        loop.close();
    }

    @Benchmark
    public boolean heapScheduleCancel() {
        long id = ++nextId;
        heap.schedule(id, now + 5_000_000_000L, 0, NOOP);
        return heap.cancel(id);
    }

    @Benchmark
    public boolean wheelScheduleCancel() {
        return wheel.cancelTimer(wheel.scheduleTimer(now + 5_000_000_000L));
    }

    @Benchmark
    public int heapScheduleFire() {
        now += 2_000_000L;
        heap.schedule(++nextId, now - 1, 0, NOOP);
        return heap.expire(now, loop);
    }

    @Benchmark
    public int wheelScheduleFire() {
        now += 2_000_000L;
        wheel.scheduleTimer(now - 1);
        return wheel.poll(now, FIRE, Integer.MAX_VALUE);
    }
}
