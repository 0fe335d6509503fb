package io.muduo4j.bench;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Pieces shared by {@link HostileCheck}'s scenarios, all plain JDK: the seeded byte streams and their
 * verifier, the well-behaved "good client", a scope that closes every socket of a scenario at its
 * deadline, and readers of {@code /proc/PID}.
 */
final class HostileKit {
    private HostileKit() {
    }

    static final int MiB = 1 << 20;

    // ------------------------------------------------------------------ seeded streams

    /**
     * Deterministic pseudo-random byte streams without generating them: one 1 MiB random table
     * (seeded), and stream {@code s} is a sequence of 64 KiB blocks, block {@code k} being the table
     * from a hashed offset of {@code (seed, s, k)}. A writer sends straight from the table, a reader
     * compares against it, so a dropped, duplicated, reordered or foreign byte shows as a mismatch
     * at its stream offset.
     */
    static final class Pattern {
        static final int BLOCK = 64 * 1024;
        private static final int TABLE = MiB;
        final byte[] table = new byte[TABLE + BLOCK];
        private final ByteBuffer direct;
        private final long seed;

        Pattern(long seed) {
            this.seed = seed;
            new SplittableRandom(seed).nextBytes(table);
            ByteBuffer d = ByteBuffer.allocateDirect(table.length);
            d.put(table).flip();
            direct = d.asReadOnlyBuffer();
        }

        private static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return z ^ (z >>> 31);
        }

        /** Table offset of block {@code k} of stream {@code s}. */
        int blockOffset(long s, long k) {
            return (int) (mix(mix(seed + 0x9E3779B97F4A7C15L * (s + 1)) + k) & (TABLE - 1));
        }

        /** Writes bytes [from, from+len) of stream {@code s}. */
        void write(OutputStream out, long s, long from, long len) throws IOException {
            long p = from;
            long end = from + len;
            while (p < end) {
                int r = (int) (p % BLOCK);
                int n = (int) Math.min(BLOCK - r, end - p);
                out.write(table, blockOffset(s, p / BLOCK) + r, n);
                p += n;
            }
        }

        /** A direct read-only buffer over bytes [pos, pos+n) of stream {@code s}, n cut at the block end. */
        ByteBuffer slice(long s, long pos, long maxLen) {
            int r = (int) (pos % BLOCK);
            int n = (int) Math.min(BLOCK - r, maxLen);
            int off = blockOffset(s, pos / BLOCK) + r;
            ByteBuffer b = direct.duplicate();
            b.limit(off + n).position(off);
            return b;
        }

