package io.muduo4j.net;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The child process of {@link AcceptorEmfileTest}: an echo {@link TcpServer} (one I/O thread; its
 * loops in the wait mode {@code args[0]}, blocking by default) meant to run under a low
 * {@code ulimit -n}. Prints {@code PORT <port>} when it accepts connections,
 * then answers each {@code stats} line on stdin with {@code STATS refused=<n> connections=<n>
 * acceptCalls=<n> readEvents=<n> pauses=<n> logLines=<n> iterations=<n> cpuNanos=<n> fds=<n>} (the
 * acceptor's counters, the server's connections, the base loop's iterations, the process's CPU
 * time and descriptors); exits on {@code quit} or when stdin closes (so it never outlives its
 * parent).
 *
 * <p>Everything the server may need once descriptors are exhausted is loaded before {@code PORT}
 * is printed: the library's classes (loading a class from a directory on the class path opens a
 * file), the logging configuration and the printing of a warning with a stack trace, the
 * management library, and one echo through the server.
 */
public final class EmfileEchoServerMain {
    private EmfileEchoServerMain() {
    }

    public static void main(String[] args) throws Exception {
        preloadLibraryClasses();
        // A record printed with a stack trace loads the console handler's formatting path (which
        // may need descriptors of its own) while there are still some: the acceptor logs once
        // descriptors ran out.
        System.getLogger(EmfileEchoServerMain.class.getName()).log(System.Logger.Level.WARNING,
                "emfile child: logging warmed up", new java.io.IOException("not a failure: warm-up"));
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        os.getProcessCpuTime();

        EventLoop.WaitMode mode = args.length > 0 ? EventLoop.WaitMode.valueOf(args[0]) : EventLoop.WaitMode.BLOCKING;
        EventLoopThread base = new EventLoopThread("emfile-base", TcpTestSupport.options(mode), null);
        EventLoop loop = base.startLoop();
        TcpServer server = new TcpServer(loop, new InetSocketAddress("127.0.0.1", 0), "emfile");
        server.setThreadNum(1);
        server.setLoopOptions(TcpTestSupport.options(mode));
        server.setMessageCallback((c, b, t) -> c.send(b));
        server.start();
        Field f = TcpServer.class.getDeclaredField("acceptor");
        f.setAccessible(true);
        Acceptor acceptor = (Acceptor) f.get(server);
        InetSocketAddress addr = server.listenAddress();
        selfTest(addr);

        long[] stats = new long[7];
        Runnable readStats = () -> {
            stats[0] = acceptor.refusedCount();
            stats[1] = server.connectionCount();
            stats[2] = acceptor.acceptCalls();
            stats[3] = acceptor.readEvents();
            stats[4] = acceptor.pauseCount();
            stats[5] = acceptor.logLines();
            stats[6] = loop.iterations();
        };
        System.out.println("PORT " + addr.getPort());
        System.out.flush();

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("stats")) {
                CountDownLatch read = new CountDownLatch(1);
                loop.runInLoop(() -> {
                    readStats.run();
                    read.countDown();
                });
                if (!read.await(10, TimeUnit.SECONDS)) {
                    System.out.println("STATS loop-unresponsive");
                } else {
                    System.out.println("STATS refused=" + stats[0] + " connections=" + stats[1]
                            + " acceptCalls=" + stats[2] + " readEvents=" + stats[3] + " pauses=" + stats[4]
                            + " logLines=" + stats[5] + " iterations=" + stats[6]
                            + " cpuNanos=" + os.getProcessCpuTime() + " fds=" + openFds());
                }
                System.out.flush();
            } else if (line.equals("quit")) {
                break;
            }
        }
        server.stop().get(10, TimeUnit.SECONDS);
        base.close();
        System.exit(0);
    }

    /** Open descriptors, or -1 when even listing them needs one too many. */
    private static int openFds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    /** One connection and one echo through the server, so the whole connection path is loaded. */
    private static void selfTest(InetSocketAddress addr) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(addr, 5000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(42);
            out.flush();
            if (in.read() != 42) {
                throw new IOException("self test echo failed");
            }
        }
    }

    private static void preloadLibraryClasses() throws IOException, ClassNotFoundException {
        String pkg = EventLoop.class.getPackageName();
        String dirName = pkg.replace('.', File.separatorChar);
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path dir = Path.of(entry, dirName);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    String file = p.getFileName().toString();
                    if (file.endsWith(".class")) {
                        try {
                            Class.forName(pkg + "." + file.substring(0, file.length() - 6), false,
                                    EmfileEchoServerMain.class.getClassLoader());
                        } catch (LinkageError e) {
                            // a test class whose dependencies (JUnit) are not on this class path
                        }
                    }
                }
            }
        }
    }
}
