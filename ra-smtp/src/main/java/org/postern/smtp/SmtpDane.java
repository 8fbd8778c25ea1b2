package org.postern.smtp;

import java.net.Inet6Address;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.smtp.dns.DnsLookupException;
import org.postern.smtp.dns.DnsResolver;
import org.postern.smtp.dns.SecureAnswer;
import org.xbill.DNS.Record;
import org.xbill.DNS.TLSARecord;
import org.xbill.DNS.Type;

/**
 * SmtpDane - DANE for SMTP (RFC 7672) at the dane and dane-only TLS security levels: the
 * effective policy of one server from DNSSEC-validated DNS, and the match of its certificate
 * chain against its TLSA records, as Postfix's smtp(8) does it.
 *
 * <h2>DESCRIPTION</h2>
 * DANE needs smtp_dns_support_level = dnssec (and DNS in smtp_host_lookup, and, for SMTP,
 * ignore_mx_lookup_error = no). Without it, dane is may (with a warning) and dane-only is a
 * configuration problem: the mail is deferred with 4.7.0 "client TLS configuration problem".
 * No DNSSEC validation is done here: the resolver's AD bit is trusted, as Postfix trusts its
 * validating resolver.
 * <p>
 * For each server the policy is made from three lookups, each with the AD bit: the MX
 * RRset of the next-hop domain (an MX destination only), the server's address RRset, and
 * the TLSA RRset at {@code _port._tcp.host}:
 * <ul>
 * <li>an insecure MX RRset: dane-only defers ("non DNSSEC destination"); dane follows
 * smtp_tls_dane_insecure_mx_policy: may, encrypt, or dane (the TLSA records are used, a
 * match is logged as Trusted, not Verified);
 * <li>an insecure address RRset, or no secure TLSA records: dane is may, dane-only defers
 * ("no TLSA records found");
 * <li>secure TLSA records of which none is usable: dane is encrypt, dane-only defers ("TLSA
 * records unusable");
 * <li>a TLSA lookup that fails (SERVFAIL, which is also a bogus answer, or a time-out): the
 * mail is deferred for this server with 4.7.5 "TLSA lookup error for host:port" and the next
 * one is tried.
 * </ul>
 * Usable records are of usage DANE-TA(2) or DANE-EE(3), selector Cert(0) or SPKI(1), matching
 * type Full(0), SHA2-256(1) or SHA2-512(2). Usages PKIX-TA(0) and PKIX-EE(1) are unusable for
 * SMTP (RFC 7672 section 3.1.3). With usable records TLS is mandatory (mandatory protocols and
 * cipher exclusions) and the chain must match: DANE-EE the server certificate or its public
 * key, without name or expiry checks (RFC 7672 section 3.1.1); DANE-TA a certificate the server
 * sends above its own, which then anchors the chain below it (signatures and validity are
 * checked), and the server certificate must name the TLSA base domain, the MX host name
 * (section 3.2.2). A chain that matches nothing is "Untrusted" ("Server certificate not
 * trusted"), a DANE-TA chain without the name "Trusted" ("Server certificate not verified");
 * either defers the mail for this server, never sends it in the clear.
 *
 * <h2>DIAGNOSTICS</h2>
 * PSTN3121 (warning): a dane level configured without DNSSEC lookups, or for a unix-domain
 * socket. PSTN3122 (warning): a TLSA or DNSSEC status lookup failed. PSTN3123 (warning): an
 * unusable TLSA record. PSTN3124 (fine): the DANE outcome of a server, fall-back or match.
 *
 * <h2>BUGS</h2>
 * A CNAME is not followed to its target for the TLSA base domain: the records are looked
 * up for the MX host name as found in the MX record. A DANE-TA key (selector 1) matches only
 * when the server sends the anchor's certificate in its chain. Postfix's fingerprint level and
 * smtp_tls_force_insecure_host_tlsa_lookup are not implemented.
 *
 * <h2>SEE ALSO</h2>
 * RFC 7672, RFC 7671, RFC 6698; postconf(5): smtp_tls_security_level, smtp_dns_support_level,
 * smtp_tls_dane_insecure_mx_policy.
 */
final class SmtpDane {

    private static final Logger LOG = Logger.getLogger("org.postern.smtp");

    /** Tlsa - one TLSA record: certificate usage, selector, matching type, data. */
    record Tlsa(int usage, int selector, int matchingType, byte[] data) {

        Tlsa {
            data = data.clone();
        }

