/** Benchmarks, benchmark servers and clients, and the peer implementations they are compared with. */
package io.muduo4j.bench;
