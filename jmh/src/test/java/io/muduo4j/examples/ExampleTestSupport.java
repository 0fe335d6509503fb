package io.muduo4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Bounded waits and blocking loopback clients for the example tests. */
final class ExampleTestSupport {
    static final InetSocketAddress ANY_LOCAL_PORT = new InetSocketAddress("127.0.0.1", 0);
    /** Socket read timeout: no read in these tests waits longer. */
    static final int READ_TIMEOUT_MS = 10_000;

    private ExampleTestSupport() {
    }

    /** Polls {@code condition} every millisecond; fails after {@code seconds}. */
    static void awaitTrue(BooleanSupplier condition, long seconds, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out after " + seconds + " s waiting for " + what);
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    /** A blocking client socket with the tests' read timeout. */
    static Socket connect(InetSocketAddress to) throws IOException {
        Socket s = new Socket();
        s.setSoTimeout(READ_TIMEOUT_MS);
        s.setTcpNoDelay(true);
        s.connect(to, READ_TIMEOUT_MS);
        return s;
    }

    /** Reads one {@code '\n'}-terminated line (the terminator and a CR before it dropped); null at end of stream. */
    static String readLine(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder sb = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                return sb.length() == 0 ? null : sb.toString();
            }
            sb.append((char) b);
        }
        int n = sb.length();
        return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
    }

    /** Sends {@code line + "\n"} and checks that it comes back. */
    static void assertEchoes(Socket s, String line) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        assertEquals(line, readLine(s), "echo of '" + line + "'");
    }

    /**
     * Reads until the peer closes: true at end of stream or on a reset, fails when data arrives
     * instead or nothing happens within the read timeout.
     */
    static boolean awaitClosedByPeer(Socket s) throws IOException {
        try {
            int b = s.getInputStream().read();
            if (b >= 0) {
                fail("expected the server to close, got byte " + b);
            }
            return true;
        } catch (SocketException reset) {
            return true;
        }
    }
}
