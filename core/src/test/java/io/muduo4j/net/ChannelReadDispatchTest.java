package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code enableReading} registers the channel and its readiness reaches the read callback on the
 * loop thread, without the selector's selected-key set being used; for a server socket "reading"
 * means {@code OP_ACCEPT}.
 */
@Timeout(20)
class ChannelReadDispatchTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void readinessReachesTheReadCallbackOnTheLoopThread(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("channel-read", LoopTestSupport.nioOptions(mode), null);
                ChannelTestSupport pipe = new ChannelTestSupport()) {
            EventLoop loop = t.startLoop();
            Thread loopThread = LoopTestSupport.loopThread(loop);
            Channel ch = new Channel(loop, pipe.watched);
            BlockingQueue<Integer> reads = new LinkedBlockingQueue<>();
            boolean[] selectedKeysUsed = new boolean[1];
            ch.setReadCallback(() -> {
                assertSame(loopThread, Thread.currentThread());
                selectedKeysUsed[0] |= !LoopTestSupport.selector(loop).selectedKeys().isEmpty();
                reads.add(pipe.drain());
            });
            assertTrue(ch.isNoneEvent());
            LoopTestSupport.run(loop, ch::enableReading);
            assertTrue(ch.isReading());
            assertEquals(SelectionKey.OP_READ, ch.interestOps());
            assertEquals(SelectionKey.OP_READ,
                    LoopTestSupport.call(loop, () -> pipe.watched.keyFor(LoopTestSupport.selector(loop)).interestOps()));
            for (int i = 0; i < 3; i++) {
                pipe.writeByte();
                assertEquals(1, reads.poll(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS), "read " + i);
            }
            assertFalse(LoopTestSupport.call(loop, () -> selectedKeysUsed[0]), "dispatch bypasses the selected-key set");
            LoopTestSupport.run(loop, ch::remove);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void serverSocketReadingMeansAccept(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("channel-accept", LoopTestSupport.nioOptions(mode), null);
                ServerSocketChannel server = ServerSocketChannel.open()) {
            EventLoop loop = t.startLoop();
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            server.configureBlocking(false);
            Channel ch = new Channel(loop, server);
            CountDownLatch accepted = new CountDownLatch(1);
            ch.setReadCallback(() -> {
                try (SocketChannel s = server.accept()) {
                    if (s != null) {
                        accepted.countDown();
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            LoopTestSupport.run(loop, ch::enableReading);
            assertEquals(SelectionKey.OP_ACCEPT, ch.interestOps());
            try (SocketChannel client = SocketChannel.open(server.getLocalAddress())) {
                await(accepted, "the accept callback");
            }
            LoopTestSupport.run(loop, ch::remove);
        }
    }
}
