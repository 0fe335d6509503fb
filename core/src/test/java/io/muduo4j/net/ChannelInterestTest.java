package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.SelectionKey;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Interest changes: {@code enableWriting}/{@code disableWriting} (with {@code isWriting}),
 * {@code disableAll}, and {@code interestOps} left untouched when the interest does not change.
 * "No dispatch" checks are made once the loop provably polled with the socket ready: for
 * writability, which holds from the first write callback on, after five more iterations (each
 * polls); for a read, after a {@link ChannelTestSupport.PollWitness} on the same loop was
 * dispatched, which happens only after the byte was there.
 */
@Timeout(20)
class ChannelInterestTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void enableWritingDispatchesWriteUntilDisabled(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("channel-write", LoopTestSupport.nioOptions(mode), null);
                ChannelTestSupport pipe = new ChannelTestSupport()) {
            EventLoop loop = t.startLoop();
            Channel ch = new Channel(loop, pipe.watched); // writable while its send buffer has room
            AtomicInteger writes = new AtomicInteger();
            CountDownLatch firstWrite = new CountDownLatch(1);
            boolean[] writingInCallback = new boolean[2];
            ch.setWriteCallback(() -> {
                writes.incrementAndGet();
                writingInCallback[0] = ch.isWriting();
                ch.disableWriting(); // muduo's pattern once the output buffer is flushed
                writingInCallback[1] = ch.isWriting();
                firstWrite.countDown();
            });
            assertFalse(ch.isWriting());
            LoopTestSupport.run(loop, ch::enableWriting);
            await(firstWrite, "the write callback");
            // Level-triggered: had writing not been disabled, every further poll would call back
            // (the socket has been writable all along: the callback ran); five more polls.
            LoopTestSupport.runIterations(loop, 5);
            assertEquals(1, LoopTestSupport.call(loop, writes::get));
            assertTrue(writingInCallback[0]);
            assertFalse(writingInCallback[1]);
            assertFalse(ch.isWriting());
            assertTrue(ch.isNoneEvent());
            // Again, with reading on as well: disableWriting keeps the read interest.
            CountDownLatch second = new CountDownLatch(1);
            ch.setWriteCallback(() -> {
                writes.incrementAndGet();
                ch.disableWriting();
                second.countDown();
            });
            int[] interest = LoopTestSupport.call(loop, () -> {
                ch.enableReading();
                ch.enableWriting();
                return new int[] {ch.interestOps(), ch.isWriting() ? 1 : 0};
            });
            assertEquals(SelectionKey.OP_READ | SelectionKey.OP_WRITE, interest[0]);
            assertEquals(1, interest[1], "isWriting");
            await(second, "the second write callback");
            LoopTestSupport.runIterations(loop, 5);
            assertEquals(2, LoopTestSupport.call(loop, writes::get));
            assertEquals(SelectionKey.OP_READ, ch.interestOps());
            assertTrue(ch.isReading());
            LoopTestSupport.run(loop, ch::remove);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void disableAllStopsDispatchButKeepsTheRegistration(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("channel-disable-all", LoopTestSupport.nioOptions(mode), null);
                ChannelTestSupport pipe = new ChannelTestSupport()) {
            EventLoop loop = t.startLoop();
            Channel ch = new Channel(loop, pipe.watched);
            AtomicInteger reads = new AtomicInteger();
            ch.setReadCallback(reads::incrementAndGet); // never drains: would fire on every poll
            LoopTestSupport.run(loop, ch::enableReading);
            SelectionKey key = LoopTestSupport.call(loop, () -> pipe.watched.keyFor(LoopTestSupport.selector(loop)));
            LoopTestSupport.run(loop, ch::disableAll);
            assertTrue(ch.isNoneEvent());
            assertFalse(ch.isReading());
            assertFalse(ch.isWriting());
            try (ChannelTestSupport.PollWitness witness = new ChannelTestSupport.PollWitness(loop)) {
                pipe.writeByte();
                pipe.awaitReadable(); // the byte is there: a channel with read interest would be dispatched
                witness.awaitPoll(); // and the loop has polled since
            }
            assertEquals(0, LoopTestSupport.call(loop, reads::get), "no dispatch without interest");
            assertTrue(key.isValid(), "disableAll keeps the key (muduo's kDeleted, re-enabled cheaply)");
            assertEquals(0, (int) LoopTestSupport.call(loop, key::interestOps));
            LoopTestSupport.run(loop, ch::enableReading);
            LoopTestSupport.awaitTrue(() -> reads.get() > 0, "a read after re-enabling");
            assertSame(key, LoopTestSupport.call(loop, () -> pipe.watched.keyFor(LoopTestSupport.selector(loop))),
                    "re-enabling reuses the key");
            LoopTestSupport.run(loop, ch::remove);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void unchangedInterestDoesNotTouchTheKey(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("channel-unchanged", LoopTestSupport.nioOptions(mode), null);
                ChannelTestSupport pipe = new ChannelTestSupport()) {
            EventLoop loop = t.startLoop();
            Channel ch = new Channel(loop, pipe.watched);
            LoopTestSupport.run(loop, ch::disableAll);
            assertEquals(null, LoopTestSupport.call(loop, () -> pipe.watched.keyFor(LoopTestSupport.selector(loop))),
                    "no interest, no registration");
            LoopTestSupport.run(loop, ch::enableReading);
            SelectionKey key = LoopTestSupport.call(loop, () -> pipe.watched.keyFor(LoopTestSupport.selector(loop)));
            assertNotNull(key);
            // Booby-trap the key: any interestOps(...) call on a cancelled key throws. Calls that do
            // not change the interest must not reach it, so the channel's interest survives them.
            boolean[] stillReading = LoopTestSupport.call(loop, () -> {
                key.cancel();
                ch.enableReading();
                ch.disableWriting();
                ch.enableReading();
                return new boolean[] {ch.isReading(), ch.interestOps() == SelectionKey.OP_READ};
            });
            assertTrue(stillReading[0] && stillReading[1], "an unchanged interest touched the key");
            LoopTestSupport.run(loop, ch::remove);
        }
    }
}
