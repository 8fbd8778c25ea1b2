package org.postern.smtp;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.postern.maillog.MailLogger;

import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientSettings;
import org.postern.smtp.dns.DnsResolver;
import org.postern.smtp.sts.MtaStsPolicies;
import org.postern.smtp.sts.MtaStsPolicy;

/**
 * SmtpMtaSts - how the SMTP client applies an MTA-STS policy (RFC 8461 sections 4 and 5)
 * to one delivery: the part of {@link SmtpClientSession} that knows about MTA-STS.
 *
 * <h2>DESCRIPTION</h2>
 * A policy is looked up ({@link MtaStsPolicies}) when the settings enable MTA-STS for the
 * next hop (smtp_mta_sts_enable, an MX-looked-up SMTP domain without an
 * smtp_tls_policy_maps entry, see {@link SmtpClientSettings.MtaSts}) and every recipient of
 * the delivery is in that domain: the policy domain is the recipient's domain (section 4).
 * <p>
 * Mode enforce: only matching MX hosts are tried ({@link SmtpTargetResolver}); with each of
 * them TLS is required at the verify level, whatever smtp_tls_security_level says, the
 * certificate checked against smtp_tls_CAfile/smtp_tls_CApath (the Java runtime's trust
 * store when both are empty) and matched with the MX host name, which must be a
 * subjectAltName dNSName (section 4.2). Anything else defers the mail with 4.7.5; it is
 * never sent in the clear. Mode testing: the mail goes as without a policy, and what
 * enforce mode would have refused is written to the mail log as "MTA-STS testing: ...".
 * Mode none, or no policy: nothing changes. smtp_fallback_relay hosts are not MX hosts of
 * the recipient domain: the policy does not apply to them.
 *
 * <h2>DIAGNOSTICS</h2>
 * PSTN3128 (warning, org.postern.smtp): a server was refused under a policy in enforce mode.
 */
final class SmtpMtaSts {

    private SmtpMtaSts() {
    }

    /** policy - the policy in enforce or testing mode that applies to this delivery, or null. */
    static MtaStsPolicy policy(NextHop hop, SmtpClientSettings settings, OutboundMessage message, DnsResolver dns) {
        if (!settings.mtaSts().enabled() || !hop.mxLookup() || hop.protocol() != NextHop.Protocol.SMTP
                || hop.host() == null) {
            return null;
        }
        String domain = domain(hop);
        for (OutboundMessage.OutboundRecipient r : message.recipients()) {
            String a = r.address();
            if (!a.substring(a.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT).replaceAll("\\.$", "").equals(domain)) {
                return null;   // mail routed through this domain for another one: not its policy domain
            }
        }
        return MtaStsPolicies.shared().lookup(domain, settings.mtaSts(), dns);
    }

    /** domain - the next hop's domain: the policy domain */
    static String domain(NextHop hop) {
        return hop.host().toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
    }

    /** testMx - mode testing: log the MX hosts that enforce mode would not try (section 4.1). */
    static void testMx(MailLogger maillog, MtaStsPolicy sts, NextHop hop, List<SmtpTarget> targets) {
        if (sts == null || !sts.testing()) {
            return;
        }
        Set<String> hosts = new LinkedHashSet<>();
        for (SmtpTarget t : targets) {
            if (!t.fallback() && t.unixPath() == null && !sts.mxMatches(t.hostName())) {
                hosts.add(t.hostName());
            }
        }
        for (String h : hosts) {
            maillog.info("MTA-STS testing: policy of " + domain(hop) + " (id " + sts.id() + "): MX host " + h
                    + " does not match the policy's mx patterns; enforce mode would not deliver to it");
        }
    }

    /** tls - mode enforce: the level becomes verify, matched with the MX host name (section 4.2). */
    static SmtpClientSettings.Tls tls(MtaStsPolicy sts, SmtpTarget t, SmtpClientSettings.Tls tls) {
        if (sts == null || !sts.enforce() || t.fallback()) {
            return tls;
        }
        return new SmtpClientSettings.Tls("verify", tls.caFile(), tls.caPath(), List.of("hostname"),
                tls.starttlsTimeout(), tls.options(), null);
    }

    /**
     * problem - section 4.2 after STARTTLS (est null: no TLS session): null when the session
     * satisfies the policy, or there is none; otherwise what is wrong.
     */
    static String problem(MtaStsPolicy sts, SmtpTarget t, SmtpTls.Established est, boolean starttlsOffered,
                          SmtpClientSettings.Tls tls) {
        if (sts == null || t.fallback() || t.unixPath() != null) {
            return null;
        }
        if (est == null) {
            return starttlsOffered ? "no TLS session could be established" : "the server does not offer STARTTLS";
        }
        return SmtpTls.mtaStsProblem(est, tls, t.hostName());
    }

    /** testing - mode testing: log what enforce mode would have refused about this server. */
    static void testing(MailLogger maillog, MtaStsPolicy sts, NextHop hop, SmtpTarget t, String problem) {
        maillog.info("MTA-STS testing: policy of " + domain(hop) + " (id " + sts.id() + "): " + t.relay() + ": "
                + problem + "; enforce mode would not deliver to it");
    }
}
