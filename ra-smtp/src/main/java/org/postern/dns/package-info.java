/**
 * DNS for the resource adapter: which name servers are asked, and the dnsjava resolver
 * that asks them ({@link org.postern.dns.DnsServers}), defined once for its two users.
 * smtpd's DNS restrictions query through {@code org.postern.smtpd.policy.DnsLookup}
 * (asynchronous, on the event loop, with smtpd's answer cache); the SMTP client's MX and
 * address lookups through {@code org.postern.smtp.dns.DnsResolver} (blocking, on a
 * delivery thread, with dnsjava's cache). The query interfaces stay with their callers;
 * the server list, its one system property {@code postern.dns.servers} and the resolver
 * set-up live here, so the two can never disagree about where DNS answers come from.
 */
package org.postern.dns;
