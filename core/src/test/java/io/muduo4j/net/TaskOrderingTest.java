package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Tasks queued while the loop drains its queue run in the next iteration, after that iteration's
 * I/O, and neither side starves: a task that keeps re-queueing itself does not starve I/O or
 * timers, and a channel that is always ready or a timer that is always due does not starve tasks.
 */
@Timeout(30)
class TaskOrderingTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void taskQueuedDuringDrainRunsNextIterationAfterIo(EventLoop.WaitMode mode) throws Exception {
        Pipe pipe = Pipe.open();
        try (EventLoopThread t = new EventLoopThread("order-drain", LoopTestSupport.nioOptions(mode), null);
                Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            EventLoop loop = t.startLoop();
            source.configureBlocking(false);
            List<String> events = new ArrayList<>();
            long[] iteration = new long[2];
            CountDownLatch done = new CountDownLatch(1);
            ByteBuffer buf = ByteBuffer.allocate(64);
            Channel ch = new Channel(loop, source);
            ch.setReadCallback(() -> {
                try {
                    buf.clear();
                    source.read(buf);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                events.add("read");
            });
            LoopTestSupport.run(loop, ch::enableReading);
            loop.runInLoop(() -> {
                events.add("A");
                iteration[0] = loop.iterations();
                try {
                    sink.write(ByteBuffer.wrap(new byte[] {1})); // source is readable from now on
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                loop.queueInLoop(() -> {
                    events.add("B");
                    iteration[1] = loop.iterations();
                    done.countDown();
                });
            });
            await(done, "task B");
            LoopTestSupport.run(loop, ch::remove);
            assertEquals(List.of("A", "read", "B"), LoopTestSupport.call(loop, () -> List.copyOf(events)),
                    "B was queued during A's drain: it waits for the next iteration's poll");
            // iterations() counts polls: B ran in the iteration right after A's, whose poll
            // dispatched the read (the order above puts the read between them).
            assertEquals(iteration[0] + 1, iteration[1], "B ran in the next iteration");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void selfRequeueingTaskStarvesNeitherIoNorTimers(EventLoop.WaitMode mode) throws Exception {
        Pipe pipe = Pipe.open();
        try (EventLoopThread t = new EventLoopThread("order-busy-tasks", LoopTestSupport.nioOptions(mode), null);
                Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            EventLoop loop = t.startLoop();
            source.configureBlocking(false);
            CountDownLatch io = new CountDownLatch(1);
            CountDownLatch timer = new CountDownLatch(1);
            AtomicBoolean stop = new AtomicBoolean();
            Channel ch = new Channel(loop, source);
            ch.setReadCallback(io::countDown);
            LoopTestSupport.run(loop, ch::enableReading);
            loop.runInLoop(new Runnable() {
                @Override
                public void run() {
                    if (!stop.get()) {
                        loop.queueInLoop(this);
                    }
                }
            });
            loop.runAfter(2, TimeUnit.MILLISECONDS, timer::countDown);
            sink.write(ByteBuffer.wrap(new byte[] {1}));
            await(io, "I/O while a task re-queues itself forever");
            await(timer, "a timer while a task re-queues itself forever");
            stop.set(true);
            LoopTestSupport.run(loop, ch::remove);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void alwaysReadyChannelAndAlwaysDueTimerDoNotStarveTasks(EventLoop.WaitMode mode) throws Exception {
        Pipe pipe = Pipe.open();
        try (EventLoopThread t = new EventLoopThread("order-busy-io", LoopTestSupport.nioOptions(mode), null);
                Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            EventLoop loop = t.startLoop();
            source.configureBlocking(false);
            Channel ch = new Channel(loop, source);
            CountDownLatch reads = new CountDownLatch(100);
            ch.setReadCallback(reads::countDown); // never consumes: level-triggered, ready every poll
            sink.write(ByteBuffer.wrap(new byte[] {1}));
            LoopTestSupport.run(loop, () -> {
                ch.enableReading();
                loop.runEvery(1, TimeUnit.NANOSECONDS, () -> { }); // always behind, always due
            });
            await(reads, "the always-ready channel to be dispatched");
            CountDownLatch task = new CountDownLatch(50);
            for (int i = 0; i < 50; i++) {
                loop.runInLoop(task::countDown);
            }
            await(task, "tasks beside an always-ready channel and an always-due timer");
            LoopTestSupport.run(loop, ch::remove);
        }
    }
}
