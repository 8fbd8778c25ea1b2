package org.postern.smtp.dns;

import java.util.List;

import org.xbill.DNS.Record;

/**
 * SecureAnswer - the answer to one DNSSEC-aware query, and whether the validating resolver
 * vouched for it (the AD bit of its reply, RFC 4035 section 3.2.3, as Postfix trusts it).
 *
 * @param records       the answer records of the asked type (CNAMEs left out); empty for
 *                      NODATA and NXDOMAIN
 * @param nxdomain      the name does not exist
 * @param authenticated the resolver validated the answer (secure); false: insecure
 */
public record SecureAnswer(List<Record> records, boolean nxdomain, boolean authenticated) {

    public SecureAnswer {
        records = List.copyOf(records);
    }
}
