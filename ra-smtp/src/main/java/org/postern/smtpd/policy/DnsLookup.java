package org.postern.smtpd.policy;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * DnsLookup - the DNS queries of the policy engine, asynchronous so that no event loop
 * ever waits for a name server.
 *
 * <p>Implementations complete the future on any thread; they never complete it
 * exceptionally (a failure is {@link Status#TEMP_FAIL}).
 */
public interface DnsLookup {

    /** Status - the outcome of one query. */
    enum Status {
        /** Records of the type exist; see {@link Answer#values}. */
        FOUND,
        /** NXDOMAIN, or the name exists without records of the type. */
        NOT_FOUND,
        /** SERVFAIL, timeout, or no name server reachable. */
        TEMP_FAIL
    }

    /**
     * Answer - the records of one query, as text: addresses for A and AAAA, host names
     * without the final dot for MX ("" for a null MX "."), PTR names, TXT strings.
     */
    record Answer(Status status, List<String> values) {
        public Answer {
            values = List.copyOf(values);
        }

        static final Answer TEMP_FAIL = new Answer(Status.TEMP_FAIL, List.of());
    }

    /** Type - the record types the restrictions need. */
    enum Type { A, AAAA, MX, PTR, TXT }

    /** lookup - query name (a host name, or for PTR an IP address) for records of type. */
    CompletableFuture<Answer> lookup(String name, Type type);

    /** NONE - for configurations without DNS restrictions: every query is a temporary failure. */
    DnsLookup NONE = (name, type) -> CompletableFuture.completedFuture(Answer.TEMP_FAIL);
}
