package io.muduo4j.net;

/**
 * How a loop reports what its tasks, timers and callbacks throw, and which errors end it (the
 * "Errors" section of the {@link EventLoop} class comment).
 *
 * <p>Threading: {@link #report} on the loop thread (the handler is promised that);
 * {@link #rethrowIfFatal} anywhere.
 */
final class LoopErrors {
    // The loop's own logger name: reports read as the loop's, as they did before this class.
    private static final System.Logger LOG = System.getLogger(EventLoop.class.getName());

    private final EventLoop loop;
    private final EventLoop.ErrorHandler handler;

    /**
     * @param loop    the loop reported on (named in the log, passed to the handler)
     * @param handler also told of every error, or null
     */
    LoopErrors(EventLoop loop, EventLoop.ErrorHandler handler) {
        this.loop = loop;
        this.handler = handler;
    }

    /** Logs {@code t} and passes it to the handler, if any; never throws but a fatal error. */
    void report(Throwable t) {
        try {
            LOG.log(System.Logger.Level.WARNING, "event loop " + loop.name() + ": uncaught error", t);
        } catch (Throwable logFailure) {
            // Logging itself can fail (out of descriptors, the formatter cannot load its time
            // zone data): the handler is still told, and the loop must not die of its report.
            rethrowIfFatal(logFailure);
        }
        EventLoop.ErrorHandler h = handler;
        if (h != null) {
            try {
                h.onError(loop, t);
            } catch (Throwable t2) {
                rethrowIfFatal(t2);
                try {
                    LOG.log(System.Logger.Level.WARNING, "event loop " + loop.name() + ": error handler threw", t2);
                } catch (Throwable logFailure) {
                    rethrowIfFatal(logFailure);
                }
            }
        }
    }

    /**
     * The rule for which errors end a loop: a {@link VirtualMachineError} other than
     * {@link OutOfMemoryError} and {@link StackOverflowError} ({@link InternalError},
     * {@link UnknownError}: the JVM itself is then suspect). Running out of memory or stack is
     * the failure of one piece of work (a connection whose buffer could not grow is closed with the
     * error as its cause), so it is reported and the loop runs on.
     */
    static void rethrowIfFatal(Throwable t) {
        if (t instanceof VirtualMachineError && !(t instanceof StackOverflowError) && !(t instanceof OutOfMemoryError)) {
            throw (VirtualMachineError) t;
        }
    }

    /** Logs, at ERROR, that a fatal error ended the loop; the caller rethrows it. */
    void fatal(VirtualMachineError e) {
        LOG.log(System.Logger.Level.ERROR, "event loop " + loop.name() + " ended by a fatal error", e);
    }
}