        /** usable - DANE-TA or DANE-EE, a known selector, a known matching type of the right length. */
        boolean usable() {
            if ((usage != 2 && usage != 3) || (selector != 0 && selector != 1)) {
                return false;
            }
            return switch (matchingType) {
                case 0 -> data.length > 0;
                case 1 -> data.length == 32;
                case 2 -> data.length == 64;
                default -> false;
            };
        }

        /** matches - this record's data for a certificate (selector and matching type applied). */
        boolean matches(X509Certificate cert) {
            byte[] selected;
            try {
                selected = selector == 0 ? cert.getEncoded() : cert.getPublicKey().getEncoded();
                if (matchingType != 0) {
                    selected = MessageDigest.getInstance(matchingType == 1 ? "SHA-256" : "SHA-512").digest(selected);
                }
            } catch (GeneralSecurityException e) {
                return false;
            }
            return MessageDigest.isEqual(selected, data);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tlsa t && t.usage == usage && t.selector == selector
                    && t.matchingType == matchingType && Arrays.equals(t.data, data);
        }

        @Override
        public int hashCode() {
            return 31 * (usage * 961 + selector * 31 + matchingType) + Arrays.hashCode(data);
        }

        /** toString - "u s m hex", as Postfix logs a record */
        @Override
        public String toString() {
            return usage + " " + selector + " " + matchingType + " " + HexFormat.of().formatHex(data);
        }
    }

    /**
     * Policy - the effective TLS policy of one server.
     *
     * @param tls      the policy to go on with: the dane level itself (usable records), or may or
     *                 encrypt; null when the mail is deferred for this server
     * @param tlsa     the usable TLSA records (dane level only)
     * @param names    the names a DANE-TA server certificate must carry
     * @param halfDane the MX RRset was insecure: a match is logged as Trusted
     * @param dsn      the deferral's status (tls null)
     * @param text     the deferral's reason (tls null)
     */
    record Policy(SmtpClientSettings.Tls tls, List<Tlsa> tlsa, List<String> names, boolean halfDane, String dsn,
                  String text) {

        static Policy of(SmtpClientSettings.Tls tls) {
            return new Policy(tls, List.of(), List.of(), false, null, null);
        }

        static Policy defer(String dsn, String text) {
            return new Policy(null, List.of(), List.of(), false, dsn, text);
        }

        /** authenticates - TLSA records must match (the dane levels with usable records). */
        boolean authenticates() {
            return tls != null && !tlsa.isEmpty();
        }
    }

    /* why dane_incompat: the administrator's configuration, the destination, or no authentication possible */
    private enum Incompat { CONFIG, DESTINATION, CANT_AUTHENTICATE }

    private SmtpDane() {
    }

    /**
     * policy - the effective policy of server {@code t} of next hop {@code hop} when
     * {@code tls} is dane or dane-only; {@code tls} itself at any other level.
     */
    static Policy policy(SmtpClientSettings.Tls tls, NextHop hop, SmtpTarget t, DnsResolver dns) {
        if (!tls.daneBased()) {
            return Policy.of(tls);
        }
        String dest = hop.host() == null ? t.hostName() : hop.host().replaceAll("^\\[|\\]$", "");
        if (t.unixPath() != null) {
            return incompat(tls, Incompat.CONFIG, dest + ": the \"" + tls.level()
                    + "\" security level is invalid for delivery via unix-domain sockets", t);
        }
        if (!tls.dane().available()) {
            return incompat(tls, Incompat.CONFIG, dest + ": " + tls.level() + " configured with "
                    + tls.dane().unavailable(), t);
        }
        String where = t.hostName() + ":" + t.port();
        try {
            boolean mxDestination = false;
            boolean mxSecure = false;
            if (hop.protocol() == NextHop.Protocol.SMTP && hop.mxLookup() && !t.fallback() && !literal(dest)) {
                SecureAnswer mx = dns.lookupSecure(dest, Type.MX);
                mxDestination = !mx.records().isEmpty();
                mxSecure = mx.authenticated();
            }
            String insecureMx = tls.dane().insecureMxPolicy();
            if (mxDestination && !mxSecure && (tls.level().equals("dane-only") || insecureMx.equals("may"))) {
                return incompat(tls, Incompat.DESTINATION, "non DNSSEC destination", t);
            }
            List<Tlsa> found = secureTlsa(dns, t);
            if (found.isEmpty()) {
                return incompat(tls, Incompat.DESTINATION, "no TLSA records found", t);
            }
            List<Tlsa> usable = new ArrayList<>();
            for (Tlsa r : found) {
                if (r.usable()) {
                    usable.add(r);
                } else {
                    LOG.warning("PSTN3123: " + t.namaddr() + ": unusable TLSA RR: " + r);
                }
            }
            if (usable.isEmpty()) {
                return incompat(tls, Incompat.CANT_AUTHENTICATE, "TLSA records unusable", t);
            }
            boolean half = mxDestination && !mxSecure;
            if (half && insecureMx.equals("encrypt")) {
                return incompat(tls, Incompat.CANT_AUTHENTICATE, "Verification not possible, MX RRset is insecure", t);
            }
            return new Policy(tls, List.copyOf(usable), List.of(t.hostName().toLowerCase(Locale.ROOT)), half, null,
                    null);
        } catch (DnsLookupException e) {
            LOG.warning("PSTN3122: DANE TLSA lookup problem: " + where + ": " + e.getMessage());
            return Policy.defer("4.7.5", "TLSA lookup error for " + where);
        }
    }

