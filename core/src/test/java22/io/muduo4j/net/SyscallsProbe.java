package io.muduo4j.net;

/**
 * Run by {@link SyscallsTest} in a JVM without {@code --enable-native-access}: {@link Syscalls}
 * must load, say why it is unavailable, and refuse calls with that reason.
 */
final class SyscallsProbe {
    private SyscallsProbe() {
    }

    public static void main(String[] args) {
        System.out.println("available=" + Syscalls.AVAILABLE);
        System.out.println("reason=" + Syscalls.unavailableReason());
        try {
            int fd = Syscalls.socketStream(Syscalls.AF_INET);
            System.out.println("call=returned " + fd);
        } catch (IllegalStateException e) {
            System.out.println("call=IllegalStateException: " + e.getMessage());
        }
    }
}
