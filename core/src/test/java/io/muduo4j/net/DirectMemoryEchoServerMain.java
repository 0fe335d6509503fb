package io.muduo4j.net;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The child process of {@link OutOfMemoryClosesOneConnectionTest}: an echo server on one I/O loop,
 * meant to run with a small {@code -XX:MaxDirectMemorySize}, whose input limit is too high to
 * protect it. A connection whose first byte is {@code 'H'} (a hog) is never consumed, so its input
 * buffer grows until direct memory runs out; one whose first byte is {@code 'S'} (a sink that
 * never reads) is sent 1 MiB blocks until a send is refused, with no output limit to stop them, so
 * its output buffer grows until direct memory runs out; every other connection is echoed. Prints
 * {@code PORT <port>}, then {@code CLOSED <cause>} for every connection closed with a cause;
 * exits on {@code quit} or when stdin closes.
 */
public final class DirectMemoryEchoServerMain {
    private DirectMemoryEchoServerMain() {
    }

    public static void main(String[] args) throws Exception {
        EventLoopThread base = new EventLoopThread("oom-base", EventLoopOptions.blocking(), null);
        TcpServer server = new TcpServer(base.startLoop(), new InetSocketAddress("127.0.0.1", 0), "oom");
        server.setThreadNum(1);
        server.setInputLimit(Integer.MAX_VALUE);
        server.setOutputLimit(Long.MAX_VALUE, null);
        server.setMessageCallback((c, b, t) -> {
            if (c.context() == null) {
                byte first = b.peekInt8();
                c.setContext(first == 'H' ? "hog" : first == 'S' ? "sink" : "echo");
                if (first == 'S') {
                    b.retrieveAll();
                    byte[] block = new byte[1 << 20];
                    int sent = 0;
                    while (sent < 4096 && c.send(block)) { // at most 4 GiB: direct memory ends first
                        sent++;
                    }
                    System.out.println("SINK refused after " + sent + " MiB");
                    System.out.flush();
                }
            }
            if ("echo".equals(c.context())) {
                c.send(b);
            }
        });
        server.setConnectionCallback(c -> {
            if (!c.connected() && c.closeCause() != null) {
                System.out.println("CLOSED " + c.closeCause());
                System.out.flush();
            }
        });
        server.start();
        System.out.println("PORT " + server.listenAddress().getPort());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.equals("quit")) {
            // only quit is understood
        }
        server.stop().get(10, TimeUnit.SECONDS);
        base.close();
        System.exit(0);
    }
}
