package io.muduo4j.bench.cross;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The servers and clients of the matrix: the project's programs per implementation, and plug-in commands. */
final class Endpoints {
    private Endpoints() {
    }

    /** Run lengths every client gets alike. */
    static final class RunParams {
        final double warmupSeconds;
        final double seconds;
        final int warmupCount;
        final int count;

        RunParams(double warmupSeconds, double seconds, int warmupCount, int count) {
            this.warmupSeconds = warmupSeconds;
            this.seconds = seconds;
            this.warmupCount = warmupCount;
            this.count = count;
        }
    }

    /** An echo server started as its own process on a given port. */
    interface Server {
        String name();

        List<String> command(int port);
    }

    /** A client program: the command for one figure, or null where the figure does not apply. */
    interface Client {
        String name();

        List<String> command(Figure f, String host, int port, RunParams p);
    }

    /** java + JVM flags + classpath, shared by every project program. */
    static final class Java {
        final String java;
        final List<String> jvmArgs;
        final String jar;

        Java(String java, List<String> jvmArgs, String jar) {
            this.java = java;
            this.jvmArgs = jvmArgs;
            this.jar = jar;
        }

        List<String> program(String mainClass, List<String> args) {
            List<String> c = new ArrayList<>();
            c.add(java);
            c.addAll(jvmArgs);
            c.add("-cp");
            c.add(jar);
            c.add("io.muduo4j.bench." + mainClass);
            c.addAll(args);
            return c;
        }
    }

    /** Implementations whose EchoServer / PingPongClient / ConnectClient are built in, and which have a loop. */
    static final List<String> BUILTIN = List.of("muduo4j", "muduo4j-epoll", "netty-nio", "netty-epoll", "netty-io-uring", "jdk",
            "jdk-virtual");

    /** The program's {@code --impl} (and {@code --transport}) for a built-in name: muduo4j is its NIO transport. */
    static List<String> implArgs(String impl) {
        switch (impl) {
            case "muduo4j":
                return List.of("--impl", "muduo4j", "--transport", "nio");
            case "muduo4j-epoll":
                return List.of("--impl", "muduo4j", "--transport", "epoll");
            default:
                return List.of("--impl", impl);
        }
    }

    static boolean hasLoop(String impl) {
        return !impl.startsWith("jdk");
    }

    static Server builtinServer(Java j, String impl) {
        return new Server() {
            @Override
            public String name() {
                return impl;
            }

            @Override
            public List<String> command(int port) {
                List<String> a = new ArrayList<>(implArgs(impl));
                a.addAll(List.of("--threads", "1", "--host", "127.0.0.1", "--port", Integer.toString(port)));
                return j.program("EchoServer", a);
            }
        };
    }

    static Client builtinClient(Java j, String impl) {
        return new Client() {
            @Override
            public String name() {
                return impl;
            }

            @Override
            public List<String> command(Figure f, String host, int port, RunParams p) {
                List<String> a = new ArrayList<>(implArgs(impl));
                a.addAll(List.of("--host", host, "--port", Integer.toString(port)));
                switch (f.kind) {
                    case PINGPONG:
                        a.addAll(List.of("--connections", Integer.toString(f.connections), "--size", Integer.toString(f.size),
                                "--threads", "1", "--seconds", num(p.seconds), "--warmup-seconds", num(p.warmupSeconds)));
                        return j.program("PingPongClient", a);
                    case CONNECT:
                        if (f.start.equals("loop") && !hasLoop(impl)) {
                            return null;
                        }
                        a.addAll(List.of("--start", f.start, "--count", Integer.toString(p.count), "--warmup",
                                Integer.toString(p.warmupCount)));
                        return j.program("ConnectClient", a);
                    case ECHO1:
                        a.addAll(List.of("--echo", "--count", Integer.toString(p.count), "--warmup",
                                Integer.toString(p.warmupCount)));
                        return j.program("ConnectClient", a);
                    default:
                        throw new AssertionError(f.kind);
                }
            }
        };
    }

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-z_]+)\\}");

    /** Replaces every {@code {name}} in {@code template}; an unknown name is an error (a typo would run silently). */
    static String fill(String template, Map<String, String> values) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String v = values.get(m.group(1));
            if (v == null) {
                throw new IllegalArgumentException("unknown placeholder {" + m.group(1) + "} in '" + template
                        + "'; known: " + values.keySet());
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** {@code bash -c "exec CMD"}: the command's pid is the process's (so it can be stopped and traced). */
    static List<String> shell(String cmd) {
        return List.of("bash", "-c", "exec " + cmd);
    }

    /** {@code --server-cmd NAME='command with {port}'}. */
    static Server pluginServer(String name, String template) {
        fill(template, Map.of("port", "1")); // fail early on a bad placeholder
        return new Server() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public List<String> command(int port) {
                return shell(fill(template, Map.of("port", Integer.toString(port))));
            }
        };
    }

    /**
     * The placeholders of a plug-in client template: {host} {port} {kind} (pingpong, connect,
     * echo1) {conns} {size} {seconds} {warmup_s} {count} {warmup_n} {mode} (connect or echo1)
     * {start} (caller or loop).
     */
    static Map<String, String> placeholders(Figure f, String host, int port, RunParams p) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("host", host);
        m.put("port", Integer.toString(port));
        m.put("kind", f.kind.name().toLowerCase(Locale.ROOT));
        m.put("conns", Integer.toString(f.connections));
        m.put("size", Integer.toString(f.size));
        m.put("seconds", num(p.seconds));
        m.put("warmup_s", num(p.warmupSeconds));
        m.put("count", Integer.toString(p.count));
        m.put("warmup_n", Integer.toString(p.warmupCount));
        m.put("mode", f.kind == Figure.Kind.ECHO1 ? "echo1" : "connect");
        m.put("start", f.start);
        return m;
    }

    /**
     * A plug-in client: templates per kind ({@code pingpong}, {@code connect}, {@code echo1}) or one
     * for all ({@code *}). A kind without a template is not run; echo1 falls back to the connect
     * template if that one uses {@code {mode}}; a plug-in runs the caller-started
     * connect only (it cannot be told to start connects on a loop it does not have).
     */
    static Client pluginClient(String name, Map<String, String> templates) {
        for (String t : templates.values()) {
            fill(t, placeholders(Figure.ALL.get(0), "h", 1, new RunParams(1, 1, 1, 1)));
        }
        return new Client() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public List<String> command(Figure f, String host, int port, RunParams p) {
                if (f.start.equals("loop")) {
                    return null;
                }
                String kind = f.kind.name().toLowerCase(Locale.ROOT);
                String t = templates.get(kind);
                if (t == null && f.kind == Figure.Kind.ECHO1) {
                    String c = templates.get("connect");
                    if (c != null && c.contains("{mode}")) {
                        t = c; // a connect template that honours {mode}
                    }
                }
                if (t == null) {
                    t = templates.get("*");
                }
                return t == null ? null : shell(fill(t, placeholders(f, host, port, p)));
            }
        };
    }

    /** A number for a command line: no trailing ".0". */
    static String num(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e9) {
            return Long.toString((long) d);
        }
        return Double.toString(d);
    }
}
