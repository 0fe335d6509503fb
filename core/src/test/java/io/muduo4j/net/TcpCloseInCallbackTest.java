package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Closing a connection from inside each kind of its callbacks: up, message, write-complete,
 * high-water, low-water, half-close and down, by {@code forceClose()}, by {@code shutdown()} and
 * (on the client side) by {@link TcpClient#close()}, each called twice. The actor is either the
 * client or the server connection; the other side (a muduo4j peer) provokes the callback. Each side
 * gets exactly one down callback, nothing is reported to the loops' error handlers (an assertion
 * failing inside a callback is reported there too), the client's close future completes, and no
 * socket is left open. Both wait modes, client and server on one loop and on two.
 */
@Timeout(60)
class TcpCloseInCallbackTest {
    private static final int BIG = 16 << 20;
    private static final long HIGH = 1 << 20;
    private static final long LOW = 64 * 1024;

    enum Kind { UP, MESSAGE, WRITE_COMPLETE, HIGH_WATER, LOW_WATER, HALF_CLOSE, DOWN }

    enum How { FORCE_CLOSE, SHUTDOWN, CLIENT_CLOSE }

    static List<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            for (boolean sameLoop : new boolean[] {false, true}) {
                for (boolean clientActs : new boolean[] {true, false}) {
                    for (Kind k : Kind.values()) {
                        for (How h : How.values()) {
                            if (h != How.CLIENT_CLOSE || clientActs) {
                                a.add(Arguments.of(m, sameLoop, clientActs, k, h));
                            }
                        }
                    }
                }
            }
        }
        return a;
    }

    /** The callbacks of one side, applied to a server or a client. */
    static final class Handlers {
        ConnectionCallback connection;
        MessageCallback message = (c, b, t) -> b.retrieveAll();
        WriteCompleteCallback writeComplete;
        HighWaterMarkCallback highWater;
        ConnectionCallback lowWater;
        boolean allowHalfClosure;
        ConnectionCallback halfClose;

        void applyTo(TcpServer s) {
            s.setConnectionCallback(connection);
            s.setMessageCallback(message);
            s.setWriteCompleteCallback(writeComplete);
            s.setHighWaterMarkCallback(highWater, HIGH);
            s.setLowWaterMarkCallback(lowWater, LOW);
            s.setAllowHalfClosure(allowHalfClosure, halfClose);
        }

        void applyTo(TcpClient s) {
            s.setConnectionCallback(connection);
            s.setMessageCallback(message);
            s.setWriteCompleteCallback(writeComplete);
            s.setHighWaterMarkCallback(highWater, HIGH);
            s.setLowWaterMarkCallback(lowWater, LOW);
            s.setAllowHalfClosure(allowHalfClosure, halfClose);
        }
    }

    @ParameterizedTest(name = "{0}, same loop: {1}, client acts: {2}, {4} in {3}")
    @MethodSource("cases")
    void closeInsideACallbackClosesEachSideOnce(EventLoop.WaitMode mode, boolean sameLoop, boolean clientActs,
                                                Kind kind, How how) throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        AtomicInteger acted = new AtomicInteger();
        AtomicInteger actorDowns = new AtomicInteger();
        AtomicInteger otherDowns = new AtomicInteger();
        CompletableFuture<TcpConnection> actorUp = new CompletableFuture<>();
        CompletableFuture<TcpConnection> otherUp = new CompletableFuture<>();
        CompletableFuture<Void> actorDown = new CompletableFuture<>();
        CompletableFuture<Void> otherDown = new CompletableFuture<>();
        TcpClient[] client = new TcpClient[1];
        List<CompletableFuture<Void>> closeFutures = new CopyOnWriteArrayList<>();

        ConnectionCallback act = c -> {
            if (acted.incrementAndGet() != 1) {
                return; // a callback kind that repeats (write-complete) acts once
            }
            switch (how) {
                case FORCE_CLOSE:
                    c.forceClose();
                    c.forceClose();
                    break;
                case SHUTDOWN:
                    c.shutdown();
                    c.shutdown();
                    break;
                default:
                    CompletableFuture<Void> f = client[0].close();
                    assertSame(f, client[0].close(), "close() twice");
                    closeFutures.add(f);
                    break;
            }
        };

        Handlers actor = new Handlers();
        actor.connection = c -> {
            if (c.connected()) {
                actorUp.complete(c);
                if (kind == Kind.HIGH_WATER || kind == Kind.LOW_WATER) {
                    assertTrue(c.send(new byte[BIG]));
                } else if (kind == Kind.WRITE_COMPLETE) {
                    assertTrue(c.send(new byte[100]));
                } else if (kind == Kind.UP) {
                    act.onConnection(c);
                }
            } else {
                actorDowns.incrementAndGet();
                if (kind == Kind.DOWN) {
                    act.onConnection(c);
                }
                actorDown.complete(null);
            }
        };
        actor.message = (c, b, t) -> {
            b.retrieveAll();
            if (kind == Kind.MESSAGE) {
                act.onConnection(c);
            }
        };
        actor.writeComplete = c -> {
            if (kind == Kind.WRITE_COMPLETE) {
                act.onConnection(c);
            }
        };
        actor.highWater = (c, queued) -> {
            if (kind == Kind.HIGH_WATER) {
                act.onConnection(c);
            }
            otherUp.thenAccept(TcpConnection::startRead); // the output backed up: let it drain
        };
        actor.lowWater = c -> {
            if (kind == Kind.LOW_WATER) {
                act.onConnection(c);
            }
        };
        actor.allowHalfClosure = kind == Kind.HALF_CLOSE;
        actor.halfClose = c -> act.onConnection(c);

        Handlers other = new Handlers();
        other.connection = c -> {
            if (c.connected()) {
                switch (kind) {
                    case HIGH_WATER:
                    case LOW_WATER:
                        // Read nothing until the actor's output crossed the high-water mark: a
                        // reader as fast as loopback could take the whole send before that.
                        c.stopRead();
                        break;
                    case MESSAGE:
                        assertTrue(c.send(new byte[] {'x'}));
                        break;
                    case HALF_CLOSE:
                        c.shutdown();
                        break;
                    case DOWN:
                        c.forceClose();
                        break;
                    default:
                        break;
                }
                otherUp.complete(c); // after stopRead(): a startRead() waiting for this comes later
            } else {
                otherDowns.incrementAndGet();
                otherDown.complete(null);
            }
        };

        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("cic-base");
            EventLoop clientLoop = sameLoop ? base : loops.start("cic-client");
            int socketsBefore = TcpTestSupport.openSockets();
            Handlers serverSide = clientActs ? other : actor;
            TcpServer server = TcpTestSupport.server(loops, base, "cic", sameLoop ? 0 : 1, serverSide::applyTo);
            client[0] = new TcpClient(clientLoop, server.listenAddress(), "cic-client");
            (clientActs ? actor : other).applyTo(client[0]);
            client[0].connect();

            TcpConnection a = get(actorUp, "the actor's up callback");
            TcpConnection o = get(otherUp, "the other side's up callback");
            assertEquals(sameLoop, a.loop() == o.loop(), "one loop");
            get(actorDown, "the actor's down callback");
            get(otherDown, "the other side's down callback");
            for (int i = 0; i < 2; i++) { // anything queued behind the closes has run
                onLoop(a.loop(), () -> null);
                onLoop(o.loop(), () -> null);
            }
            assertEquals(1, acted.get(), "the " + kind + " callback ran (and acted once)");
            assertEquals(1, actorDowns.get(), "down callbacks of the actor");
            assertEquals(1, otherDowns.get(), "down callbacks of the other side");
            assertTrue(a.disconnected() && o.disconnected());
            for (CompletableFuture<Void> f : closeFutures) {
                get(f, "close() called in the callback");
            }
            get(client[0].close(), "client close");
            assertNull(client[0].connection());
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
            TcpTestSupport.awaitAtMost(TcpTestSupport::openSockets, socketsBefore, "sockets");
        }
        assertTrue(errors.isEmpty(), "errors reported: " + errors);
    }
}
