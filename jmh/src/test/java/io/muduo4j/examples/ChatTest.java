package io.muduo4j.examples;

import static io.muduo4j.examples.ExampleTestSupport.ANY_LOCAL_PORT;
import static io.muduo4j.examples.ExampleTestSupport.awaitClosedByPeer;
import static io.muduo4j.examples.ExampleTestSupport.awaitTrue;
import static io.muduo4j.examples.ExampleTestSupport.connect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.muduo4j.net.EventLoop;
import io.muduo4j.net.EventLoopThread;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The length-header codec and the chat server and client built on it. */
@Timeout(60)
class ChatTest {
    private static final int MAX_LENGTH = 1024;

    /** A chat server with two I/O loops and three clients on a loop of their own. */
    private static final class Room implements AutoCloseable {
        final EventLoopThread serverThread = new EventLoopThread("chat-server");
        final EventLoopThread clientThread = new EventLoopThread("chat-clients");
        final ChatServer server = new ChatServer(serverThread.startLoop(), ANY_LOCAL_PORT, 2, MAX_LENGTH);
        final List<ChatClient> clients = new ArrayList<>();
        final List<BlockingQueue<String>> inboxes = new ArrayList<>();

        Room(int n) throws Exception {
            server.start();
            EventLoop loop = clientThread.startLoop();
            for (int i = 0; i < n; i++) {
                BlockingQueue<String> inbox = new LinkedBlockingQueue<>();
                ChatClient c = new ChatClient(loop, server.listenAddress(), (conn, message, time) -> inbox.add(message));
                c.connect().get(10, TimeUnit.SECONDS);
                clients.add(c);
                inboxes.add(inbox);
            }
            awaitTrue(() -> server.clientCount() == n, 10, n + " clients registered by the server");
        }

        String next(int client) throws InterruptedException {
            String m = inboxes.get(client).poll(10, TimeUnit.SECONDS);
            assertTrue(m != null, "client " + client + " received nothing within 10 s");
            return m;
        }

        @Override
        public void close() {
            clients.forEach(ChatClient::close);
            server.close();
            clientThread.close();
            serverThread.close();
        }
    }

    @Test
    void aMessageFromOneClientReachesAllOthers() throws Exception {
        try (Room room = new Room(3)) {
            assertTrue(room.clients.get(0).send("hello from 0"));
            for (int i = 0; i < 3; i++) {
                assertEquals("hello from 0", room.next(i), "client " + i + " (the sender sees its own, as in muduo)");
            }
            String unicode = "ünïcødé ✓ " + "x".repeat(900);
            assertTrue(room.clients.get(2).send(unicode));
            for (int i = 0; i < 3; i++) {
                assertEquals(unicode, room.next(i));
            }
            assertTrue(room.clients.get(1).send(""), "an empty message is a message");
            for (int i = 0; i < 3; i++) {
                assertEquals("", room.next(i));
            }
        }
    }

    @Test
    void framesSplitOrJoinedByTcpAreDecodedWhole() throws Exception {
        try (Room room = new Room(1); Socket raw = connect(room.server.listenAddress())) {
            awaitTrue(() -> room.server.clientCount() == 2, 10, "raw client registered");
            OutputStream out = raw.getOutputStream();
            // Three messages in one write.
            ByteBuffer joined = ByteBuffer.allocate(64);
            for (String m : new String[] {"a", "bb", "ccc"}) {
                joined.put(LengthHeaderCodec.encode(m));
            }
            out.write(joined.array(), 0, joined.position());
            out.flush();
            assertEquals("a", room.next(0));
            assertEquals("bb", room.next(0));
            assertEquals("ccc", room.next(0));
            // One message in three writes: half the header, the rest of it and half the body, the end.
            byte[] frame = LengthHeaderCodec.encode("split across writes");
            out.write(frame, 0, 2);
            out.flush();
            assertNull(room.inboxes.get(0).poll(100, TimeUnit.MILLISECONDS), "no message from half a header");
            out.write(frame, 2, 10);
            out.flush();
            assertNull(room.inboxes.get(0).poll(100, TimeUnit.MILLISECONDS), "no message from half a body");
            out.write(frame, 12, frame.length - 12);
            out.flush();
            assertEquals("split across writes", room.next(0));
        }
    }

    @Test
    void aBadLengthClosesTheSenderWithAClearCauseAndSparesTheOthers() throws Exception {
        try (Room room = new Room(2)) {
            int[] badLengths = {-1, MAX_LENGTH + 1, Integer.MAX_VALUE};
            for (int k = 0; k < badLengths.length; k++) {
                try (Socket raw = connect(room.server.listenAddress())) {
                    raw.getOutputStream().write(ByteBuffer.allocate(8).putInt(badLengths[k]).putInt(42).array());
                    raw.getOutputStream().flush();
                    assertTrue(awaitClosedByPeer(raw), "the server closes a connection that sent a bad length");
                }
                long expected = k + 1;
                awaitTrue(() -> room.server.badLengthCount() == expected, 10, "bad length recorded");
                BadLengthException cause = room.server.lastBadLength();
                assertEquals(badLengths[k], cause.length());
                assertEquals(MAX_LENGTH, cause.max());
                assertTrue(cause.getMessage().contains("bad length " + badLengths[k]), cause.getMessage());
            }
            awaitTrue(() -> room.server.clientCount() == 2, 10, "only the well-behaved clients left");
            String longest = "y".repeat(MAX_LENGTH);
            assertTrue(room.clients.get(0).send(longest), "a message of exactly the maximum length is fine");
            assertEquals(longest, room.next(1));
            assertEquals(longest, room.next(0));
        }
    }
}
