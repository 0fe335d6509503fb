package io.muduo4j.net;

/**
 * Fails fast, with the fix in the message, when the JVM lacks the flag Agrona 2.x needs, instead
 * of an {@link IllegalAccessError} deep inside a queue.
 */
final class AgronaAccess {
    static final String FLAG = "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED";

    private AgronaAccess() {
    }

    static void check() {
        Module base = Object.class.getModule();
        Module agrona = org.agrona.concurrent.ManyToOneConcurrentArrayQueue.class.getModule();
        if (!base.isOpen("jdk.internal.misc", agrona)) {
            throw new IllegalStateException("muduo4j needs the JVM option '" + FLAG
                    + "' (Agrona 2.x uses jdk.internal.misc.Unsafe); add it to the java command line,"
                    + " or 'Add-Opens: java.base/jdk.internal.misc' to the manifest of an executable jar");
        }
    }
}
