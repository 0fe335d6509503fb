package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A read or write callback that throws goes to the channel's error callback (not to the loop's
 * error handler), on the loop thread, and the loop keeps running.
 */
@Timeout(20)
class ChannelCallbackErrorTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void throwingCallbacksGoToTheErrorCallback(EventLoop.WaitMode mode) throws Exception {
        BlockingQueue<Throwable> loopErrors = new LinkedBlockingQueue<>();
        EventLoopOptions options = LoopTestSupport.nioOptions(mode).errorHandler((l, e) -> loopErrors.add(e));
        try (EventLoopThread t = new EventLoopThread("channel-error", options, null);
                ChannelTestSupport pipe = new ChannelTestSupport()) {
            EventLoop loop = t.startLoop();
            Thread loopThread = LoopTestSupport.loopThread(loop);
            BlockingQueue<Throwable> channelErrors = new LinkedBlockingQueue<>();
            Thread[] errorThread = new Thread[1];
            Channel reader = new Channel(loop, pipe.watched);
            reader.setReadCallback(() -> {
                pipe.drain();
                throw new IllegalStateException("read failed");
            });
            reader.setErrorCallback(e -> {
                errorThread[0] = Thread.currentThread();
                channelErrors.add(e);
            });
            Channel writer = new Channel(loop, pipe.peer);
            writer.setWriteCallback(() -> {
                writer.disableWriting();
                throw new IllegalStateException("write failed");
            });
            writer.setErrorCallback(channelErrors::add);
            LoopTestSupport.run(loop, reader::enableReading);
            pipe.writeByte();
            Throwable e = channelErrors.poll(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(e, "error callback for the read callback");
            assertEquals("read failed", e.getMessage());
            assertSame(loopThread, errorThread[0]);
            LoopTestSupport.run(loop, writer::enableWriting);
            e = channelErrors.poll(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(e, "error callback for the write callback");
            assertEquals("write failed", e.getMessage());
            // The loop goes on, and the channel stays registered.
            pipe.writeByte();
            e = channelErrors.poll(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(e);
            assertEquals("read failed", e.getMessage());
            assertEquals(42, LoopTestSupport.call(loop, () -> 42));
            assertNull(loopErrors.poll(), "handled by the error callback, not the loop's handler");
            LoopTestSupport.run(loop, () -> {
                reader.remove();
                writer.remove();
            });
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void throwingErrorCallbackFallsBackToTheLoopHandler(EventLoop.WaitMode mode) throws Exception {
        BlockingQueue<Throwable> loopErrors = new LinkedBlockingQueue<>();
        EventLoopOptions options = LoopTestSupport.nioOptions(mode).errorHandler((l, e) -> loopErrors.add(e));
        try (EventLoopThread t = new EventLoopThread("channel-error-2", options, null);
                ChannelTestSupport pipe = new ChannelTestSupport()) {
            EventLoop loop = t.startLoop();
            Channel reader = new Channel(loop, pipe.watched);
            reader.setReadCallback(() -> {
                pipe.drain();
                throw new IllegalStateException("read failed");
            });
            reader.setErrorCallback(e -> {
                throw new IllegalArgumentException("error callback failed");
            });
            LoopTestSupport.run(loop, reader::enableReading);
            pipe.writeByte();
            Throwable e = loopErrors.poll(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(e);
            assertEquals("error callback failed", e.getMessage());
            assertEquals(42, LoopTestSupport.call(loop, () -> 42));
            LoopTestSupport.run(loop, reader::remove);
        }
    }
}
