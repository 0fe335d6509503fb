/**
 * Runnable examples after muduo's {@code examples/}: the classic first servers (discard, daytime,
 * chargen), a length-header codec with a chat server and client, a relay with back-pressure both
 * ways, an idle-connection kicker on a timing wheel, and a connection limit. Each has a
 * {@code main} (run {@code --help}) and a test that runs it over loopback.
 */
package io.muduo4j.examples;
