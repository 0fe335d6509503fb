package io.muduo4j.net;

/**
 * Called on the client's loop when a connect attempt fails: the cause, the attempt number (from 1)
 * and the delay before the next attempt in milliseconds, or -1 when no further attempt will be made
 * (a fatal error, the attempt limit, or the client was stopped). The retry is scheduled after the
 * callback returns, so the delay counts from then, and stopping the client from the callback leaves
 * no retry pending. A callback that throws is reported through the loop's error reporting (its
 * {@link EventLoop.ErrorHandler}, and the log); the retry is scheduled all the same.
 */
@FunctionalInterface
public interface ConnectFailedCallback {
    /**
     * One failed connect attempt.
     *
     * @param cause why the attempt failed
     * @param attempt the attempt number, from 1
     * @param nextDelayMs milliseconds before the next attempt, or -1 when there is none
     */
    void onConnectFailed(Throwable cause, int attempt, long nextDelayMs);
}
