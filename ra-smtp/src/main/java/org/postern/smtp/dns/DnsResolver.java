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
     * lookupSecure - one query with the DNSSEC OK and AD bits (smtp_dns_support_level =
     * dnssec): the records of {@code type} for {@code name} and whether the resolver
     * validated them. No validation is done here: the resolver is trusted, as Postfix
     * trusts its own. Resolvers that cannot ask so (test doubles) fail TEMPORARY.
     *
     * @throws DnsLookupException TEMPORARY for SERVFAIL (a bogus answer of a validating
     *                            resolver), timeouts and the like
     */
    default SecureAnswer lookupSecure(String name, int type) throws DnsLookupException {
        throw new DnsLookupException(DnsLookupException.Kind.TEMPORARY, "no DNSSEC-aware resolver");
    }

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
