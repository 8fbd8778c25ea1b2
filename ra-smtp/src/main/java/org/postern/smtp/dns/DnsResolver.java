package org.postern.smtp.dns;

import java.net.InetAddress;
import java.util.List;

/**
 * DnsResolver - the DNS lookups of the SMTP client, behind an interface so that tests can
 * answer them without a name server.
 */
public interface DnsResolver {

    /**
     * lookupMx - the MX records of {@code domain}, in the order the server gave them; an
     * empty list when the name exists but has no MX record.
     *
     * @throws DnsLookupException NOT_FOUND for NXDOMAIN, TEMPORARY for SERVFAIL, timeouts etc.
     */
    List<MxRecord> lookupMx(String domain) throws DnsLookupException;

    /**
     * lookupAddresses - the A then AAAA addresses of {@code host}; an empty list when the
     * name exists without address records.
     */
    List<InetAddress> lookupAddresses(String host) throws DnsLookupException;

    /**
     * lookupTxt - the TXT records of {@code name} (MTA-STS discovery), each record's strings
     * joined into one; an empty list when the name has none. The default knows no TXT records.
     *
     * @throws DnsLookupException NOT_FOUND for NXDOMAIN, TEMPORARY for SERVFAIL, timeouts etc.
     */
    default List<String> lookupTxt(String name) throws DnsLookupException {
        return List.of();
    }
}
