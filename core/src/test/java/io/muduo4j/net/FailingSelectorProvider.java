package io.muduo4j.net;

import java.io.IOException;
import java.net.ProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;

/**
 * A selector provider whose {@code openSelector()} always fails, as it does when the process runs
 * out of file descriptors. Installed in a child JVM with
 * {@code -Djava.nio.channels.spi.SelectorProvider} by {@link ConstructorFailureTest}.
 */
public final class FailingSelectorProvider extends SelectorProvider {
    @Override
    public AbstractSelector openSelector() throws IOException {
        throw new IOException("Too many open files (simulated)");
    }

    @Override
    public DatagramChannel openDatagramChannel() {
        throw new UnsupportedOperationException();
    }

    @Override
    public DatagramChannel openDatagramChannel(ProtocolFamily family) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Pipe openPipe() {
        throw new UnsupportedOperationException();
    }

    @Override
    public ServerSocketChannel openServerSocketChannel() {
        throw new UnsupportedOperationException();
    }

    @Override
    public SocketChannel openSocketChannel() {
        throw new UnsupportedOperationException();
    }
}
