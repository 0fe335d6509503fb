package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The range that decides whether a connect needs the self-connect check. */
class EphemeralPortsTest {
    @Test
    void theKernelsFormatIsParsedWithItsBoundsInclusive() {
        EphemeralPorts r = EphemeralPorts.parse("32768\t60999\n");
        assertEquals(32768, r.low());
        assertEquals(60999, r.high());
        assertTrue(r.contains(32768));
        assertTrue(r.contains(60999));
        assertFalse(r.contains(32767));
        assertFalse(r.contains(61000));
        assertFalse(r.contains(8080));
    }

    @Test
    void anythingElseCountsEveryPortAsEphemeral() {
        for (String bad : new String[] {"", "32768", "a b", "61000 32768", "0 70000", "1 2 3"}) {
            EphemeralPorts r = EphemeralPorts.parse(bad);
            assertTrue(r.contains(1) && r.contains(8080) && r.contains(65535), bad);
        }
    }

    @Test
    void aMissingFileCountsEveryPortAsEphemeral(@TempDir Path dir) {
        EphemeralPorts r = EphemeralPorts.read(dir.resolve("absent"));
        assertTrue(r.contains(80));
        assertTrue(r.contains(65535));
    }

    @Test
    void theFileIsReadAsTheKernelWritesIt(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("range");
        Files.write(f, "10000 20000\n".getBytes(StandardCharsets.US_ASCII));
        EphemeralPorts r = EphemeralPorts.read(f);
        assertTrue(r.contains(15000));
        assertFalse(r.contains(9999));
    }

    @Test
    void theConnectorChecksOnlyPortsOfTheSystemRange() {
        EphemeralPorts sys = EphemeralPorts.system();
        assertTrue(Connector.mayBeSelfConnected(new InetSocketAddress("127.0.0.1", sys.high())));
        if (sys.low() > 1) {
            assertFalse(Connector.mayBeSelfConnected(new InetSocketAddress("127.0.0.1", sys.low() - 1)));
        }
    }
}
