package io.muduo4j.examples;

import static io.muduo4j.examples.ExampleTestSupport.ANY_LOCAL_PORT;
import static io.muduo4j.examples.ExampleTestSupport.awaitTrue;
import static io.muduo4j.examples.ExampleTestSupport.connect;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.muduo4j.net.EventLoopThread;
import io.muduo4j.net.LoopMetrics;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The metrics echo server counts what it echoed and reports the stall its "stall" message makes. */
@Timeout(60)
class MetricsEchoServerTest {
    @Test
    void countsTheEchoAndReportsTheStall() throws Exception {
        try (EventLoopThread t = new EventLoopThread("metrics-echo")) {
            MetricsEchoServer server = new MetricsEchoServer(t.startLoop(), ANY_LOCAL_PORT, 1, 50);
            server.start();
            try (Socket s = connect(server.listenAddress())) {
                OutputStream out = s.getOutputStream();
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] block = new byte[1000];
                out.write(block);
                in.readFully(new byte[block.length]);
                LoopMetrics m = new LoopMetrics();
                awaitTrue(() -> server.metrics(m).bytesOut() == 1000, 10, "the echo counted");
                assertEquals(1000, m.bytesIn());
                assertEquals(1, m.connectionsOpen());
                assertEquals(0, m.stalls());

                byte[] stall = "stall".getBytes(StandardCharsets.US_ASCII);
                out.write(stall);
                byte[] back = new byte[stall.length];
                in.readFully(back);
                assertArrayEquals(stall, back);
                awaitTrue(() -> server.metrics(m).stalls() == 1, 10, "the stall reported");
                String line = server.report();
                assertTrue(line.startsWith("2 loops:") && line.contains("1 connections open (1 accepted")
                        && line.endsWith("1 stalls"), line);
            }
            server.close();
        }
    }
}
