package io.muduo4j.examples;

import io.muduo4j.net.EventLoop;
import io.muduo4j.net.TcpServer;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The character generator service (RFC 864; muduo's {@code examples/simple/chargen}): sends lines
 * of 72 printable ASCII characters, each starting one character further along, for as long as the
 * peer reads. Input is discarded.
 *
 * <p>Flow control is the write-complete callback, as in muduo: the next block is sent only when
 * the previous one has been written out, so a slow reader never makes the server queue more than
 * one block.
 */
public final class ChargenServer implements Examples.Server {
    /** Characters per line, without the CRLF. */
    public static final int LINE_LENGTH = 72;
    /** Printable characters, {@code '!'} to {@code '~'}: the pattern repeats after this many lines. */
    public static final int LINES = 127 - 33;

    private static final byte[] BLOCK = block();

    private final TcpServer server;
    private final AtomicLong sent = new AtomicLong();

    /**
     * A chargen server on {@code loop}; call {@link #start()}.
     *
     * @param loop the loop that accepts and writes
     * @param listen the address to listen on
     */
    public ChargenServer(EventLoop loop, InetSocketAddress listen) {
        this.server = new TcpServer(loop, listen, "chargen");
        server.setConnectionCallback(conn -> {
            if (conn.connected()) {
                conn.send(BLOCK);
            }
        });
        server.setMessageCallback((conn, buf, time) -> buf.retrieveAll());
        server.setWriteCompleteCallback(conn -> {
            sent.addAndGet(BLOCK.length);
            conn.send(BLOCK);
        });
    }

    /** All {@link #LINES} lines once: line {@code i} holds the characters from {@code '!' + i} on, wrapping. */
    static byte[] block() {
        byte[] b = new byte[LINES * (LINE_LENGTH + 2)];
        int p = 0;
        for (int i = 0; i < LINES; i++) {
            for (int j = 0; j < LINE_LENGTH; j++) {
                b[p++] = (byte) (33 + (i + j) % LINES);
            }
            b[p++] = '\r';
            b[p++] = '\n';
        }
        return b;
    }

    /** Starts listening. */
    public void start() {
        server.start();
    }

    /** @return bytes written out so far, over all connections (whole blocks) */
    public long sentBytes() {
        return sent.get();
    }

    @Override
    public InetSocketAddress listenAddress() {
        return server.listenAddress();
    }

    /** @return connections open now */
    public int connectionCount() {
        return server.connectionCount();
    }

    @Override
    public void close() {
        server.close();
    }

    /** {@code ChargenServer --port P}. */
    @Command(name = "ChargenServer", mixinStandardHelpOptions = true,
            description = "Character generator (RFC 864): sends lines of rotating ASCII for as long as the peer reads.")
    static final class Main implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Examples.ServerOptions server;

        @Override
        public Integer call() throws Exception {
            InetSocketAddress bind = server.address(spec);
            return Examples.serveUntilKilled("chargen", loop -> {
                ChargenServer s = new ChargenServer(loop, bind);
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
        Examples.run(new ChargenServer.Main(), args);
    }
}
