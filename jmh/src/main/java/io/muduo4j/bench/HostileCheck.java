package io.muduo4j.bench;

import io.muduo4j.bench.HostileKit.Pattern;
import io.muduo4j.bench.HostileKit.Pinger;
import io.muduo4j.bench.HostileKit.Proc;
import io.muduo4j.bench.HostileKit.Scope;
import io.muduo4j.bench.HostileKit.Verifier;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * An outside checker of an echo server under hostile peers: plain JDK sockets against any echo
 * server on a loopback address, one line per scenario, {@code PASS|FAIL|SKIP <name> <numbers>},
 * then {@code N passed, M failed}. Exit status 1 iff a scenario failed (2 on bad arguments).
 */
@Command(name = "HostileCheck", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Checks an echo server (a separate process on a loopback address) under",
                "hostile peers. Scenarios (by number or name):",
                "  1 stream        10 connections each stream 8 MiB while reading: all echoed",
                "  2 fin           16 MiB then shutdownOutput (fast, 64 KiB rcvbuf and slow",
                "                  reader): every byte back, then EOF",
                "  3 reset-storm   200 RST-mid-echo + 300 abrupt peers: a good client's",
                "                  round trips never stall, it is served after",
                "  4 concurrent    2,000 connections at once, each echoes 64 bytes",
                "  5 fd-stability  /proc/PID/fd back to start after 3,000 connect/echo/close",
                "  6 non-reader    a peer sends up to 1 GiB, never reads: RSS growth",
                "                  < 256 MiB, another client echoed promptly, then all it",
                "                  sent comes back, no EOF/RST",
                "  7 fd-flood      server under ulimit -n 128, 300 connections: existing one",
                "                  served, server CPU < 50%% of a core, new ones echo after",
                "  8 paused-reset  against a relay (TcpRelay) to a backend this checker",
                "                  plays on --backend-port and never reads: a client fills",
                "                  the relay until it stops reading, then resets: relay CPU",
                "                  < 20%% of a core over 3 s (no spin); with --expect-release",
                "                  the relay also drops the backend connection within 5 s",
                "5-8 need --pid, 8 --backend-port. Prints one line per scenario and 'N passed, M failed';",
                "exit 1 iff any FAIL, 2 on bad arguments."})
public final class HostileCheck implements java.util.concurrent.Callable<Integer> {
    private static final String[] NAMES = {"", "stream", "fin", "reset-storm", "concurrent", "fd-stability",
        "non-reader", "fd-flood", "paused-reset"};

