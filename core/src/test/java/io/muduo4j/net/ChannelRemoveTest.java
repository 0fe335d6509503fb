package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.SelectionKey;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code remove()} deregisters the channel (its key is cancelled) and leaves the socket open. */
@Timeout(20)
class ChannelRemoveTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void removeCancelsTheKeyStopsDispatchAndKeepsTheSocketOpen(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("channel-remove", LoopTestSupport.options(mode), null);
                ChannelTestSupport pipe = new ChannelTestSupport()) {
            EventLoop loop = t.startLoop();
            Channel ch = new Channel(loop, pipe.watched);
            AtomicInteger reads = new AtomicInteger();
            ch.setReadCallback(reads::incrementAndGet); // never drains
            LoopTestSupport.run(loop, () -> {
                ch.enableReading();
                ch.enableWriting();
            });
            SelectionKey key = LoopTestSupport.call(loop, () -> pipe.watched.keyFor(loop.poller().selector()));
            LoopTestSupport.run(loop, ch::remove);
            assertFalse(key.isValid(), "the key is cancelled");
            assertTrue(ch.isNoneEvent());
            pipe.writeByte();
            LoopTestSupport.runIterations(loop, 5);
            assertEquals(0, LoopTestSupport.call(loop, reads::get), "a removed channel gets no events");
            assertNull(LoopTestSupport.call(loop, () -> pipe.watched.keyFor(loop.poller().selector())),
                    "deregistered once a select ran");
            assertEquals(0, LoopTestSupport.call(loop, () -> loop.poller().selector().keys().size()));
            assertTrue(pipe.watched.isOpen(), "the channel does not own the socket");
            LoopTestSupport.run(loop, ch::remove); // idempotent
        }
    }
}
