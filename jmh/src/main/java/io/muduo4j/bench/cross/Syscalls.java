package io.muduo4j.bench.cross;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.StringJoiner;

/**
 * System calls per operation (item 6): each implementation's process runs under
 * {@code strace -f -c} twice, with a small and a large number of operations; the difference of
 * the two counts over the difference in operations is the figure per operation, so the start-up,
 * connection set-up and shutdown calls cancel out. strace slows the traced process down: only the
 * counts mean something, never the times.
 * <ul>
 *   <li>client, per connect: ConnectClient (caller start) against the client-cost server;</li>
 *   <li>client, per echoed message: 1 x 16 B ping-pong, messages from its RESULT {@code msgs};</li>
 *   <li>server, per accepted connection: the server traced while the server-cost client does connect +
 *       1-byte echo + reset;</li>
 *   <li>server, per echoed message: the server traced during the server-cost client's 1 x 16 B ping-pong.</li>
 * </ul>
 */
final class Syscalls {
    static final String HEADER = "impl\trole\toperation\tops\tcalls_per_op\ttop\tstatus";
    private static final int TOP = 6;

    private final CrossProcess cp;
    private final List<Integer> counts;
    private final List<Double> secs;

    Syscalls(CrossProcess cp, List<Integer> counts, List<Double> secs) {
        this.cp = cp;
        this.counts = counts;
        this.secs = secs;
    }

    void run(Path file, List<String> servers, List<String> clients, Endpoints.Server fixedServer,
             Endpoints.Client fixedClient) throws IOException, InterruptedException {
        Files.writeString(file, HEADER + "\n");
        Figure connect = Figure.byId("connect");
        Figure echo1 = Figure.byId("echo1");
        Figure rtt = Figure.byId("rtt16");
        for (String c : clients) {
            Endpoints.Client client = cp.clientByName(c);
            int port = CrossProcess.freePort();
            Path slog = cp.logs().resolve("sys-client-" + CrossProcess.safe(c) + "-server.log");
            Process sp = cp.start(fixedServer.command(port), slog, null);
            try {
                if (!CrossProcess.waitListening(sp, port, 30_000)) {
                    line(file, c, "client", "connect", 0, null, "server not listening");
                    line(file, c, "client", "message", 0, null, "server not listening");
                    continue;
                }
                Count[] runs = new Count[2];
                for (int i = 0; i < 2; i++) {
                    runs[i] = tracedClient(client, connect, port, new Endpoints.RunParams(0, 1, 0, counts.get(i)),
                            "sys-client-" + CrossProcess.safe(c) + "-connect-" + i, false);
                }
                emit(file, c, "client", "connect", runs, counts.get(1) - counts.get(0));
                for (int i = 0; i < 2; i++) {
                    runs[i] = tracedClient(client, rtt, port, new Endpoints.RunParams(0, secs.get(i), 0, 1),
                            "sys-client-" + CrossProcess.safe(c) + "-message-" + i, true);
                }
                emit(file, c, "client", "message", runs, runs[0] != null && runs[1] != null ? runs[1].ops - runs[0].ops : 0);
            } finally {
                CrossProcess.stop(sp, false);
            }
        }
        for (String s : servers) {
            Endpoints.Server server = cp.serverByName(s);
            Count[] runs = new Count[2];
            for (int i = 0; i < 2; i++) {
                runs[i] = tracedServer(server, fixedClient, echo1, new Endpoints.RunParams(0, 1, 0, counts.get(i)),
                        "sys-server-" + CrossProcess.safe(s) + "-accept-" + i, false);
            }
            emit(file, s, "server", "accept", runs, counts.get(1) - counts.get(0));
            for (int i = 0; i < 2; i++) {
                runs[i] = tracedServer(server, fixedClient, rtt, new Endpoints.RunParams(0, secs.get(i), 0, 1),
                        "sys-server-" + CrossProcess.safe(s) + "-message-" + i, true);
            }
            emit(file, s, "server", "message", runs, runs[0] != null && runs[1] != null ? runs[1].ops - runs[0].ops : 0);
        }
    }

    /** The calls of one counted run and its number of operations (count, or messages echoed). */
    static final class Count {
        final Map<String, Long> calls;
        final double ops;
        final String error;

        Count(Map<String, Long> calls, double ops, String error) {
            this.calls = calls;
            this.ops = ops;
            this.error = error;
        }
    }

