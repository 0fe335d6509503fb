package io.muduo4j.examples;

import io.muduo4j.net.EventLoop;
import io.muduo4j.net.TcpConnection;
import io.muduo4j.net.TcpServer;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * muduo's chat server ({@code examples/asio/chat/server_threaded.cc}): every message, framed by
 * {@link LengthHeaderCodec}, goes to every connected client, the sender included (so each client
 * sees its own messages in the order everyone else does, when there is one I/O loop).
 *
 * <p>With several I/O loops a broadcast sends to connections of other loops from the sender's
 * loop; {@code TcpConnection.send} is thread-safe and writes each message whole. A client that
 * stops reading is first paused (its own reading stops above the high-water mark) and, once its
 * queue reaches the output limit (4 MiB), disconnected rather than buffered without bound.
 */
public final class ChatServer implements Examples.Server {
    private final TcpServer server;
    private final LengthHeaderCodec codec;
    private final Set<TcpConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong badLengths = new AtomicLong();
    private volatile BadLengthException lastBadLength;

    /**
     * A chat server on {@code loop}; call {@link #start()}.
     *
     * @param loop the loop that accepts
     * @param listen the address to listen on
     * @param ioThreads I/O loops (0 = all on {@code loop})
     * @param maxLength the longest message accepted
     */
    public ChatServer(EventLoop loop, InetSocketAddress listen, int ioThreads, int maxLength) {
        this.server = new TcpServer(loop, listen, "chat");
        this.codec = new LengthHeaderCodec(maxLength, (conn, message, time) -> broadcast(message), this::onBadLength);
        server.setThreadNum(ioThreads);
        server.setConnectionCallback(conn -> {
            if (conn.connected()) {
                connections.add(conn);
            } else {
                connections.remove(conn);
            }
        });
        server.setMessageCallback(codec);
    }

    private void broadcast(String message) {
        byte[] frame = LengthHeaderCodec.encode(message);
        for (TcpConnection c : connections) {
            c.send(frame);
        }
    }

    private void onBadLength(TcpConnection conn, BadLengthException cause) {
        badLengths.incrementAndGet();
        lastBadLength = cause;
        System.err.println("chat: " + conn.name() + " from " + conn.peerAddress() + ": " + cause.getMessage());
    }

    /** Starts listening. */
    public void start() {
        server.start();
    }

    /** @return clients connected now */
    public int clientCount() {
        return connections.size();
    }

    /** @return connections closed for a bad length header so far */
    public long badLengthCount() {
        return badLengths.get();
    }

    /** @return the last bad length seen, or null */
    public BadLengthException lastBadLength() {
        return lastBadLength;
    }

    @Override
    public InetSocketAddress listenAddress() {
        return server.listenAddress();
    }

    @Override
    public void close() {
        server.close();
    }

    /** {@code ChatServer --port P [--threads N] [--max-length BYTES]}. */
    @Command(name = "ChatServer", mixinStandardHelpOptions = true,
            description = "Chat server: each length-prefixed message goes to every connected client.")
    static final class Main implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Examples.ServerOptions server;
        @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
                description = "I/O loops besides the acceptor (0 = one loop does all). Default: ${DEFAULT-VALUE}.")
        int threads;
        @Option(names = "--max-length", defaultValue = "65536", paramLabel = "BYTES",
                description = "Longest message; a longer or negative length closes the connection. Default: ${DEFAULT-VALUE}.")
        int maxLength;

        @Override
        public Integer call() throws Exception {
            InetSocketAddress bind = server.address(spec);
            Examples.require(spec, threads >= 0 && threads <= 256, "--threads must be 0..256");
            Examples.require(spec, maxLength >= 0, "--max-length must be >= 0");
            return Examples.serveUntilKilled("chat", loop -> {
                ChatServer s = new ChatServer(loop, bind, threads, maxLength);
                s.start();
                return s;
            });
        }
    }

    /**
     * Runs the server until killed.
     *
     * @param args {@code --port P}, see {@code --help}
     */
    public static void main(String[] args) {
        Examples.run(new Main(), args);
    }
}
