package io.muduo4j.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The checker's own test target: a one-thread plain-NIO echo server that is correct with
 * {@code --flaw none} (output backpressure, drains before closing on EOF, backs off on EMFILE) and
 * has exactly one defect otherwise, each of which one {@link HostileCheck} scenario must catch.
 * {@code jmh/hostile.sh --self-test} runs them.
 */
@Command(name = "HostileFlawedEcho", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"A one-thread NIO echo server with one chosen defect, to show HostileCheck catches it.",
                "Flaws: none, corrupt (1), drop-on-fin (2), stall (3), cap-1000 (4), leak-fd (5), unbounded (6), "
                        + "spin-on-emfile (7). Prints 'listening on 127.0.0.1:P' when ready."})
public final class HostileFlawedEcho implements Callable<Integer> {
    enum Flaw {
        NONE, CORRUPT, DROP_ON_FIN, STALL, CAP_1000, LEAK_FD, UNBOUNDED, SPIN_ON_EMFILE
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--port", defaultValue = "0", paramLabel = "P", description = "Port (0 = any). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--flaw", defaultValue = "none", paramLabel = "F", description = "The defect. Default: ${DEFAULT-VALUE}.")
    String flawName;

    private Flaw flaw;
    private static final int HIGH = 1 << 20; // stop reading above 1 MiB queued output
    private static final int LOW = 256 << 10;
    private static final long CORRUPT_AT = 1_000_000;

    private static final class Conn {
        final SocketChannel ch;
        final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
        long pending;
        long echoed;
        boolean eof;

        Conn(SocketChannel ch) {
            this.ch = ch;
        }
    }

    @Override
    public Integer call() throws Exception {
        try {
            flaw = Flaw.valueOf(flawName.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            Cli.require(spec, false, "unknown --flaw '" + flawName + "'");
        }
        Cli.checkPort(spec, port, true);
        Selector sel = Selector.open();
        ServerSocketChannel ssc = ServerSocketChannel.open();
        ssc.bind(new InetSocketAddress("127.0.0.1", port), 1024);
        ssc.configureBlocking(false);
        SelectionKey acceptKey = ssc.register(sel, SelectionKey.OP_ACCEPT);
        System.out.println("listening on 127.0.0.1:" + ((InetSocketAddress) ssc.getLocalAddress()).getPort()
                + " flaw=" + flaw.name().toLowerCase(Locale.ROOT));
        System.out.flush();
        int open = 0;
        long reads = 0;
        long resumeAcceptAt = 0;
        while (true) {
            sel.select(100);
            if (resumeAcceptAt != 0 && System.nanoTime() >= resumeAcceptAt) {
                resumeAcceptAt = 0;
                acceptKey.interestOps(SelectionKey.OP_ACCEPT);
            }
            Iterator<SelectionKey> it = sel.selectedKeys().iterator();
            while (it.hasNext()) {
                SelectionKey k = it.next();
                it.remove();
                if (!k.isValid()) {
                    continue;
                }
                if (k == acceptKey) {
                    try {
                        SocketChannel ch = ssc.accept();
                        if (ch == null) {
                            continue;
                        }
                        if (flaw == Flaw.CAP_1000 && open >= 1000) {
                            ch.close();
                            continue;
                        }
                        ch.configureBlocking(false);
                        ch.register(sel, SelectionKey.OP_READ, new Conn(ch));
                        open++;
                    } catch (IOException e) {
                        if (flaw != Flaw.SPIN_ON_EMFILE) { // the flaw: the ready accept fires again at once
                            acceptKey.interestOps(0);
                            resumeAcceptAt = System.nanoTime() + 100_000_000L;
                        }
                    }
                    continue;
                }
                Conn c = (Conn) k.attachment();
                try {
                    if (k.isReadable()) {
                        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
                        int n = c.ch.read(b);
                        if (n < 0) {
                            c.eof = true;
                            if (flaw == Flaw.LEAK_FD) {
                                k.cancel(); // the flaw: never closed
                                open--;
                                continue;
                            }
                            if (flaw == Flaw.DROP_ON_FIN || c.pending == 0) {
                                // DROP_ON_FIN (which also reads without backpressure, so output does
                                // queue up, as in a naive reactor): the queued output is lost
                                open--;
                                c.ch.close();
                                continue;
                            }
                            k.interestOps(SelectionKey.OP_WRITE);
                        } else if (n > 0) {
                            b.flip();
                            if (flaw == Flaw.CORRUPT && c.echoed <= CORRUPT_AT && CORRUPT_AT < c.echoed + n) {
                                int i = (int) (CORRUPT_AT - c.echoed);
                                b.put(i, (byte) (b.get(i) ^ 1));
                            }
                            c.echoed += n;
                            c.out.add(b);
                            c.pending += n;
                            if (flaw == Flaw.STALL && ++reads % 200 == 0) {
                                Thread.sleep(3_000); // the flaw: the loop blocks
                            }
                            flush(c);
                            int ops = SelectionKey.OP_READ;
                            if (c.pending > 0) {
                                ops |= SelectionKey.OP_WRITE;
                                if (c.pending > HIGH && flaw != Flaw.UNBOUNDED && flaw != Flaw.DROP_ON_FIN) {
                                    ops = SelectionKey.OP_WRITE; // backpressure: stop reading
                                }
                            }
                            k.interestOps(ops);
                        }
                    } else if (k.isWritable()) {
                        flush(c);
                        if (c.pending == 0 && c.eof) {
                            open--;
                            c.ch.close();
                            continue;
                        }
                        int ops = c.pending > 0 ? SelectionKey.OP_WRITE : 0;
                        if (!c.eof && (c.pending < LOW || (k.interestOps() & SelectionKey.OP_READ) != 0)) {
                            ops |= SelectionKey.OP_READ;
                        }
                        k.interestOps(ops);
                    }
                } catch (IOException e) {
                    open--;
                    k.cancel();
                    c.ch.close();
                }
            }
        }
    }

    private static void flush(Conn c) throws IOException {
        while (!c.out.isEmpty()) {
            ByteBuffer b = c.out.peek();
            int n = c.ch.write(b);
            c.pending -= n;
            if (b.hasRemaining()) {
                return;
            }
            c.out.poll();
        }
    }

    public static void main(String[] args) {
        Cli.run(new HostileFlawedEcho(), args);
    }
}