    private Count tracedClient(Endpoints.Client client, Figure f, int port, Endpoints.RunParams p, String tag,
                               boolean opsFromMsgs) throws IOException, InterruptedException {
        List<String> cmd = client.command(f, "127.0.0.1", port, p);
        if (cmd == null) {
            return new Count(null, 0, "not applicable");
        }
        Path st = cp.logs().resolve(tag + ".strace");
        Files.deleteIfExists(st);
        CrossProcess.RunOutcome o = cp.runClient(cmd, cp.logs().resolve(tag + ".log"), CrossProcess.timeoutMs(f, p) * 4, st);
        if (o.error != null) {
            return new Count(null, 0, o.error);
        }
        return counted(st, o.result, opsFromMsgs ? "msgs" : null, p.count);
    }

    private Count tracedServer(Endpoints.Server server, Endpoints.Client client, Figure f, Endpoints.RunParams p,
                               String tag, boolean opsFromMsgs) throws IOException, InterruptedException {
        List<String> cmd = client.command(f, "127.0.0.1", 0, p);
        if (cmd == null) {
            return new Count(null, 0, "the server-cost client has no " + f.id + " run");
        }
        int port = CrossProcess.freePort();
        Path st = cp.logs().resolve(tag + ".strace");
        Files.deleteIfExists(st);
        Process sp = cp.start(server.command(port), cp.logs().resolve(tag + "-server.log"), st);
        CrossProcess.RunOutcome o;
        try {
            if (!CrossProcess.waitListening(sp, port, 60_000)) {
                return new Count(null, 0, "server not listening under strace");
            }
            o = cp.runClient(client.command(f, "127.0.0.1", port, p), cp.logs().resolve(tag + ".log"),
                    CrossProcess.timeoutMs(f, p) * 4, null);
        } finally {
            CrossProcess.stop(sp, true);
        }
        if (o.error != null) {
            return new Count(null, 0, o.error);
        }
        return counted(st, o.result, opsFromMsgs ? "msgs" : null, p.count);
    }

    private static Count counted(Path st, ResultLine r, String opsKey, int count) throws IOException {
        if (!Files.exists(st)) {
            return new Count(null, 0, "strace wrote no summary");
        }
        Map<String, Long> calls = StraceCounts.parse(Files.readString(st));
        if (calls.isEmpty()) {
            return new Count(null, 0, "empty strace summary");
        }
        double ops = count;
        if (opsKey != null) {
            OptionalDouble m = r.number(opsKey);
            if (m.isEmpty()) {
                return new Count(null, 0, "no " + opsKey + " in the RESULT line");
            }
            ops = m.getAsDouble();
        }
        return new Count(calls, ops, null);
    }

    private void emit(Path file, String impl, String role, String op, Count[] runs, double ops) throws IOException {
        for (Count c : runs) {
            if (c == null || c.error != null) {
                String e = c == null ? "not run" : c.error;
                line(file, impl, role, op, 0, null, e);
                if (!e.equals("not applicable")) {
                    cp.failed("syscalls " + role + " " + impl + " " + op + ": " + e);
                }
                return;
            }
        }
        if (ops <= 0) {
            line(file, impl, role, op, ops, null, "no more operations in the longer run");
            cp.failed("syscalls " + role + " " + impl + " " + op + ": no more operations in the longer run");
            return;
        }
        line(file, impl, role, op, ops, new double[] {
            (StraceCounts.total(runs[1].calls) - StraceCounts.total(runs[0].calls)) / ops},
                top(StraceCounts.perOperation(runs[0].calls, runs[1].calls, ops)));
    }

    static String top(Map<String, Double> perOp) {
        StringJoiner j = new StringJoiner(", ");
        int n = 0;
        for (Map.Entry<String, Double> e : perOp.entrySet()) {
            if (n++ == TOP) {
                break;
            }
            j.add(String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue()));
        }
        return j.toString();
    }

    private static void line(Path file, String impl, String role, String op, double ops, double[] perOp, String topOrStatus)
            throws IOException {
        boolean ok = perOp != null;
        CrossProcess.append(file, String.join("\t", impl, role, op, String.format(Locale.ROOT, "%.0f", ops),
                ok ? String.format(Locale.ROOT, "%.2f", perOp[0]) : "NaN", ok ? topOrStatus : "", ok ? "ok" : topOrStatus));
        System.out.println("== syscalls " + role + " " + impl + " per " + op + ": "
                + (ok ? String.format(Locale.ROOT, "%.2f (%s)", perOp[0], topOrStatus) : topOrStatus));
    }
}
