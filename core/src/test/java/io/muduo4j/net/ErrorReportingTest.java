package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A task, timer or channel callback that throws is reported to the {@link EventLoop.ErrorHandler}
 * on the loop thread, and the loop keeps running (even when the handler itself throws), whatever
 * was thrown short of a {@link VirtualMachineError} other than {@link StackOverflowError} and
 * {@link OutOfMemoryError}: an unchecked or checked exception, an {@link AssertionError}, a
 * {@link LinkageError}, a stack overflow, an out-of-memory. Such a fatal error ends the loop.
 */
@Timeout(20)
class ErrorReportingTest {
    /** What the handler saw: the error and the thread it was called on. */
    private record Report(Throwable error, Thread thread) {
    }

    private static final class Boom extends RuntimeException {
        Boom(String message) {
            super(message);
        }
    }

    private final BlockingQueue<Report> reports = new LinkedBlockingQueue<>();

    private EventLoopThread start(String name, EventLoop.WaitMode mode) {
        return new EventLoopThread(name, LoopTestSupport.nioOptions(mode)
                .errorHandler((loop, error) -> reports.add(new Report(error, Thread.currentThread()))), null);
    }

    private Report nextReport() throws InterruptedException {
        Report r = reports.poll(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
        assertNotNull(r, "error handler was not called");
        return r;
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void throwingTaskIsReportedAndTheLoopKeepsRunning(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = start("error-task", mode)) {
            EventLoop loop = t.startLoop();
            Thread loopThread = LoopTestSupport.loopThread(loop);
            loop.runInLoop(() -> {
                throw new Boom("task");
            });
            Report r = nextReport();
            assertEquals("task", r.error().getMessage());
            assertSame(loopThread, r.thread());
            assertEquals(42, LoopTestSupport.call(loop, () -> 42), "the loop still runs tasks");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void throwingTimersAreReportedAndARepeatingOneKeepsFiring(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = start("error-timer", mode)) {
            EventLoop loop = t.startLoop();
            loop.runAfter(1, TimeUnit.MILLISECONDS, () -> {
                throw new Boom("one-shot");
            });
            assertEquals("one-shot", nextReport().error().getMessage());
            long id = loop.runEvery(1, TimeUnit.MILLISECONDS, () -> {
                throw new Boom("repeating");
            });
            for (int i = 0; i < 3; i++) {
                assertEquals("repeating", nextReport().error().getMessage());
            }
            loop.cancel(id);
            assertEquals(42, LoopTestSupport.call(loop, () -> 42));
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void throwingChannelCallbackWithoutErrorCallbackIsReported(EventLoop.WaitMode mode) throws Exception {
        Pipe pipe = Pipe.open();
        try (EventLoopThread t = start("error-channel", mode);
                Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            EventLoop loop = t.startLoop();
            source.configureBlocking(false);
            Channel ch = new Channel(loop, source);
            ByteBuffer buf = ByteBuffer.allocate(16);
            ch.setReadCallback(() -> {
                try {
                    source.read(buf.clear());
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                throw new Boom("read callback");
            });
            LoopTestSupport.run(loop, ch::enableReading);
            sink.write(ByteBuffer.wrap(new byte[] {1}));
            assertEquals("read callback", nextReport().error().getMessage());
            sink.write(ByteBuffer.wrap(new byte[] {2}));
            assertEquals("read callback", nextReport().error().getMessage(), "the channel stays registered");
            LoopTestSupport.run(loop, ch::remove);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void throwingErrorHandlerDoesNotStopTheLoop(EventLoop.WaitMode mode) throws Exception {
        EventLoopOptions options = LoopTestSupport.nioOptions(mode).errorHandler((loop, error) -> {
            reports.add(new Report(error, Thread.currentThread()));
            throw new Boom("handler");
        });
        try (EventLoopThread t = new EventLoopThread("error-handler", options, null)) {
            EventLoop loop = t.startLoop();
            loop.runInLoop(() -> {
                throw new Boom("task");
            });
            assertEquals("task", nextReport().error().getMessage());
            assertEquals(42, LoopTestSupport.call(loop, () -> 42));
        }
    }

    /** Throwables that are not fatal to the JVM; the loop survives each. */
    enum Kind {
        RUNTIME_EXCEPTION, ASSERTION_ERROR, STACK_OVERFLOW, OUT_OF_MEMORY, CHECKED_EXCEPTION, LINKAGE_ERROR;

        /** Throws this kind; a real stack overflow for {@link #STACK_OVERFLOW}. */
        void raise(String where) {
            switch (this) {
                case RUNTIME_EXCEPTION:
                    throw new Boom(where);
                case ASSERTION_ERROR:
                    throw new AssertionError(where);
                case STACK_OVERFLOW:
                    recurse(0);
                    throw new IllegalStateException("no stack overflow");
                case OUT_OF_MEMORY:
                    throw new OutOfMemoryError(where); // thrown, as a library that ran out would
                case CHECKED_EXCEPTION:
                    ErrorReportingTest.<RuntimeException>sneaky(new java.io.IOException(where));
                    break;
                default:
                    throw new NoClassDefFoundError(where);
            }
        }

        Class<? extends Throwable> type() {
            switch (this) {
                case RUNTIME_EXCEPTION:
                    return Boom.class;
                case ASSERTION_ERROR:
                    return AssertionError.class;
                case STACK_OVERFLOW:
                    return StackOverflowError.class;
                case OUT_OF_MEMORY:
                    return OutOfMemoryError.class;
                case CHECKED_EXCEPTION:
                    return java.io.IOException.class;
                default:
                    return NoClassDefFoundError.class;
            }
        }
    }

    private static int recurse(int n) {
        return recurse(n + 1) + 1;
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void sneaky(Throwable t) throws T {
        throw (T) t;
    }

    static java.util.List<org.junit.jupiter.params.provider.Arguments> modesAndKinds() {
        java.util.List<org.junit.jupiter.params.provider.Arguments> a = new java.util.ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            for (Kind k : Kind.values()) {
                a.add(org.junit.jupiter.params.provider.Arguments.of(m, k));
            }
        }
        return a;
    }

    /**
     * Each non-fatal kind of throwable (an unchecked exception, an {@link AssertionError}, a real
     * {@link StackOverflowError}, a thrown {@link OutOfMemoryError}, a checked exception thrown
     * sneakily, a {@link LinkageError}),
     * thrown by a task, a timer and a channel callback, is reported on the loop thread and the
     * loop goes on running tasks, timers and I/O.
     */
    @ParameterizedTest(name = "{0}, {1}")
    @org.junit.jupiter.params.provider.MethodSource("modesAndKinds")
    void nonFatalThrowablesAreReportedFromEverySite(EventLoop.WaitMode mode, Kind kind) throws Exception {
        Pipe pipe = Pipe.open();
        try (EventLoopThread t = start("error-" + kind, mode);
                Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            EventLoop loop = t.startLoop();
            Thread loopThread = LoopTestSupport.loopThread(loop);
            loop.runInLoop(() -> kind.raise("task"));
            Report r = nextReport();
            assertEquals(kind.type(), r.error().getClass(), "from a task: " + r.error());
            assertSame(loopThread, r.thread());

            loop.runAfter(1, TimeUnit.MILLISECONDS, () -> kind.raise("timer"));
            assertEquals(kind.type(), nextReport().error().getClass(), "from a timer");

            source.configureBlocking(false);
            Channel ch = new Channel(loop, source);
            ByteBuffer buf = ByteBuffer.allocate(16);
            ch.setReadCallback(() -> {
                try {
                    source.read(buf.clear());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                kind.raise("channel");
            });
            LoopTestSupport.run(loop, ch::enableReading);
            sink.write(ByteBuffer.wrap(new byte[] {1}));
            assertEquals(kind.type(), nextReport().error().getClass(), "from a channel callback");
            sink.write(ByteBuffer.wrap(new byte[] {2}));
            assertEquals(kind.type(), nextReport().error().getClass(), "the channel stays registered");
            LoopTestSupport.run(loop, ch::remove);

            assertEquals(42, LoopTestSupport.call(loop, () -> 42), "the loop still runs tasks");
            CountDownLatch timer = new CountDownLatch(1);
            loop.runAfter(1, TimeUnit.MILLISECONDS, timer::countDown);
            LoopTestSupport.await(timer, "a timer after the errors");
            assertEquals(0, reports.size(), "further reports: " + reports);
            assertFalse(loop.isTerminated());
        }
    }

    /**
     * The contrast: a {@link VirtualMachineError} other than {@link StackOverflowError} and
     * {@link OutOfMemoryError} (here an
     * {@link InternalError}) is not survived. It ends the loop, which refuses tasks from then on.
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aFatalErrorEndsTheLoop(EventLoop.WaitMode mode) throws Exception {
        Thread.UncaughtExceptionHandler quiet = (th, e) -> { };
        try (EventLoopThread t = start("error-fatal", mode)) {
            EventLoop loop = t.startLoop();
            Thread loopThread = LoopTestSupport.loopThread(loop);
            loopThread.setUncaughtExceptionHandler(quiet); // the InternalError is expected
            loop.runInLoop(() -> {
                throw new InternalError("fatal");
            });
            LoopTestSupport.join(loopThread);
            assertTrue(loop.isTerminated());
            assertThrows(java.util.concurrent.RejectedExecutionException.class, () -> loop.runInLoop(() -> { }));
            assertEquals(0, reports.size(), "a fatal error is not reported as survived: " + reports);
        }
    }
}
