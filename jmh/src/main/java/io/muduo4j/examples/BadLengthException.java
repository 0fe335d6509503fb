package io.muduo4j.examples;

import java.io.IOException;

/** A length header outside {@code 0..max}: the stream is corrupt or hostile, and the connection is closed. */
public final class BadLengthException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The length the header announced. */
    private final int length;
    /** The largest length allowed. */
    private final int max;

    /**
     * @param length the length the header announced
     * @param max the largest length allowed
     */
    public BadLengthException(int length, int max) {
        super("bad length " + length + " in a length header (allowed 0.." + max + "); closing the connection");
        this.length = length;
        this.max = max;
    }

    /** @return the length the header announced */
    public int length() {
        return length;
    }

    /** @return the largest length allowed */
    public int max() {
        return max;
    }
}
