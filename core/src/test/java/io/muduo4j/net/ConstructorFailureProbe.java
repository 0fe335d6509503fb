package io.muduo4j.net;

/**
 * Run by {@link ConstructorFailureTest} in a child JVM whose selectors cannot be opened: a failed
 * {@code new EventLoop()} must leave the thread without a loop, so the next attempt reports the
 * real cause again instead of "already owns".
 */
public final class ConstructorFailureProbe {
    private ConstructorFailureProbe() {
    }

    public static void main(String[] args) {
        for (int attempt = 1; attempt <= 2; attempt++) {
            try {
                new EventLoop().close();
                System.out.println("attempt " + attempt + ": created");
            } catch (RuntimeException e) {
                System.out.println("attempt " + attempt + ": " + e + " / cause " + e.getCause());
            }
            System.out.println("current after attempt " + attempt + ": " + EventLoop.current());
        }
    }
}
