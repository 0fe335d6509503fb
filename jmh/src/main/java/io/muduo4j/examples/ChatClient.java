package io.muduo4j.examples;

import io.muduo4j.net.EventLoop;
import io.muduo4j.net.EventLoopThread;
import io.muduo4j.net.TcpClient;
import io.muduo4j.net.TcpConnection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * muduo's chat client ({@code examples/asio/chat/client.cc}): sends each line typed on standard
 * input as one {@link LengthHeaderCodec} message and prints every message the server broadcasts.
 */
public final class ChatClient implements AutoCloseable {
    private final TcpClient client;
    private final CompletableFuture<Void> up = new CompletableFuture<>();
    private final CompletableFuture<Throwable> down = new CompletableFuture<>();

    /**
     * A client of {@code server}; call {@link #connect()}.
     *
     * @param loop the loop the connection lives on
     * @param server the chat server's address
     * @param onMessage receives each message, on the loop thread
     */
    public ChatClient(EventLoop loop, InetSocketAddress server, LengthHeaderCodec.StringMessageCallback onMessage) {
        client = new TcpClient(loop, server, "chat-client");
        client.setMaxAttempts(3);
        client.setConnectFailedCallback((cause, attempt, nextDelayMs) -> {
            if (nextDelayMs < 0) {
                up.completeExceptionally(new ConnectException("cannot connect to " + server + ": " + cause));
            }
        });
        client.setConnectionCallback(conn -> {
            if (conn.connected()) {
                up.complete(null);
            } else {
                down.complete(conn.closeCause());
            }
        });
        client.setMessageCallback(new LengthHeaderCodec(LengthHeaderCodec.DEFAULT_MAX_LENGTH, onMessage,
                (conn, cause) -> System.err.println("chat client: " + cause.getMessage())));
    }

    /**
     * Starts connecting.
     *
     * @return completes when the connection is up, or exceptionally when connecting failed
     */
    public CompletableFuture<Void> connect() {
        client.connect();
        return up;
    }

    /** @return completes with the close cause (null for an orderly close) when the connection goes down */
    public CompletableFuture<Throwable> down() {
        return down;
    }

    /**
     * Sends one message. Any thread.
     *
     * @param message the message
     * @return false when not connected or the message was refused
     */
    public boolean send(String message) {
        TcpConnection c = client.connection();
        return c != null && LengthHeaderCodec.send(c, message);
    }

    /** Half-closes: the server sees the end of our messages once they are all sent. */
    public void disconnect() {
        client.disconnect();
    }

    /** Closes at once and waits (at most 10 s) until nothing of the client is left. */
    @Override
    public void close() {
        client.close().orTimeout(10, TimeUnit.SECONDS).join();
    }

    /** {@code ChatClient --port P [--host H]}. */
    @Command(name = "ChatClient", mixinStandardHelpOptions = true,
            description = {"Chat client: sends each line of standard input, prints every message received.",
                    "Prints 'connected to HOST:PORT' once connected; ends at the end of input or when the server closes."})
    static final class Main implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--port", required = true, paramLabel = "P", description = "The chat server's port.")
        int port;
        @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "H",
                description = "The chat server's host. Default: ${DEFAULT-VALUE}.")
        String host;

        @Override
        public Integer call() throws Exception {
            Examples.require(spec, port > 0 && port <= 65535, "--port must be 1..65535, got " + port);
            InetSocketAddress server = Examples.resolve(spec, host, port);
            try (EventLoopThread thread = new EventLoopThread("chat-client")) {
                ChatClient c = new ChatClient(thread.startLoop(), server, (conn, message, time) -> {
                    System.out.println(message);
                    System.out.flush();
                });
                c.connect().get(30, TimeUnit.SECONDS);
                System.out.println("connected to " + server.getAddress().getHostAddress() + ":" + server.getPort());
                System.out.flush();
                c.down().thenRun(() -> System.exit(0)); // the server went away
                try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        if (!c.send(line)) {
                            System.err.println("chat client: message refused (not connected or the server does not read)");
                        }
                    }
                } catch (IOException e) {
                    System.err.println("chat client: standard input: " + e);
                }
                c.disconnect();
                c.down().get(10, TimeUnit.SECONDS);
                c.close();
            }
            return 0;
        }
    }

    /**
     * Runs the client until the end of standard input.
     *
     * @param args {@code --port P}, see {@code --help}
     */
    public static void main(String[] args) {
        Examples.run(new Main(), args);
    }
}
