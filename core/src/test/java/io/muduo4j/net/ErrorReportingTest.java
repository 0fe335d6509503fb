package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A task, timer or channel callback that throws is reported to the {@link EventLoop.ErrorHandler}
 * on the loop thread, and the loop keeps running (even when the handler itself throws).
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
        return new EventLoopThread(name, LoopTestSupport.options(mode)
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
        EventLoop.Options options = LoopTestSupport.options(mode).errorHandler((loop, error) -> {
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
}