        /** Bytes [pos, pos+len) of stream {@code s} as an array (small messages). */
        byte[] bytes(long s, long pos, int len) {
            byte[] out = new byte[len];
            int i = 0;
            while (i < len) {
                long p = pos + i;
                int r = (int) (p % BLOCK);
                int n = Math.min(BLOCK - r, len - i);
                System.arraycopy(table, blockOffset(s, p / BLOCK) + r, out, i, n);
                i += n;
            }
            return out;
        }
    }

    /** Checks received bytes against stream {@code s} from offset 0; remembers the first mismatch. */
    static final class Verifier {
        private final Pattern pattern;
        private final long stream;
        long received;
        long mismatchAt = -1;

        Verifier(Pattern pattern, long stream) {
            this.pattern = pattern;
            this.stream = stream;
        }

        void accept(byte[] buf, int off, int len) {
            int i = 0;
            while (i < len) {
                long p = received + i;
                int r = (int) (p % Pattern.BLOCK);
                int n = Math.min(Pattern.BLOCK - r, len - i);
                if (mismatchAt < 0) {
                    int t = pattern.blockOffset(stream, p / Pattern.BLOCK) + r;
                    int m = Arrays.mismatch(buf, off + i, off + i + n, pattern.table, t, t + n);
                    if (m >= 0) {
                        mismatchAt = p + m;
                    }
                }
                i += n;
            }
            received += len;
        }

        boolean ok() {
            return mismatchAt < 0;
        }
    }

    // ------------------------------------------------------------------ scope and threads

    /**
     * The sockets and threads of one scenario. At the deadline (or on close) every registered
     * socket is closed, which unblocks any thread reading or writing it; close also joins the
     * threads for a moment, so nothing of a scenario outlives it.
     */
    static final class Scope implements AutoCloseable {
        private final List<Closeable> closeables = new ArrayList<>();
        private final List<Thread> threads = new ArrayList<>();
        private final long deadlineNanos;
        private final Thread watchdog;
        private volatile boolean expired;
        private boolean closed;

        Scope(long timeoutMillis) {
            deadlineNanos = System.nanoTime() + timeoutMillis * 1_000_000L;
            watchdog = new Thread(() -> {
                try {
                    Thread.sleep(timeoutMillis);
                    expired = true;
                    closeResources();
                } catch (InterruptedException e) {
                    // closed before the deadline
                }
            }, "hostile-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }

        boolean expired() {
            return expired;
        }

        long remainingMillis() {
            return Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000L);
        }

        synchronized <T extends Closeable> T add(T c) {
            if (closed) {
                closeQuietly(c);
                throw new IllegalStateException("scenario scope closed");
            }
            closeables.add(c);
            return c;
        }

        /** A connected blocking socket with a read timeout; registered. */
        Socket connect(InetSocketAddress server, int readTimeoutMillis) throws IOException {
            Socket s = add(new Socket());
            s.setTcpNoDelay(true);
            s.connect(server, 5_000);
            s.setSoTimeout(readTimeoutMillis);
            return s;
        }

        Thread start(String name, Runnable r) {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            synchronized (this) {
                threads.add(t);
            }
            t.start();
            return t;
        }

        /** Joins a thread until the scope's deadline. */
        void join(Thread t) throws InterruptedException {
            long ms = remainingMillis();
            t.join(Math.max(1, ms));
        }

        private void closeResources() {
            List<Closeable> copy;
            synchronized (this) {
                copy = new ArrayList<>(closeables);
            }
            for (Closeable c : copy) {
                closeQuietly(c);
            }
        }

        @Override
        public void close() {
            synchronized (this) {
                closed = true;
            }
            watchdog.interrupt();
            closeResources();
            List<Thread> ts;
            synchronized (this) {
                ts = new ArrayList<>(threads);
            }
            long until = System.nanoTime() + 5_000_000_000L;
            for (Thread t : ts) {
                try {
                    t.join(Math.max(1, (until - System.nanoTime()) / 1_000_000L));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    static void closeQuietly(Closeable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Closes with SO_LINGER 0, so the peer gets a RST. */
    static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // closing anyway
        }
        closeQuietly(s);
    }

    /** How a read ended, for the reports: EOF, RST, timeout or the exception. */
    static String ending(Throwable t) {
        if (t instanceof SocketTimeoutException) {
            return "timeout";
        }
        String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
        if (m.contains("reset")) {
            return "RST";
        }
        if (m.contains("broken pipe")) {
            return "EPIPE";
        }
        if (m.contains("socket closed") || m.contains("closed by")) {
            return "closed-by-checker";
        }
        if (m.contains("refused")) {
            return "refused";
        }
        return t.getClass().getSimpleName() + ":" + t.getMessage();
    }

    /**
     * Sends {@code len} bytes of stream {@code s} from {@code pos} and reads the same number back,
     * verifying them. Returns null on success, else what went wrong.
     */
    static String echoOnce(Socket so, Pattern pattern, long s, long pos, int len) {
        try {
            OutputStream out = so.getOutputStream();
            InputStream in = so.getInputStream();
            byte[] expect = pattern.bytes(s, pos, len);
            out.write(expect);
            byte[] got = new byte[len];
            int n = 0;
            while (n < len) {
                int r = in.read(got, n, len - n);
                if (r < 0) {
                    return "EOF after " + n + "/" + len;
                }
                n += r;
            }
            int m = Arrays.mismatch(expect, got);
            return m < 0 ? null : "mismatch at byte " + m;
        } catch (IOException e) {
            return ending(e);
        }
    }

    // ------------------------------------------------------------------ the good client

    /**
     * A well-behaved client: echo round trips of {@code size} bytes on one connection, a pause
     * between them, content verified. A round trip longer than the bound (or a read timeout at the
     * bound) is a stall, and the client stops there.
     */
    static final class Pinger implements Runnable {
        private final Socket socket;
        private final Pattern pattern;
        private final long stream;
        private final int size;
        private final long pauseMillis;
        private final long boundNanos;
        private final long[] rtts = new long[1 << 20];
        private volatile boolean stop;
        private volatile String error;
        private volatile int rounds;
        private volatile long maxRttNanos;

        Pinger(Scope scope, InetSocketAddress server, Pattern pattern, long stream, int size, long pauseMillis,
               long boundMillis) throws IOException {
            this.socket = scope.connect(server, (int) boundMillis);
            this.pattern = pattern;
            this.stream = stream;
            this.size = size;
            this.pauseMillis = pauseMillis;
            this.boundNanos = boundMillis * 1_000_000L;
        }

        @Override
        public void run() {
            long pos = 0;
            while (!stop) {
                long t0 = System.nanoTime();
                String e = echoOnce(socket, pattern, stream, pos, size);
                long rtt = System.nanoTime() - t0;
                if (e != null) {
                    if (!stop) {
                        error = e.equals("timeout") ? "stall(no echo within " + boundNanos / 1_000_000 + " ms)" : e;
                    }
                    return;
                }
                int r = rounds;
                if (r < rtts.length) {
                    rtts[r] = rtt;
                }
                if (rtt > maxRttNanos) {
                    maxRttNanos = rtt;
                }
                rounds = r + 1;
                pos += size;
                if (rtt > boundNanos) {
                    error = String.format(Locale.ROOT, "stall(round trip %.0f ms)", rtt / 1e6);
                    return;
                }
                if (pauseMillis > 0) {
                    try {
                        Thread.sleep(pauseMillis);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }

        void stop() {
            stop = true;
        }

        int rounds() {
            return rounds;
        }

        String error() {
            return error;
        }

        boolean ok() {
            return error == null;
        }

        double maxRttMillis() {
            return maxRttNanos / 1e6;
        }

        double p99Millis() {
            int n = Math.min(rounds, rtts.length);
            if (n == 0) {
                return 0;
            }
            long[] c = Arrays.copyOf(rtts, n);
            Arrays.sort(c);
            return c[Math.min(n - 1, (int) Math.ceil(n * 0.99) - 1)] / 1e6;
        }

        String summary() {
            return String.format(Locale.ROOT, "good_rounds=%d good_rtt_p99=%.2fms good_rtt_max=%.2fms good=%s",
                    rounds, p99Millis(), maxRttMillis(), error == null ? "ok" : error.replace(' ', '_'));
        }

        Socket socket() {
            return socket;
        }
    }

    // ------------------------------------------------------------------ /proc

    static final class Proc {
        private final long pid;

        Proc(long pid) {
            this.pid = pid;
        }

        boolean alive() {
            return Files.exists(Path.of("/proc", Long.toString(pid), "status"));
        }

        int fdCount() throws IOException {
            int n = 0;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
                for (Path ignored : ds) {
                    n++;
                }
            }
            return n;
        }

        /** VmRSS in KiB. */
        long rssKib() throws IOException {
            return statusField("VmRSS:");
        }

        int threads() throws IOException {
            return (int) statusField("Threads:");
        }

        private long statusField(String name) throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"),
                    StandardCharsets.ISO_8859_1)) {
                if (line.startsWith(name)) {
                    String v = line.substring(name.length()).trim();
                    int sp = v.indexOf(' ');
                    return Long.parseLong(sp < 0 ? v : v.substring(0, sp));
                }
            }
            throw new IOException(name + " not in /proc/" + pid + "/status");
        }

        /** utime + stime in clock ticks. */
        long cpuTicks() throws IOException {
            String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
            String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
            // f[0] is field 3 (state); utime is field 14, stime field 15
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }

        /** Soft limit on open files, or -1 for unlimited. */
        long fdLimit() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "limits"),
                    StandardCharsets.ISO_8859_1)) {
                if (line.startsWith("Max open files")) {
                    String v = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return v.equals("unlimited") ? -1 : Long.parseLong(v);
                }
            }
            throw new IOException("no 'Max open files' in /proc/" + pid + "/limits");
        }

        /**
         * Polls the descriptor count every 100 ms until it has not changed for {@code stableMillis},
         * or the deadline passes; returns the last value.
         */
        int settledFdCount(long stableMillis, long deadlineMillis) throws IOException, InterruptedException {
            long end = System.nanoTime() + deadlineMillis * 1_000_000L;
            int last = fdCount();
            long since = System.nanoTime();
            while (System.nanoTime() < end) {
                Thread.sleep(100);
                int n = fdCount();
                if (n != last) {
                    last = n;
                    since = System.nanoTime();
                } else if (System.nanoTime() - since >= stableMillis * 1_000_000L) {
                    break;
                }
            }
            return last;
        }
    }

    /** Reports SocketException / SocketTimeoutException distinctly in messages. */
    static boolean isTimeout(Throwable t) {
        return t instanceof SocketTimeoutException;
    }

    static boolean isReset(Throwable t) {
        return t instanceof SocketException && String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT).contains("reset");
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1fMiB", bytes / (double) MiB);
    }

    static String secs(long nanos) {
        return String.format(Locale.ROOT, "%.2fs", nanos / 1e9);
    }
}
