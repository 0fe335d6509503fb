package io.muduo4j.bench.cross;

import java.io.BufferedWriter;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The cross-process matrix ({@code jmh/crossproc.sh}): the project's EchoServer, PingPongClient and
 * ConnectClient (and plug-in commands) as separate processes, every server against one client
 * (server cost) and every client against one server (client cost), in interleaved rounds; then
 * optionally system calls per operation under {@code strace -f -c}; then README.md and chart.png.
 */
@Command(name = "crossproc", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Cross-process benchmark matrix; see jmh/README.md, section 'Cross-process mode'.")
public final class CrossProcess implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", defaultValue = "perf-results/cross-process", paramLabel = "DIR",
            description = "Output directory. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--quick", description = "CI smoke run: 1 round, 0.05 s warm-up, 0.2 s runs, 100+200 connects, no tput1 (same path as tput16); "
            + "the figures only show that every path runs. Explicit options override it.")
    boolean quick;

    @Option(names = "--rounds", paramLabel = "R", description = "Interleaved rounds (A B C .. A B C ..). Default: 3 (quick: 1).")
    Integer rounds;

    @Option(names = "--warmup-seconds", paramLabel = "S", description = "Ping-pong warm-up, same for every client. Default: 2 (quick: 0.05).")
    Double warmupSeconds;

    @Option(names = "--seconds", paramLabel = "S", description = "Ping-pong timed run. Default: 5 (quick: 0.2).")
    Double seconds;

    @Option(names = "--connect-warmup", paramLabel = "N", description = "Connects not counted first. Default: 2000 (quick: 100).")
    Integer connectWarmup;

    @Option(names = "--count", paramLabel = "N", description = "Connects counted. Default: 10000 (quick: 200).")
    Integer count;

    @Option(names = "--impls", split = ",", paramLabel = "LIST",
            description = "Built-in implementations in the matrix, in order. Default: muduo4j (its NIO transport), "
                    + "muduo4j-epoll (its FFM epoll transport, JDK 22+), netty-nio, netty-epoll, netty-io-uring, jdk, and "
                    + "jdk-virtual on JDK 21+. Plug-ins are always added.")
    List<String> impls;

    @Option(names = "--server-cost-client", defaultValue = "jdk", paramLabel = "NAME",
            description = "The one client of the server-cost section (built-in impl or --client-cmd name). Default: ${DEFAULT-VALUE}.")
    String serverCostClient;

    @Option(names = "--client-cost-server", defaultValue = "netty-epoll", paramLabel = "NAME",
            description = "The one server of the client-cost section (built-in impl or --server-cmd name). Default: ${DEFAULT-VALUE}.")
    String clientCostServer;

    @Option(names = "--reference", defaultValue = "muduo4j", paramLabel = "NAME",
            description = "Per-round ratios are impl / this. Default: ${DEFAULT-VALUE}.")
    String reference;

    @Option(names = "--server-cmd", paramLabel = "NAME=CMD",
            description = "A plug-in echo server: CMD (run by bash) listens on {port}. Repeatable.")
    List<String> serverCmds = new ArrayList<>();

    @Option(names = "--client-cmd", paramLabel = "NAME[/KIND]=CMD",
            description = "A plug-in client printing a RESULT line; KIND pingpong, connect, echo1 or * (default). "
                    + "Placeholders: {host} {port} {kind} {conns} {size} {seconds} {warmup_s} {count} {warmup_n} "
                    + "{mode} {start}. Repeatable.")
    List<String> clientCmds = new ArrayList<>();

    @Option(names = "--sections", split = ",", defaultValue = "server,client", paramLabel = "LIST",
            description = "server (server cost), client (client cost). Default: ${DEFAULT-VALUE}.")
    List<String> sections;

    @Option(names = "--figures", split = ",", paramLabel = "LIST",
            description = "Figures to run: rtt16, tput1, tput16, connect, connect_loop, echo1. Default: all (quick: all but tput1).")
    List<String> figures;

    @Option(names = "--syscalls", description = "Also count system calls per operation under strace -f -c.")
    boolean syscalls;

    @Option(names = "--syscalls-only", description = "Only the system call counts (no timed matrix).")
    boolean syscallsOnly;

    @Option(names = "--syscall-counts", split = ",", paramLabel = "N1,N2",
            description = "Connect counts of the two counted runs whose difference is per connection. Default: 200,1200 (quick: 50,250).")
    List<Integer> syscallCounts;

    @Option(names = "--syscall-seconds", split = ",", paramLabel = "S1,S2",
            description = "Lengths of the two RTT runs whose difference is per message. Default: 0.5,3 (quick: 0.2,1.5).")
    List<Double> syscallSeconds;

    @Option(names = "--report-only", description = "Only regenerate README.md and chart.png from the TSV files in --out.")
    boolean reportOnly;

    @Option(names = "--jar", defaultValue = "jmh/target/benchmarks.jar", paramLabel = "JAR", description = "Default: ${DEFAULT-VALUE}.")
    String jar;

    @Option(names = "--jvm-args", paramLabel = "ARGS",
            defaultValue = "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED --enable-native-access=ALL-UNNAMED -Xms512m -Xmx512m -XX:AutoBoxCacheMax=65536 "
                    + "-Dio.netty.leakDetection.level=disabled",
            description = "JVM flags of every project program (same for all). Default: ${DEFAULT-VALUE}.")
    String jvmArgs;

    @Option(names = "--machine", paramLabel = "FILE", description = "machine.txt to quote in the README.")
    Path machine;

    @Option(names = "--command", paramLabel = "FILE", description = "command.txt to quote in the README.")
    Path command;

    private final Map<String, Endpoints.Server> servers = new LinkedHashMap<>();
    private final Map<String, Endpoints.Client> clients = new LinkedHashMap<>();
    private final List<String> failures = new ArrayList<>();
    private Endpoints.RunParams params;
    private Path logs;

    @Override
    public Integer call() throws Exception {
        boolean q = quick;
        int r = rounds != null ? rounds : (q ? 1 : 3);
        params = new Endpoints.RunParams(warmupSeconds != null ? warmupSeconds : (q ? 0.05 : 2.0),
                seconds != null ? seconds : (q ? 0.2 : 5.0),
                connectWarmup != null ? connectWarmup : (q ? 100 : 2000),
                count != null ? count : (q ? 200 : 10_000));
        List<Integer> sc = syscallCounts != null ? syscallCounts : (q ? List.of(50, 250) : List.of(200, 1200));
        List<Double> ss = syscallSeconds != null ? syscallSeconds : (q ? List.of(0.2, 1.5) : List.of(0.5, 3.0));
        require(r >= 1, "--rounds must be >= 1");
        require(params.seconds >= 0.05 && params.warmupSeconds >= 0, "--seconds must be >= 0.05, --warmup-seconds >= 0");
        require(params.count >= 1 && params.warmupCount >= 0, "--count must be >= 1, --connect-warmup >= 0");
        require(sc.size() == 2 && sc.get(0) >= 1 && sc.get(1) > sc.get(0), "--syscall-counts needs N1,N2 with N2 > N1 >= 1");
        require(ss.size() == 2 && ss.get(0) >= 0.05 && ss.get(1) > ss.get(0), "--syscall-seconds needs S1,S2 with S2 > S1 >= 0.05");
        Files.createDirectories(out);
        Path results = out.resolve("results.tsv");
        Path sysFile = out.resolve("syscalls.tsv");
        if (reportOnly) {
            return writeReport(results, sysFile, r, sc, ss);
        }

        String javaBin = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Endpoints.Java j = new Endpoints.Java(javaBin, Arrays.asList(jvmArgs.trim().split("\\s+")), jar);
        require(Files.isRegularFile(Paths.get(jar)), "jar " + jar + " not found (build first)");
        List<String> builtin = impls != null ? impls : defaultImpls();
        for (String i : builtin) {
            require(Endpoints.BUILTIN.contains(i), "--impls: '" + i + "' is not one of " + Endpoints.BUILTIN);
            servers.put(i, Endpoints.builtinServer(j, i));
            clients.put(i, Endpoints.builtinClient(j, i));
        }
        for (String s : serverCmds) {
            int eq = s.indexOf('=');
            require(eq > 0, "--server-cmd needs NAME=CMD, got '" + s + "'");
            servers.put(s.substring(0, eq), Endpoints.pluginServer(s.substring(0, eq), s.substring(eq + 1)));
        }
        Map<String, Map<String, String>> templates = new LinkedHashMap<>();
        for (String s : clientCmds) {
            int eq = s.indexOf('=');
            require(eq > 0, "--client-cmd needs NAME[/KIND]=CMD, got '" + s + "'");
            String key = s.substring(0, eq);
            int slash = key.indexOf('/');
            String name = slash < 0 ? key : key.substring(0, slash);
            String kind = slash < 0 ? "*" : key.substring(slash + 1);
            require(List.of("*", "pingpong", "connect", "echo1").contains(kind), "--client-cmd kind must be pingpong, connect, echo1 or *");
            templates.computeIfAbsent(name, k -> new LinkedHashMap<>()).put(kind, s.substring(eq + 1));
        }
        templates.forEach((name, t) -> clients.put(name, Endpoints.pluginClient(name, t)));
        // the fixed endpoints may be built-ins left out of the matrix
        if (!servers.containsKey(clientCostServer) && Endpoints.BUILTIN.contains(clientCostServer)) {
            servers.put(clientCostServer, Endpoints.builtinServer(j, clientCostServer));
        }
        if (!clients.containsKey(serverCostClient) && Endpoints.BUILTIN.contains(serverCostClient)) {
            clients.put(serverCostClient, Endpoints.builtinClient(j, serverCostClient));
        }
        require(servers.containsKey(clientCostServer), "--client-cost-server: no server named '" + clientCostServer + "'");
        require(clients.containsKey(serverCostClient), "--server-cost-client: no client named '" + serverCostClient + "'");
        List<Figure> figs = new ArrayList<>();
        for (Figure f : Figure.ALL) {
            // quick: tput1 is left out unless asked for (the same code path as tput16, one connection)
            if (figures == null ? !(q && f.id.equals("tput1")) : figures.contains(f.id)) {
                figs.add(f);
            }
        }
        if (figures != null) {
            for (String f : figures) {
                require(Figure.byId(f) != null, "--figures: unknown figure '" + f + "'");
            }
        }
        List<String> serverList = new ArrayList<>(builtin);
        serverCmds.forEach(s -> serverList.add(s.substring(0, s.indexOf('='))));
        List<String> clientList = new ArrayList<>(builtin);
        clientList.addAll(templates.keySet());

        logs = out.resolve("logs");
        Files.createDirectories(logs);
        long t0 = System.nanoTime();
        if (!syscallsOnly) {
            try (BufferedWriter w = Files.newBufferedWriter(results, StandardCharsets.UTF_8)) {
                w.write(Row.HEADER);
                w.newLine();
                for (int round = 1; round <= r; round++) {
                    if (sections.contains("server")) {
                        for (String s : serverList) {
                            runPair(w, round, "server", s, servers.get(s), clients.get(serverCostClient), figs);
                        }
                    }
                    if (sections.contains("client")) {
                        for (String c : clientList) {
                            runPair(w, round, "client", c, servers.get(clientCostServer), clients.get(c), figs);
                        }
                    }
                }
            }
        }
        if (syscalls || syscallsOnly) {
            Syscalls sys = new Syscalls(this, sc, ss);
            sys.run(sysFile, serverList, clientList, servers.get(clientCostServer), clients.get(serverCostClient));
        }
        System.out.printf(Locale.ROOT, "== matrix done in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        int rc = writeReport(results, sysFile, r, sc, ss);
        if (!failures.isEmpty()) {
            System.out.println("== " + failures.size() + " failed run(s):");
            failures.forEach(f -> System.out.println("   " + f));
            return 1;
        }
        return rc;
    }

    private int writeReport(Path results, Path sysFile, int r, List<Integer> sc, List<Double> ss) throws IOException {
        List<Row> rows = Files.exists(results) ? Row.parseAll(Files.readAllLines(results)) : List.of();
        List<String> sys = Files.exists(sysFile) ? Files.readAllLines(sysFile) : List.of();
        String setup = String.format(Locale.ROOT,
                "- rounds: %d, interleaved (every implementation once per round, in the same order); a fresh server "
                        + "process for every implementation in every round, each client run its own process%n"
                        + "- ping-pong: %s s warm-up (not counted: neither bytes nor RTT samples), then %s s timed%n"
                        + "- connect: %d connects warm-up, then %d timed, one after another, each closed with SO_LINGER 0; "
                        + "p50/p99 time each connect from its start to established (echo1: to the echo), the close after "
                        + "the clock stops; the rate counts whole cycles%n"
                        + "- servers: `EchoServer --threads 1` (one loop accepts and does all I/O; jdk: a thread per "
                        + "connection); clients: one loop (`--threads 1`; jdk: a thread per session)%n"
                        + "- server cost: every server against the `%s` client; client cost: every client against the "
                        + "`%s` server; ratios: impl / `%s`, computed per round%n"
                        + "- JVM flags of every project program: `%s`%n"
                        + "- system calls (if counted): connect runs of %d and %d connections, RTT runs of %s and %s s; "
                        + "the difference of the two is divided by the difference in operations%n",
                r, Endpoints.num(params == null ? 0 : params.warmupSeconds), Endpoints.num(params == null ? 0 : params.seconds),
                params == null ? 0 : params.warmupCount, params == null ? 0 : params.count, serverCostClient,
                clientCostServer, reference, jvmArgs, sc.get(0), sc.get(1), Endpoints.num(ss.get(0)), Endpoints.num(ss.get(1)));
        if (reportOnly) {
            setup = "- (regenerated with --report-only: run parameters in command.txt)\n";
        }
        CrossReport.write(out, rows, sys, new CrossReport.Context(reference, serverCostClient, clientCostServer, quick,
                setup, read(machine), read(command)));
        System.out.println("== report: " + out.resolve("README.md"));
        return 0;
    }

    private static String read(Path p) throws IOException {
        return p != null && Files.exists(p) ? Files.readString(p) : null;
    }

    private static List<String> defaultImpls() {
        List<String> l = new ArrayList<>(Endpoints.BUILTIN);
        if (Runtime.version().feature() < 21) {
            l.remove("jdk-virtual");
            System.out.println("== JDK " + Runtime.version().feature() + " has no virtual threads: jdk-virtual left out");
        }
        if (Runtime.version().feature() < 22) {
            l.remove("muduo4j-epoll");
            System.out.println("== JDK " + Runtime.version().feature() + " has no final FFM API: muduo4j-epoll left out");
        }
        return l;
    }

    private void require(boolean ok, String message) {
        if (!ok) {
            throw new CommandLine.ParameterException(spec.commandLine(), message);
        }
    }

    // ------------------------------------------------------------------ one server, its clients

    private void runPair(BufferedWriter w, int round, String section, String impl, Endpoints.Server server,
                         Endpoints.Client client, List<Figure> figs) throws IOException, InterruptedException {
        String tag = "r" + round + "-" + section + "-" + safe(impl);
        int port = freePort();
        Path slog = logs.resolve(tag + "-server.log");
        Process sp = start(server.command(port), slog, null);
        try {
            boolean up = waitListening(sp, port, 30_000);
            for (Figure f : figs) {
                List<String> cmd = client.command(f, "127.0.0.1", port, params);
                if (cmd == null) {
                    continue; // not applicable (jdk + loop, plug-in without this kind)
                }
                String label = String.format(Locale.ROOT, "round %d %s cost %-16s %-13s", round, section, impl, f.id);
                if (!up || !sp.isAlive()) {
                    record(w, round, section, impl, server, client, f, null, "server not listening (see logs/" + slog.getFileName() + ")");
                    System.out.println("== " + label + " FAILED: server not listening");
                    continue;
                }
                Path clog = logs.resolve(tag + "-" + f.id + ".log");
                RunOutcome o = runClient(cmd, clog, timeoutMs(f, params), null);
                record(w, round, section, impl, server, client, f, o.result, o.error);
                System.out.println("== " + label + " " + (o.error == null ? summary(f, o.result) : "FAILED: " + o.error));
            }
        } finally {
            stop(sp, false);
        }
        w.flush();
    }

    static long timeoutMs(Figure f, Endpoints.RunParams p) {
        if (f.kind == Figure.Kind.PINGPONG) {
            return (long) ((p.warmupSeconds + p.seconds) * 1000) + 60_000;
        }
        return 60_000 + (p.count + p.warmupCount) * 20L; // 20 ms a connect at worst
    }

    private static String summary(Figure f, ResultLine r) {
        StringBuilder sb = new StringBuilder();
        for (Figure.Metric m : f.metrics) {
            OptionalDouble v = r.number(m.keys());
            sb.append(m.label).append('=').append(v.isPresent() ? String.format(Locale.ROOT, "%.1f", v.getAsDouble()) : "?")
                    .append(' ');
        }
        return sb.toString().trim();
    }

    private void record(BufferedWriter w, int round, String section, String impl, Endpoints.Server server,
                        Endpoints.Client client, Figure f, ResultLine r, String error) throws IOException {
        for (Figure.Metric m : f.metrics) {
            double v = Double.NaN;
            String status = error;
            if (status == null) {
                OptionalDouble d = r.number(m.keys());
                if (d.isPresent()) {
                    v = d.getAsDouble();
                    status = "ok";
                } else {
                    status = "no " + m.key + " in the RESULT line";
                }
            }
            if (!"ok".equals(status)) {
                failures.add("round " + round + " " + section + " cost " + impl + " " + f.id + " " + m.key + ": " + status);
            }
            w.write(new Row(round, section, impl, server.name(), client.name(), f.id, m.key, v, status).tsv());
            w.newLine();
        }
    }

    // ------------------------------------------------------------------ processes

    static final class RunOutcome {
        final ResultLine result;
        final String error;
        final String output;

        RunOutcome(ResultLine result, String error, String output) {
            this.result = result;
            this.error = error;
            this.output = output;
        }
    }

    /** {@code strace -f -c -o FILE CMD} if {@code straceFile} is set, else CMD. */
    static List<String> traced(List<String> cmd, Path straceFile) {
        if (straceFile == null) {
            return cmd;
        }
        List<String> c = new ArrayList<>(List.of("strace", "-f", "-c", "-o", straceFile.toString()));
        c.addAll(cmd);
        return c;
    }

    Process start(List<String> cmd, Path log, Path straceFile) throws IOException {
        Files.writeString(log, "$ " + String.join(" ", traced(cmd, straceFile)) + "\n");
        return new ProcessBuilder(traced(cmd, straceFile)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    RunOutcome runClient(List<String> cmd, Path log, long timeoutMs, Path straceFile) throws IOException, InterruptedException {
        Process p = start(cmd, log, straceFile);
        if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor();
            return new RunOutcome(null, "timed out after " + timeoutMs / 1000 + " s (see logs/" + log.getFileName() + ")", "");
        }
        String output = Files.readString(log);
        if (p.exitValue() != 0) {
            return new RunOutcome(null, "exit " + p.exitValue() + " (see logs/" + log.getFileName() + ")", output);
        }
        ResultLine r = ResultLine.parseLast(output);
        if (r == null) {
            return new RunOutcome(null, "no RESULT line (see logs/" + log.getFileName() + ")", output);
        }
        return new RunOutcome(r, null, output);
    }

    /** SIGTERM (traced: to the traced process only, so strace writes its summary as it exits), then SIGKILL after 10 s. */
    static void stop(Process p, boolean traced) throws InterruptedException {
        if (traced) {
            p.descendants().forEach(ProcessHandle::destroy);
        } else {
            p.destroy();
        }
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor();
        }
    }

    static boolean waitListening(Process p, int port, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() - deadline < 0) {
            if (!p.isAlive()) {
                return false;
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException e) {
                Thread.sleep(20);
            }
        }
        return false;
    }

    /**
     * A free loopback port below the kernel's ephemeral range, as a deployed server's port is (a
     * port in the range is one a client's own connect can be given, which makes clients that
     * guard against a self-connect pay a check for it); a port of the range when none is free
     * there or the range cannot be read.
     */
    static int freePort() throws IOException {
        int low = ephemeralLow();
        if (low > 1024 + 4096) {
            java.util.concurrent.ThreadLocalRandom rnd = java.util.concurrent.ThreadLocalRandom.current();
            for (int i = 0; i < 64; i++) {
                int port = low - 4096 + rnd.nextInt(4096);
                try (ServerSocket s = new ServerSocket()) {
                    s.bind(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port), 1);
                    return port;
                } catch (IOException taken) {
                    // try another
                }
            }
        }
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The first port of {@code ip_local_port_range}, or 0 when it cannot be read. */
    static int ephemeralLow() {
        try {
            String[] p = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return Integer.parseInt(p[0]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    static String safe(String name) {
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    Path logs() {
        return logs;
    }

    Endpoints.Server serverByName(String name) {
        return servers.get(name);
    }

    Endpoints.Client clientByName(String name) {
        return clients.get(name);
    }

    Endpoints.RunParams params() {
        return params;
    }

    void failed(String what) {
        failures.add(what);
    }

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new CrossProcess());
        cl.registerConverter(Path.class, Paths::get);
        System.exit(cl.execute(args));
    }

    static void append(Path file, String line) throws IOException {
        Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