    @Spec
    CommandSpec spec;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "H",
            description = "Server host; must be a loopback address. Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", required = true, paramLabel = "P", description = "Server port.")
    int port;

    @Option(names = "--pid", paramLabel = "PID",
            description = "Server process id, for the /proc scenarios (5, 6, 7); without it they SKIP.")
    Long pid;

    @Option(names = "--scenarios", split = ",", defaultValue = "1,2,3,4,5,6", paramLabel = "LIST",
            description = "Comma-separated numbers or names, or 'all' (1-7). Default: ${DEFAULT-VALUE}.")
    List<String> scenarios;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "Seed of the byte streams and orders. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--rtt-bound-ms", defaultValue = "2000", paramLabel = "MS",
            description = "A good client's round trip above this is a stall. Default: ${DEFAULT-VALUE}.")
    long boundMillis;

    @Option(names = "--flood", defaultValue = "300", paramLabel = "N",
            description = "Connections opened in scenario 7. Default: ${DEFAULT-VALUE}.")
    int flood;

    @Option(names = "--backend-port", paramLabel = "Q",
            description = "Scenario 8: the port the relay under test forwards to; the checker listens there.")
    Integer backendPort;

    @Option(names = "--expect-release",
            description = "Scenario 8: the relay must close the backend connection of a client that reset while paused.")
    boolean expectRelease;

    @Option(names = "--clk-tck", defaultValue = "100", paramLabel = "HZ",
            description = "Clock ticks per second of /proc/PID/stat (getconf CLK_TCK). Default: ${DEFAULT-VALUE}.")
    int clkTck;

    private InetSocketAddress server;
    private Pattern pattern;
    private Proc proc;

    private enum Status {
        PASS, FAIL, SKIP
    }

    private static final class Result {
        final Status status;
        final String text;

        Result(Status status, String text) {
            this.status = status;
            this.text = text;
        }
    }

    private static Result result(boolean pass, List<String> why, String numbers) {
        return new Result(pass ? Status.PASS : Status.FAIL,
                numbers + (pass || why.isEmpty() ? "" : " why=" + String.join(";", why).replace(' ', '_')));
    }

    @Override
    public Integer call() throws Exception {
        Cli.checkPort(spec, port, false);
        server = Cli.resolve(spec, host, port);
        Cli.require(spec, server.getAddress().isLoopbackAddress(),
                "--host must be a loopback address (the checker floods its target), got " + host);
        Cli.require(spec, boundMillis >= 100, "--rtt-bound-ms must be >= 100");
        Cli.require(spec, flood >= 1 && flood <= 20_000, "--flood must be 1..20000");
        Cli.require(spec, clkTck >= 1, "--clk-tck must be >= 1");
        if (pid != null) {
            Cli.require(spec, pid > 0 && Files.isDirectory(Path.of("/proc", Long.toString(pid))),
                    "--pid " + pid + ": no such process in /proc");
            proc = new Proc(pid);
        }
        TreeSet<Integer> chosen = new TreeSet<>();
        for (String s : scenarios) {
            String t = s.trim().toLowerCase(Locale.ROOT);
            if (t.isEmpty()) {
                continue;
            }
            if (t.equals("all")) {
                for (int i = 1; i < NAMES.length; i++) {
                    chosen.add(i);
                }
                continue;
            }
            int n = Arrays.asList(NAMES).indexOf(t);
            if (n <= 0) {
                try {
                    n = Integer.parseInt(t);
                } catch (NumberFormatException e) {
                    n = -1;
                }
            }
            Cli.require(spec, n >= 1 && n < NAMES.length, "unknown scenario '" + s + "' (1-8 or " +
                    String.join(", ", Arrays.asList(NAMES).subList(1, NAMES.length)) + ")");
            chosen.add(n);
        }
        Cli.require(spec, !chosen.isEmpty(), "--scenarios is empty");
        pattern = new Pattern(seed);
        System.out.printf(Locale.ROOT, "# HostileCheck %s:%d pid=%s scenarios=%s seed=%d%n",
                server.getAddress().getHostAddress(), port, pid == null ? "none" : pid, chosen, seed);
        int passed = 0;
        int failed = 0;
        int skipped = 0;
        for (int n : chosen) {
            long t0 = System.nanoTime();
            Result r;
            try {
                r = run(n);
            } catch (Throwable e) {
                r = new Result(Status.FAIL, "error=" + (e.getClass().getSimpleName() + ":" + e.getMessage()).replace(' ', '_'));
            }
            String took = r.status == Status.SKIP ? "" : " time=" + HostileKit.secs(System.nanoTime() - t0);
            System.out.println(r.status + " " + NAMES[n] + " " + r.text + took);
            System.out.flush();
            switch (r.status) {
                case PASS:
                    passed++;
                    break;
                case FAIL:
                    failed++;
                    break;
                default:
                    skipped++;
            }
        }
        System.out.println(passed + " passed, " + failed + " failed" + (skipped > 0 ? " (" + skipped + " skipped)" : ""));
        return failed > 0 ? 1 : 0;
    }

    private Result run(int n) throws Exception {
        switch (n) {
            case 1:
                return stream();
            case 2:
                return fin();
            case 3:
                return resetStorm();
            case 4:
                return concurrent();
            case 5:
                return proc == null ? skipNoPid() : fdStability();
            case 6:
                return proc == null ? skipNoPid() : nonReader();
            case 7:
                return proc == null ? skipNoPid() : fdFlood();
            case 8:
                if (backendPort == null) {
                    return new Result(Status.SKIP, "needs --backend-port (a relay to a backend the checker plays)");
                }
                return proc == null ? skipNoPid() : pausedReset();
            default:
                throw new AssertionError(n);
        }
    }

    /**
     * Scenario 8: a client of a relay whose backend never reads fills the relay until it stops
     * reading the client (back-pressure), then resets. The relay's connection to that client is
     * paused with nothing to write: a transport that reports the reset whatever the interest
     * (epoll) must neither spin on it nor, with {@code --expect-release}, keep the backend
     * connection of the dead client.
     */
    private Result pausedReset() throws Exception {
        List<String> why = new ArrayList<>();
        try (java.net.ServerSocket backend = new java.net.ServerSocket()) {
            backend.setReceiveBufferSize(64 * 1024);
            backend.setReuseAddress(true);
            backend.bind(new InetSocketAddress(server.getAddress(), backendPort));
            backend.setSoTimeout(10_000);
            SocketChannel client = SocketChannel.open(server);
            client.setOption(StandardSocketOptions.SO_SNDBUF, 64 * 1024);
            client.configureBlocking(false);
            try (Socket b = backend.accept()) { // the relay's connection for this client; never read
                int relayPort = b.getPort();
                ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
                long sent = 0;
                long lastProgress = System.nanoTime();
                while (System.nanoTime() - lastProgress < TimeUnit.SECONDS.toNanos(1) && sent < (1L << 30)) {
                    chunk.clear();
                    int n = client.write(chunk);
                    if (n > 0) {
                        sent += n;
                        lastProgress = System.nanoTime();
                    } else {
                        Thread.sleep(10);
                    }
                }
                client.setOption(StandardSocketOptions.SO_LINGER, 0);
                client.close(); // a reset, while the relay does not read this client
                long ticks0 = proc.cpuTicks();
                long w0 = System.nanoTime();
                Thread.sleep(3_000);
                long ticks = proc.cpuTicks() - ticks0;
                double cpuPct = 100.0 * ticks / clkTck / ((System.nanoTime() - w0) / 1e9);
                boolean released = false;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (!(released = !established(backendPort, relayPort)) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                if (!proc.alive()) {
                    why.add("relay_process_gone");
                }
                if (cpuPct > 20.0) {
                    why.add(String.format(Locale.ROOT, "relay_cpu_%.0f%%>20%%_of_a_core_after_the_reset(spinning?)", cpuPct));
                }
                if (expectRelease && !released) {
                    why.add("backend_connection_still_held_5_s_after_the_client_reset");
                }
                return result(why.isEmpty(), why, String.format(Locale.ROOT,
                        "sent_before_pause=%d relay_cpu=%.1f%%(%d_ticks/3s) backend_released=%s%s", sent, cpuPct, ticks,
                        released, expectRelease ? "" : "(not_required)"));
            }
        }
    }

    /** Whether this host has an ESTABLISHED TCP socket from local port {@code local} to remote port {@code remote}. */
    private static boolean established(int local, int remote) throws IOException {
        String l = String.format(Locale.ROOT, ":%04X", local);
        String r = String.format(Locale.ROOT, ":%04X", remote);
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            Path p = Path.of(table);
            if (!Files.exists(p)) {
                continue;
            }
            for (String line : Files.readAllLines(p)) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 3 && f[1].endsWith(l) && f[2].endsWith(r) && f[3].equals("01")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static Result skipNoPid() {
        return new Result(Status.SKIP, "needs --pid (reads /proc/PID)");
    }

    // ------------------------------------------------------------------ 1 stream

    private Result stream() throws Exception {
        final int conns = 10;
        final long size = 8L * HostileKit.MiB;
        Verifier[] v = new Verifier[conns];
        String[] err = new String[conns];
        long t0 = System.nanoTime();
        try (Scope scope = new Scope(60_000)) {
            List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < conns; i++) {
                final int id = i;
                final long stream = 100 + i;
                Socket so = scope.connect(server, 10_000);
                v[i] = new Verifier(pattern, stream);
                ts.add(scope.start("stream-w" + i, () -> {
                    try {
                        pattern.write(so.getOutputStream(), stream, 0, size);
                    } catch (IOException e) {
                        setOnce(err, id, "write:" + HostileKit.ending(e));
                    }
                }));
                ts.add(scope.start("stream-r" + i, () -> {
                    byte[] buf = new byte[64 * 1024];
                    try {
                        InputStream in = so.getInputStream();
                        while (v[id].received < size) {
                            int r = in.read(buf, 0, (int) Math.min(buf.length, size - v[id].received));
                            if (r < 0) {
                                setOnce(err, id, "EOF");
                                return;
                            }
                            v[id].accept(buf, 0, r);
                        }
                    } catch (IOException e) {
                        setOnce(err, id, "read:" + HostileKit.ending(e));
                    }
                }));
            }
            for (Thread t : ts) {
                scope.join(t);
            }
            if (scope.expired()) {
                for (int i = 0; i < conns; i++) {
                    if (v[i].received < size) {
                        setOnce(err, i, "deadline");
                    }
                }
            }
        }
        long took = System.nanoTime() - t0;
        int ok = 0;
        long total = 0;
        List<String> why = new ArrayList<>();
        for (int i = 0; i < conns; i++) {
            total += v[i].received;
            boolean good = v[i].received == size && v[i].ok() && err[i] == null;
            if (good) {
                ok++;
            } else {
                why.add("conn" + i + ":received=" + v[i].received + (v[i].ok() ? "" : ",mismatch_at=" + v[i].mismatchAt)
                        + (err[i] == null ? "" : "," + err[i]));
            }
        }
        String nums = String.format(Locale.ROOT, "conns=%d bytes_each=%d ok=%d/%d echoed=%s throughput=%.0fMiB/s",
                conns, size, ok, conns, HostileKit.mib(total), total / (took / 1e9) / HostileKit.MiB);
        return result(ok == conns, why, nums);
    }

    private static synchronized void setOnce(String[] err, int i, String e) {
        if (err[i] == null) {
            err[i] = e;
        }
    }

    // ------------------------------------------------------------------ 2 fin

    /**
     * Three rounds that differ only in how fast the echo can drain towards the client, so that the
     * server has output still queued when the FIN arrives: a fast reader; a reader whose receive
     * buffer is 64 KiB; a reader that pauses 1 ms after every 64 KiB read.
     */
    private Result fin() throws Exception {
        final long size = 16L * HostileKit.MiB;
        final String[] modes = {"fast", "rcvbuf64k", "slow"};
        List<String> received = new ArrayList<>();
        List<String> endings = new ArrayList<>();
        List<String> why = new ArrayList<>();
        for (int round = 0; round < modes.length; round++) {
            final long stream = 200 + round;
            final String mode = modes[round];
            Verifier v = new Verifier(pattern, stream);
            AtomicReference<String> end = new AtomicReference<>("deadline");
            AtomicReference<String> werr = new AtomicReference<>();
            try (Scope scope = new Scope(30_000)) {
                Socket so = scope.add(new Socket());
                if (mode.equals("rcvbuf64k")) {
                    so.setReceiveBufferSize(64 * 1024); // before connect, so the window is small from the start
                }
                so.connect(server, 5_000);
                so.setSoTimeout(10_000);
                Thread w = scope.start("fin-w", () -> {
                    try {
                        pattern.write(so.getOutputStream(), stream, 0, size);
                        so.shutdownOutput();
                    } catch (IOException e) {
                        werr.set(HostileKit.ending(e));
                    }
                });
                Thread r = scope.start("fin-r", () -> {
                    byte[] buf = new byte[64 * 1024];
                    try {
                        InputStream in = so.getInputStream();
                        while (true) {
                            int n = in.read(buf);
                            if (n < 0) {
                                end.set("EOF");
                                break;
                            }
                            v.accept(buf, 0, n);
                            if (mode.equals("slow")) {
                                Thread.sleep(1);
                            }
                        }
                    } catch (IOException e) {
                        end.set(HostileKit.ending(e));
                    } catch (InterruptedException e) {
                        end.set("interrupted");
                    }
                });
                scope.join(w);
                scope.join(r);
                if (scope.expired()) {
                    end.set("deadline");
                }
            }
            received.add(Long.toString(v.received));
            endings.add(end.get());
            List<String> bad = new ArrayList<>();
            if (v.received != size) {
                bad.add("received=" + v.received + "(" + (size - v.received) + "_missing)");
            }
            if (!v.ok()) {
                bad.add("mismatch_at=" + v.mismatchAt);
            }
            if (!"EOF".equals(end.get())) {
                bad.add("ended_with=" + end.get());
            }
            if (werr.get() != null) {
                bad.add("write:" + werr.get());
            }
            if (!bad.isEmpty()) {
                why.add(mode + ":" + String.join(",", bad));
            }
        }
        String nums = "rounds=" + String.join(",", modes) + " received=" + String.join(",", received) + "/" + size
                + " end=" + String.join(",", endings);
        return result(why.isEmpty(), why, nums);
    }

    // ------------------------------------------------------------------ 3 reset storm

    private enum StormKind {
        RESET_MID_ECHO, CLOSE_AT_ONCE, RESET_AT_ONCE, PARTIAL_THEN_CLOSE, PARTIAL_THEN_RESET
    }

    private Result resetStorm() throws Exception {
        List<StormKind> tasks = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            tasks.add(StormKind.RESET_MID_ECHO);
        }
        for (int i = 0; i < 100; i++) {
            tasks.add(StormKind.CLOSE_AT_ONCE);
            tasks.add(StormKind.RESET_AT_ONCE);
        }
        for (int i = 0; i < 50; i++) {
            tasks.add(StormKind.PARTIAL_THEN_CLOSE);
            tasks.add(StormKind.PARTIAL_THEN_RESET);
        }
        Collections.shuffle(tasks, new Random(seed));
        AtomicInteger stormErrors = new AtomicInteger();
        AtomicReference<String> firstStormError = new AtomicReference<>();
        AtomicInteger midEchoBytes = new AtomicInteger();
        List<String> why = new ArrayList<>();
        String pingSummary;
        long stormNanos;
        int afterStorm;
        String fresh;
        try (Scope scope = new Scope(60_000)) {
            Pinger good = new Pinger(scope, server, pattern, 300, 512, 1, boundMillis);
            scope.start("storm-good", good);
            Thread.sleep(500);
            ExecutorService pool = Executors.newFixedThreadPool(8, JdkPeer.daemonThreads("storm"));
            long s0 = System.nanoTime();
            try {
                for (int i = 0; i < tasks.size(); i++) {
                    final StormKind kind = tasks.get(i);
                    final long stream = 1_000 + i;
                    pool.execute(() -> {
                        try {
                            stormPeer(scope, kind, stream, midEchoBytes);
                        } catch (Exception e) {
                            stormErrors.incrementAndGet();
                            firstStormError.compareAndSet(null, kind + ":" + HostileKit.ending(e));
                        }
                    });
                }
            } finally {
                pool.shutdown();
            }
            if (!pool.awaitTermination(Math.max(1, scope.remainingMillis() - 15_000), TimeUnit.MILLISECONDS)) {
                why.add("storm_not_done_in_time");
                pool.shutdownNow();
            }
            stormNanos = System.nanoTime() - s0;
            int mark = good.rounds();
            long until = System.nanoTime() + 3_000_000_000L;
            while (good.ok() && good.rounds() - mark < 50 && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            afterStorm = good.rounds() - mark;
            Socket f = scope.connect(server, (int) boundMillis);
            String e = HostileKit.echoOnce(f, pattern, 301, 0, 1024);
            fresh = e == null ? "ok" : e;
            good.stop();
            pingSummary = good.summary();
            if (!good.ok()) {
                why.add("good_client:" + good.error());
            }
            if (afterStorm == 0) {
                why.add("good_client_not_served_after_storm");
            }
            if (e != null) {
                why.add("fresh_connection_after_storm:" + e);
            }
        }
        String nums = String.format(Locale.ROOT,
                "storm=%d(reset_mid_echo=200,abrupt=300) storm_time=%s storm_errors=%d%s mid_echo_read=%s %s "
                        + "rounds_after_storm=%d fresh_echo=%s",
                tasks.size(), HostileKit.secs(stormNanos), stormErrors.get(),
                firstStormError.get() == null ? "" : "(first:" + firstStormError.get().replace(' ', '_') + ")",
                HostileKit.mib(midEchoBytes.get()), pingSummary, afterStorm, fresh.replace(' ', '_'));
        return result(why.isEmpty(), why, nums);
    }

    private void stormPeer(Scope scope, StormKind kind, long stream, AtomicInteger midEchoBytes) throws IOException {
        Socket so = scope.connect(server, 5_000);
        switch (kind) {
            case RESET_MID_ECHO: {
                // 128 KiB out; read 32 KiB of the echo, so the server is mid-echo; then RST
                pattern.write(so.getOutputStream(), stream, 0, 128 * 1024);
                Verifier v = new Verifier(pattern, stream);
                byte[] buf = new byte[32 * 1024];
                InputStream in = so.getInputStream();
                while (v.received < buf.length) {
                    int n = in.read(buf, 0, (int) (buf.length - v.received));
                    if (n < 0) {
                        throw new IOException("EOF mid-echo");
                    }
                    v.accept(buf, 0, n);
                }
                if (!v.ok()) {
                    throw new IOException("mismatch at " + v.mismatchAt);
                }
                midEchoBytes.addAndGet((int) v.received);
                HostileKit.reset(so);
                break;
            }
            case CLOSE_AT_ONCE:
                so.close();
                break;
            case RESET_AT_ONCE:
                HostileKit.reset(so);
                break;
            case PARTIAL_THEN_CLOSE:
                pattern.write(so.getOutputStream(), stream, 0, 100);
                so.close();
                break;
            case PARTIAL_THEN_RESET:
                pattern.write(so.getOutputStream(), stream, 0, 100);
                HostileKit.reset(so);
                break;
            default:
                throw new AssertionError(kind);
        }
    }

    // ------------------------------------------------------------------ 4 concurrent

    private Result concurrent() throws Exception {
        final int conns = 2_000;
        final int msg = 64;
        SocketChannel[] ch = new SocketChannel[conns];
        ByteBuffer[] rx = new ByteBuffer[conns];
        int connected = 0;
        int served = 0;
        int errors = 0;
        String firstError = null;
        long t0 = System.nanoTime();
        long allConnected = -1;
        long lastServed = 0;
        try (Selector sel = Selector.open()) {
            try {
                for (int i = 0; i < conns; i++) {
                    SocketChannel c = SocketChannel.open();
                    ch[i] = c;
                    c.configureBlocking(false);
                    c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    rx[i] = ByteBuffer.allocate(msg);
                    if (c.connect(server)) {
                        connected++;
                        c.write(ByteBuffer.wrap(pattern.bytes(2_000 + i, 0, msg)));
                        c.register(sel, SelectionKey.OP_READ, i);
                    } else {
                        c.register(sel, SelectionKey.OP_CONNECT, i);
                    }
                }
                long deadline = t0 + 30_000_000_000L;
                while (served + errors < conns && System.nanoTime() < deadline) {
                    sel.select(100);
                    Iterator<SelectionKey> it = sel.selectedKeys().iterator();
                    while (it.hasNext()) {
                        SelectionKey k = it.next();
                        it.remove();
                        int i = (Integer) k.attachment();
                        SocketChannel c = ch[i];
                        try {
                            if (k.isConnectable()) {
                                if (c.finishConnect()) {
                                    connected++;
                                    c.write(ByteBuffer.wrap(pattern.bytes(2_000 + i, 0, msg)));
                                    k.interestOps(SelectionKey.OP_READ);
                                }
                            } else if (k.isReadable()) {
                                int n = c.read(rx[i]);
                                if (n < 0) {
                                    throw new IOException("EOF before echo");
                                }
                                if (!rx[i].hasRemaining()) {
                                    k.interestOps(0);
                                    if (Arrays.equals(rx[i].array(), pattern.bytes(2_000 + i, 0, msg))) {
                                        served++;
                                        lastServed = System.nanoTime();
                                    } else {
                                        throw new IOException("echo mismatch");
                                    }
                                }
                            }
                        } catch (IOException e) {
                            errors++;
                            if (firstError == null) {
                                firstError = "conn" + i + ":" + HostileKit.ending(e);
                            }
                            k.cancel();
                        }
                        if (connected == conns && allConnected < 0) {
                            allConnected = System.nanoTime();
                        }
                    }
                }
            } finally {
                for (SocketChannel c : ch) {
                    HostileKit.closeQuietly(c);
                }
            }
        }
        List<String> why = new ArrayList<>();
        if (served < conns) {
            why.add((conns - served - errors) + "_unserved_after_30s");
        }
        if (errors > 0) {
            why.add(errors + "_errors(first:" + firstError + ")");
        }
        String nums = String.format(Locale.ROOT, "conns=%d connected=%d served=%d errors=%d all_connected_after=%s "
                        + "last_echo_after=%s", conns, connected, served, errors,
                allConnected < 0 ? "never" : HostileKit.secs(allConnected - t0),
                lastServed == 0 ? "never" : HostileKit.secs(lastServed - t0));
        return result(served == conns, why, nums);
    }

    // ------------------------------------------------------------------ 5 fd stability

    private Result fdStability() throws Exception {
        final int cycles = 3_000;
        final int threads = 4;
        final int bound = 10;
        int before = proc.settledFdCount(1_000, 10_000);
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        AtomicInteger next = new AtomicInteger();
        int peak = before;
        long t0 = System.nanoTime();
        try (Scope scope = new Scope(90_000)) {
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                ts.add(scope.start("fd-cycle" + t, () -> {
                    int i;
                    while ((i = next.getAndIncrement()) < cycles && !scope.expired()) {
                        Socket so = null;
                        try {
                            so = scope.connect(server, 5_000);
                            String e = HostileKit.echoOnce(so, pattern, 5_000 + i, 0, 64);
                            if (e != null) {
                                throw new IOException(e);
                            }
                            ok.incrementAndGet();
                        } catch (IOException e) {
                            failures.incrementAndGet();
                            firstFailure.compareAndSet(null, "cycle" + i + ":" + HostileKit.ending(e));
                        } finally {
                            if (so != null) {
                                if ((i & 1) == 0) {
                                    HostileKit.closeQuietly(so); // FIN
                                } else {
                                    HostileKit.reset(so); // RST
                                }
                            }
                        }
                    }
                }));
            }
            for (Thread t : ts) {
                while (t.isAlive() && scope.remainingMillis() > 0) {
                    t.join(50);
                    try {
                        peak = Math.max(peak, proc.fdCount());
                    } catch (IOException e) {
                        break; // process gone: reported below
                    }
                }
            }
        }
        long cycleNanos = System.nanoTime() - t0;
        if (!proc.alive()) {
            return new Result(Status.FAIL, "fd_before=" + before + " why=server_process_gone");
        }
        // settle: until back within the bound and unchanged for 0.5 s, at most 15 s
        long s0 = System.nanoTime();
        long end = s0 + 15_000_000_000L;
        int after = proc.fdCount();
        long since = System.nanoTime();
        while (System.nanoTime() < end) {
            Thread.sleep(100);
            int n = proc.fdCount();
            if (n != after) {
                after = n;
                since = System.nanoTime();
            } else if (after <= before + bound && System.nanoTime() - since >= 500_000_000L) {
                break;
            }
        }
        long settle = System.nanoTime() - s0;
        List<String> why = new ArrayList<>();
        if (after > before + bound) {
            why.add("fd_count_did_not_return(+" + (after - before) + ">" + bound + ")");
        }
        if (ok.get() < cycles) {
            why.add((cycles - ok.get()) + "_cycles_failed(first:" + firstFailure.get() + ")");
        }
        String nums = String.format(Locale.ROOT, "cycles=%d ok=%d close=half_FIN,half_RST fd_before=%d fd_peak=%d "
                        + "fd_after=%d delta=%+d bound=%d cycle_time=%s settle=%s",
                cycles, ok.get(), before, peak, after, after - before, bound, HostileKit.secs(cycleNanos),
                HostileKit.secs(settle));
        return result(why.isEmpty(), why, nums);
    }

    // ------------------------------------------------------------------ 6 non-reader

    private Result nonReader() throws Exception {
        final long limit = 1L << 30;
        final long stallNanos = 3_000_000_000L;
        final long sendTimeNanos = 30_000_000_000L;
        List<String> why = new ArrayList<>();
        long rssBefore = proc.rssKib();
        long[] rssPeak = {rssBefore};
        String stop;
        long sent = 0;
        long echoed;
        String end;
        long mismatchAt;
        long sendNanos;
        String pingSummary;
        String freshAfter;
        String readStop = "all";
        long readNanos;
        try (Scope scope = new Scope(120_000)) {
            Thread sampler = scope.start("rss-sampler", () -> {
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        long r = proc.rssKib();
                        synchronized (rssPeak) {
                            rssPeak[0] = Math.max(rssPeak[0], r);
                        }
                        Thread.sleep(100);
                    } catch (IOException | InterruptedException e) {
                        return;
                    }
                }
            });
            Pinger good = new Pinger(scope, server, pattern, 600, 256, 10, boundMillis);
            scope.start("nonreader-good", good);
            SocketChannel nr = scope.add(SocketChannel.open());
            nr.connect(server);
            nr.configureBlocking(false);
            final long stream = 601;
            try (Selector sel = Selector.open()) {
                SelectionKey key = nr.register(sel, SelectionKey.OP_WRITE);
                long t0 = System.nanoTime();
                long lastProgress = t0;
                stop = "limit_1GiB";
                try {
                    while (sent < limit) {
                        long now = System.nanoTime();
                        if (now - lastProgress >= stallNanos) {
                            stop = "no_progress_3s";
                            break;
                        }
                        if (now - t0 >= sendTimeNanos) {
                            stop = "send_time_30s";
                            break;
                        }
                        int n = nr.write(pattern.slice(stream, sent, limit - sent));
                        if (n > 0) {
                            sent += n;
                            lastProgress = now;
                        } else {
                            sel.select(100);
                            sel.selectedKeys().clear();
                        }
                    }
                } catch (IOException e) {
                    stop = "write_failed:" + HostileKit.ending(e);
                }
                sendNanos = System.nanoTime() - t0;
                // now read: the echo of what was sent, in order, and no EOF or RST
                Verifier v = new Verifier(pattern, stream);
                ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
                end = "open";
                key.interestOps(SelectionKey.OP_READ);
                long r0 = System.nanoTime();
                long lastRead = r0;
                try {
                    while (v.received < sent) {
                        long now = System.nanoTime();
                        if (now - lastRead > 3_000_000_000L) {
                            readStop = "no_data_for_3s";
                            break;
                        }
                        if (now - r0 > 30_000_000_000L) {
                            readStop = "read_time_30s";
                            break;
                        }
                        buf.clear();
                        int n = nr.read(buf);
                        if (n < 0) {
                            end = "EOF";
                            break;
                        }
                        if (n == 0) {
                            sel.select(100);
                            sel.selectedKeys().clear();
                            continue;
                        }
                        lastRead = now;
                        v.accept(buf.array(), 0, n);
                    }
                } catch (IOException e) {
                    end = HostileKit.ending(e);
                }
                echoed = v.received;
                mismatchAt = v.mismatchAt;
                readNanos = System.nanoTime() - r0;
            }
            good.stop();
            pingSummary = good.summary();
            if (!good.ok()) {
                why.add("good_client:" + good.error());
            }
            if (good.rounds() == 0) {
                why.add("good_client_never_served");
            }
            try {
                String e = HostileKit.echoOnce(scope.connect(server, (int) boundMillis), pattern, 602, 0, 256);
                freshAfter = e == null ? "ok" : e;
            } catch (IOException e) {
                freshAfter = HostileKit.ending(e);
            }
            if (!freshAfter.equals("ok")) {
                why.add("new_connection_after:" + freshAfter);
            }
            sampler.interrupt();
        }
        boolean alive = proc.alive();
        long peak;
        synchronized (rssPeak) {
            peak = rssPeak[0];
        }
        long growthKib = peak - rssBefore;
        if (!alive) {
            why.add("server_process_gone");
        }
        if (growthKib >= 256 * 1024) {
            why.add("rss_growth_" + growthKib / 1024 + "MiB>=256MiB");
        }
        if (!"open".equals(end)) {
            why.add("non_reader_connection_ended:" + end);
        }
        if (echoed < sent && "open".equals(end)) {
            // every byte the server accepted must come back once the peer reads: less is a loss
            why.add("echo_incomplete(" + (sent - echoed) + "_bytes_not_returned," + readStop + ")");
        }
        if (mismatchAt >= 0) {
            why.add("echo_mismatch_at=" + mismatchAt);
        }
        String nums = String.format(Locale.ROOT, "sent=%s stop=%s send_time=%s rss_before=%dMiB rss_peak=%dMiB "
                        + "growth=%dMiB limit=256MiB echoed_back=%s/%s read_back=%s(%s) end=%s %s new_conn_after=%s",
                HostileKit.mib(sent), stop, HostileKit.secs(sendNanos), rssBefore / 1024, peak / 1024,
                growthKib / 1024, HostileKit.mib(echoed), HostileKit.mib(sent), HostileKit.secs(readNanos), readStop, end, pingSummary,
                freshAfter.replace(' ', '_'));
        return result(why.isEmpty(), why, nums);
    }

    // ------------------------------------------------------------------ 7 fd flood

    private Result fdFlood() throws Exception {
        long lim = proc.fdLimit();
        int fdsNow = proc.fdCount();
        if (lim < 0 || lim > fdsNow + flood) {
            return new Result(Status.SKIP, "server fd limit " + (lim < 0 ? "unlimited" : lim) + " with " + fdsNow
                    + " open is not exceeded by " + flood + " connections; start the server under ulimit -n 128");
        }
        List<String> why = new ArrayList<>();
        int connected = 0;
        int pending = 0;
        int failed = 0;
        int closedByServer = 0;
        int fdPeak = fdsNow;
        double cpuPct;
        long cpuTicks;
        long windowNanos;
        String pingSummary;
        int freshOk = 0;
        String freshFirstErr = null;
        long freshNanos;
        try (Scope scope = new Scope(90_000)) {
            Pinger good = new Pinger(scope, server, pattern, 700, 128, 10, boundMillis);
            scope.start("flood-good", good);
            Thread.sleep(300);
            List<SocketChannel> chans = new ArrayList<>();
            try (Selector sel = Selector.open()) {
                for (int i = 0; i < flood; i++) {
                    SocketChannel c = scope.add(SocketChannel.open());
                    chans.add(c);
                    c.configureBlocking(false);
                    if (c.connect(server)) {
                        connected++;
                        c.register(sel, SelectionKey.OP_READ);
                    } else {
                        c.register(sel, SelectionKey.OP_CONNECT);
                    }
                }
                ByteBuffer sink = ByteBuffer.allocate(4096);
                // give the connects up to 3 s, then measure the server's CPU over 3 s of sustained flood
                long settleUntil = System.nanoTime() + 3_000_000_000L;
                long w0 = 0;
                long ticks0 = 0;
                long wEnd = Long.MAX_VALUE;
                while (true) {
                    long now = System.nanoTime();
                    if (w0 == 0 && (connected + failed == flood || now >= settleUntil)) {
                        w0 = System.nanoTime();
                        ticks0 = proc.cpuTicks();
                        wEnd = w0 + 3_000_000_000L;
                    }
                    if (now >= wEnd) {
                        break;
                    }
                    sel.select(50);
                    Iterator<SelectionKey> it = sel.selectedKeys().iterator();
                    while (it.hasNext()) {
                        SelectionKey k = it.next();
                        it.remove();
                        SocketChannel c = (SocketChannel) k.channel();
                        try {
                            if (k.isConnectable()) {
                                if (c.finishConnect()) {
                                    connected++;
                                    k.interestOps(SelectionKey.OP_READ);
                                }
                            } else if (k.isReadable()) {
                                sink.clear();
                                if (c.read(sink) < 0) {
                                    closedByServer++;
                                    k.cancel();
                                }
                            }
                        } catch (IOException e) {
                            if (k.isConnectable() || !c.isConnected()) {
                                failed++;
                            } else {
                                closedByServer++;
                            }
                            k.cancel();
                        }
                    }
                    fdPeak = Math.max(fdPeak, proc.fdCount());
                }
                long ticks1 = proc.cpuTicks();
                windowNanos = System.nanoTime() - w0;
                cpuTicks = ticks1 - ticks0;
                cpuPct = 100.0 * cpuTicks / clkTck / (windowNanos / 1e9);
                pending = flood - connected - failed;
            } finally {
                for (SocketChannel c : chans) {
                    HostileKit.closeQuietly(c);
                }
            }
            // after the flood: five new connections in a row must echo, within 10 s
            long f0 = System.nanoTime();
            long fEnd = f0 + 10_000_000_000L;
            int attempt = 0;
            while (freshOk < 5 && System.nanoTime() < fEnd) {
                attempt++;
                String e;
                try {
                    Socket so = scope.connect(server, 3_000);
                    e = HostileKit.echoOnce(so, pattern, 710 + attempt, 0, 64);
                    HostileKit.closeQuietly(so);
                } catch (IOException ex) {
                    e = HostileKit.ending(ex);
                }
                if (e == null) {
                    freshOk++;
                } else {
                    freshOk = 0;
                    if (freshFirstErr == null) {
                        freshFirstErr = e;
                    }
                    Thread.sleep(200);
                }
            }
            freshNanos = System.nanoTime() - f0;
            good.stop();
            pingSummary = good.summary();
            if (!good.ok()) {
                why.add("existing_connection:" + good.error());
            }
        }
        if (cpuPct > 50.0) {
            why.add(String.format(Locale.ROOT, "server_cpu_%.0f%%>50%%_of_a_core_during_flood(spinning?)", cpuPct));
        }
        if (freshOk < 5) {
            why.add("new_connections_after_flood:" + freshOk + "/5(first_error:" + freshFirstErr + ")");
        }
        String nums = String.format(Locale.ROOT, "fd_limit=%d flood=%d connected=%d pending=%d failed=%d "
                        + "closed_by_server=%d server_fd_peak=%d server_cpu=%.1f%%(%d_ticks/%s) %s after_flood=%d/5_echoed_in_%s",
                lim, flood, connected, pending, failed, closedByServer, fdPeak, cpuPct, cpuTicks,
                HostileKit.secs(windowNanos), pingSummary, freshOk, HostileKit.secs(freshNanos));
        return result(why.isEmpty(), why, nums);
    }

    public static void main(String[] args) {
        Cli.run(new HostileCheck(), args);
    }
}
