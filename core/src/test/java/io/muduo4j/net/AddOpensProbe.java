package io.muduo4j.net;

/**
 * Run by {@link AddOpensFailFastTest} in a child JVM: creates (and closes) an event loop, twice,
 * printing "created" for each success and "failed: " plus the error chain for each failure. Without
 * {@code --add-opens java.base/jdk.internal.misc=ALL-UNNAMED} both attempts must fail with a
 * message naming that flag (the second one too, not just a bare "Could not initialize class").
 */
public final class AddOpensProbe {
    private AddOpensProbe() {
    }

    public static void main(String[] args) {
        int failures = 0;
        for (int attempt = 1; attempt <= 2; attempt++) {
            try {
                EventLoop loop = new EventLoop();
                loop.close();
                System.out.println("attempt " + attempt + ": created");
            } catch (Throwable e) {
                failures++;
                StringBuilder chain = new StringBuilder();
                for (Throwable c = e; c != null; c = c.getCause()) {
                    chain.append(" <- ").append(c);
                }
                System.out.println("attempt " + attempt + ": failed:" + chain);
            }
        }
        System.exit(failures);
    }
}
