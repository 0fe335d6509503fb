package io.muduo4j.net;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The child process of {@link ScaleTest}: an echo {@link TcpServer} on 127.0.0.1 with
 * {@code args[0]} I/O threads in wait mode {@code args[1]}, in a process of its own so that its
 * descriptors and the clients' do not share one {@code ulimit -n}. Prints {@code PORT <port>} once
 * it listens, then answers each {@code stats} line on stdin with
 * {@code STATS connections=<n> fds=<n>}; exits on {@code quit} or when stdin closes (so it never
 * outlives its parent). One echo through the server precedes {@code PORT}, so the descriptors it
 * reports then are those of a running server with no connection.
 */
public final class ScaleEchoServerMain {
    private ScaleEchoServerMain() {
    }

    public static void main(String[] args) throws Exception {
        int ioThreads = Integer.parseInt(args[0]);
        EventLoop.WaitMode mode = EventLoop.WaitMode.valueOf(args[1]);
        EventLoopThread base = new EventLoopThread("scale-base");
        EventLoop loop = base.startLoop();
        TcpServer server = new TcpServer(loop, new InetSocketAddress("127.0.0.1", 0), "scale");
        server.setThreadNum(ioThreads);
        server.setLoopOptions(TcpTestSupport.options(mode));
        server.setMessageCallback((c, b, t) -> c.send(b));
        server.start();
        selfTest(server.listenAddress()); // after one echo the listener and both I/O loops are up
        System.out.println("PORT " + server.listenAddress().getPort());
        System.out.flush();

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("stats")) {
                String[] fds = new File("/proc/self/fd").list();
                System.out.println("STATS connections=" + server.connectionCount()
                        + " fds=" + (fds == null ? -1 : fds.length));
                System.out.flush();
            } else if (line.equals("quit")) {
                break;
            }
        }
        server.stop().get(30, TimeUnit.SECONDS);
        base.close();
        System.exit(0);
    }

    private static void selfTest(InetSocketAddress addr) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(addr, 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(42);
            if (s.getInputStream().read() != 42) {
                throw new IOException("self test echo failed");
            }
        }
    }
}