    /*
     * secureTlsa - the TLSA records of the server when its address RRset and the TLSA RRset
     * are both secure; empty otherwise (Postfix skips TLSA lookups for hosts in unsigned zones)
     */
    private static List<Tlsa> secureTlsa(DnsResolver dns, SmtpTarget t) throws DnsLookupException {
        if (t.address() == null || literal(t.hostName())) {
            return List.of();
        }
        SecureAnswer host = dns.lookupSecure(t.hostName(), t.address() instanceof Inet6Address ? Type.AAAA : Type.A);
        if (!host.authenticated() || host.records().isEmpty()) {
            return List.of();
        }
        SecureAnswer answer = dns.lookupSecure("_" + t.port() + "._tcp." + t.hostName(), Type.TLSA);
        if (!answer.authenticated()) {
            return List.of();
        }
        List<Tlsa> out = new ArrayList<>();
        for (Record r : answer.records()) {
            if (r instanceof TLSARecord x) {
                out.add(new Tlsa(x.getCertificateUsage(), x.getSelector(), x.getMatchingType(),
                        x.getCertificateAssociationData()));
            }
        }
        return out;
    }

    /* incompat - Postfix's dane_incompat: what dane falls back to, or why dane-only defers */
    private static Policy incompat(SmtpClientSettings.Tls tls, Incompat why, String text, SmtpTarget t) {
        if (tls.level().equals("dane")) {
            if (why == Incompat.CONFIG) {
                LOG.warning("PSTN3121: " + text);
            } else {
                LOG.log(Level.FINE, "PSTN3124: {0}: {1}", new Object[] {t.namaddr(), text});
            }
            return Policy.of(tls.withLevel(why == Incompat.CANT_AUTHENTICATE ? "encrypt" : "may"));
        }
        if (why == Incompat.CONFIG) {
            LOG.warning("PSTN3121: " + text);
            return Policy.defer("4.7.0", "client TLS configuration problem");
        }
        LOG.log(Level.FINE, "PSTN3124: {0}: {1}", new Object[] {t.namaddr(), text});
        return Policy.defer("4.7.5", text);
    }

    private static boolean literal(String host) {
        return host.indexOf(':') >= 0 || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

    /**
     * verify - how far a server chain is authenticated by the usable TLSA records: "Verified"
     * (a DANE-EE match, or a DANE-TA anchor with the name), "Trusted" (a DANE-TA anchor
     * without the name), "Untrusted" (no match). {@code t} names the server for the log.
     */
    static String verify(X509Certificate[] chain, Policy p, String server) {
        if (chain.length == 0) {
            return "Untrusted";
        }
        for (Tlsa r : p.tlsa()) {
            if (r.usage() == 3 && r.matches(chain[0])) {
                LOG.log(Level.FINE, "PSTN3124: {0}: Matched DANE EE certificate at depth 0: {1}",
                        new Object[] {server, r});
                return "Verified";
            }
        }
        for (int depth = 1; depth < chain.length; depth++) {
            for (Tlsa r : p.tlsa()) {
                if (r.usage() == 2 && r.matches(chain[depth]) && anchors(chain, depth)) {
                    LOG.log(Level.FINE, "PSTN3124: {0}: Matched DANE TA certificate at depth {1}: {2}",
                            new Object[] {server, depth, r});
                    return SmtpTls.matches(chain[0], p.names()) ? "Verified" : "Trusted";
                }
            }
        }
        return "Untrusted";
    }

    /* anchors - chain[depth] as trust anchor validates chain[0..depth-1] (signatures, validity, CA flags) */
    private static boolean anchors(X509Certificate[] chain, int depth) {
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(chain[depth], null)));
            params.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(
                    cf.generateCertPath(List.of(Arrays.copyOfRange(chain, 0, depth))), params);
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
