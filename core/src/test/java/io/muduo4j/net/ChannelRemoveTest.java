package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.SelectionKey;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code remove()} deregisters the channel (its key is cancelled) and leaves the socket open. The
 * "no events" check is made after the loop provably polled with the removed channel's socket
 * readable (a {@link ChannelTestSupport.PollWitness} on the same loop).
 */
@Timeout(20)
class ChannelRemoveTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void removeCancelsTheKeyStopsDispatchAndKeepsTheSocketOpen(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("channel-remove", LoopTestSupport.nioOptions(mode), null);
                ChannelTestSupport pipe = new ChannelTestSupport()) {
            EventLoop loop = t.startLoop();
            Channel ch = new Channel(loop, pipe.watched);
            AtomicInteger reads = new AtomicInteger();
            AtomicInteger writes = new AtomicInteger();
            ch.setReadCallback(reads::incrementAndGet); // never drains
            ch.setWriteCallback(writes::incrementAndGet); // the socket stays writable
            try (ChannelTestSupport.PollWitness witness = new ChannelTestSupport.PollWitness(loop)) {
                LoopTestSupport.run(loop, () -> {
                    ch.enableReading();
                    ch.enableWriting();
                });
                SelectionKey key = LoopTestSupport.call(loop, () -> pipe.watched.keyFor(LoopTestSupport.selector(loop)));
                LoopTestSupport.run(loop, ch::remove);
                assertFalse(key.isValid(), "the key is cancelled");
                assertTrue(ch.isNoneEvent());
                int writesAtRemove = LoopTestSupport.call(loop, writes::get);
                pipe.writeByte();
                pipe.awaitReadable(); // the byte is there: a registered channel would be dispatched
                witness.awaitPoll(); // and the loop has polled since
                assertEquals(0, LoopTestSupport.call(loop, reads::get), "a removed channel gets no events");
                assertEquals(writesAtRemove, LoopTestSupport.call(loop, writes::get),
                        "a removed channel gets no write events though its socket is writable");
                assertNull(LoopTestSupport.call(loop, () -> pipe.watched.keyFor(LoopTestSupport.selector(loop))),
                        "deregistered once a select ran");
                assertEquals(Set.of(witness.key()), LoopTestSupport.call(loop,
                        () -> LoopTestSupport.selector(loop).keys().stream()
                                .filter(k -> k.attachment() != null) // the poller's own wake-up pipe has none
                                .collect(java.util.stream.Collectors.toSet())), "only the witness is registered");
            }
            assertTrue(pipe.watched.isOpen(), "the channel does not own the socket");
            LoopTestSupport.run(loop, ch::remove); // idempotent
        }
    }
}
