package org.postern.smtpd.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.logging.Logger;

import org.postern.config.ConfigException;
import org.postern.config.Lists;
import org.postern.config.maps.LookupTable;
import org.postern.mail.MailAddress;

/**
 * AccessMaps - the lookups of check_client_access, check_helo_access,
 * check_sender_access and check_recipient_access, and the actions of an access map or
 * policy server result (Postfix access(5), smtpd_check.c check_table_result()).
 *
 * <h2>DESCRIPTION</h2>
 * A client is looked up by name and its parent domains, then by address and its
 * networks (1.2.3.4, 1.2.3, 1.2, 1; an IPv6 address and its prefixes at ':'
 * boundaries); a HELO name by itself and its parent domains; an address as user@domain,
 * then the domain and its parents, then user@ (the null sender as
 * smtpd_null_access_lookup_key). The first key found decides.
 *
 * <p>The actions: OK, DUNNO, REJECT [text] (access_map_reject_code, 554 5.7.1),
 * DEFER [text] (access_map_defer_code, 450 4.7.1), a 4XX or 5XX code with text, an
 * all-numeric value (OK, for old tables), DEFER_IF_PERMIT and DEFER_IF_REJECT [text],
 * WARN and INFO text (logged), HOLD and DISCARD [text] (logged, and recorded for the
 * queue), or a list of restrictions without argument and without DNS, evaluated as a
 * nested list. A text may start with its own D.S.N status. A bad result replies "451
 * 4.3.5 Server configuration error".
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * access_map_reject_code (554), access_map_defer_code (450),
 * smtpd_null_access_lookup_key (&lt;&gt;).
 *
 * <h2>BUGS</h2>
 * PREPEND, REDIRECT, FILTER and BCC are logged and ignored (Postern has no cleanup(8)
 * header editing or content filters). HOLD and DISCARD before MAIL FROM (with
 * smtpd_delay_reject = no) are logged and ignored.
 */
final class AccessMaps {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");

    private AccessMaps() {
    }

    /**
     * clientAccess - the client name and its parent domains, then the address and its
     * networks; a DUNNO for the name still lets the address be looked up.
     */
    static Verdict clientAccess(Request req, LookupTable table) {
        String name = req.ctx.clientName();
        if (name != null && !name.equals("unknown")) {
            Optional<Verdict> v = domainAccess(req, table, name);
            if (v.isPresent() && v.get().kind() != Verdict.Kind.DUNNO) {
                return v.get();
            }
        }
        for (String key : addressKeys(req.ctx.clientAddress())) {
            Optional<String> value = table.lookup(key);
            if (value.isPresent()) {
                return tableResult(req, value.get(), table);
            }
        }
        return Verdict.DUNNO;
    }

    /**
     * domainAccess - a host or domain name, then its parent domains (smtpd_access_maps is
     * in parent_domain_matches_subdomains); the first key found decides, DUNNO included.
     */
    static Optional<Verdict> domainAccess(Request req, LookupTable table, String domain) {
        String d = Hostnames.stripDot(domain).toLowerCase(Locale.ROOT);
        while (!d.isEmpty()) {
            Optional<String> value = table.lookup(d);
            if (value.isPresent()) {
                return Optional.of(tableResult(req, value.get(), table));
            }
            int dot = d.indexOf('.');
            d = dot < 0 || d.startsWith("[") ? "" : d.substring(dot + 1);
        }
        return Optional.empty();
    }

    /** mailAccess - user@domain, then domain and its parents, then user@ (Postfix access(5)). */
    static Verdict mailAccess(Request req, LookupTable table, String address) {
        if (address.isEmpty()) {
            Optional<String> value = table.lookup(req.settings().nullAccessKey());
            return value.isPresent() ? tableResult(req, value.get(), table) : Verdict.DUNNO;
        }
        MailAddress a = AddressChecks.split(address);
        String local = AddressResolver.unquote(a.localPart());
        Optional<String> value = table.lookup(a.domain() == null ? local : local + "@" + a.domain());
        if (value.isPresent()) {
            return tableResult(req, value.get(), table);
        }
        if (a.domain() != null) {
            Optional<Verdict> v = domainAccess(req, table, a.domain());
            if (v.isPresent()) {
                return v.get();
            }
        }
        value = table.lookup(local + "@");
        return value.isPresent() ? tableResult(req, value.get(), table) : Verdict.DUNNO;
    }

    /** addressKeys - 1.2.3.4, 1.2.3, 1.2, 1; an IPv6 address and its prefixes at ':' boundaries. */
    static List<String> addressKeys(String address) {
        List<String> keys = new ArrayList<>();
        String a = address.toLowerCase(Locale.ROOT);
        char sep = a.indexOf(':') >= 0 ? ':' : '.';
        keys.add(a);
        for (int i = a.lastIndexOf(sep); i > 0; i = a.lastIndexOf(sep, i - 1)) {
            String prefix = a.substring(0, i);
            if (!prefix.isEmpty() && !prefix.endsWith(String.valueOf(sep))) {
                keys.add(prefix);
            }
        }
        return keys;
    }

    private static Verdict tableResult(Request req, String value, LookupTable table) {
        return result(req, value, "access table " + table.spec());
    }

    /** result - interpret an access map or policy server result (Postfix check_table_result()). */
    static Verdict result(Request req, String value, String origin) {
        String v = value.strip();
        int space = 0;
        while (space < v.length() && !Character.isWhitespace(v.charAt(space))) {
            space++;
        }
        String cmd = v.substring(0, space).toUpperCase(Locale.ROOT);
        String text = v.substring(space).strip();
        String target = req.target();
        PolicySettings.Codes codes = req.settings().codes();
        switch (cmd) {
            case "OK":
                return Verdict.OK;
            case "DUNNO":
                return Verdict.DUNNO;
            case "REJECT":
                return Verdict.rejectWithText(codes.accessMapReject(), "5.7.1", target + " rejected: ", text);
            case "DEFER":
                return Verdict.rejectWithText(codes.accessMapDefer(), "4.7.1", target + " rejected: ", text);
            case "WARN":
                req.ctx.log("warn", target + " " + text);
                return Verdict.DUNNO;
            case "INFO":
                req.ctx.log("info", target + " " + text);
                return Verdict.DUNNO;
            case "DEFER_IF_PERMIT": {
                // deferred at the end of the stage, unless something rejects (Postfix: access_map_defer_code)
                Verdict d = Verdict.rejectWithText(codes.accessMapDefer(), "4.7.1", target + " rejected: ",
                        text.isEmpty() ? "Service unavailable" : text);
                if (req.eval().warn) {
                    return d; // warn_if_reject: logged as reject_warning, as Postfix's DEFER_IF_PERMIT3
                }
                if (req.eval().deferIfPermit == null) {
                    req.eval().deferIfPermit = d.reply();
                }
                return Verdict.DUNNO;
            }
            case "DEFER_IF_REJECT":
                // a later 5XX reject of this evaluation becomes this deferral
                if (req.eval().deferIfReject == null) {
                    req.eval().deferIfReject = Verdict.rejectWithText(codes.accessMapDefer(), "4.7.1", target
                            + " rejected: ", text.isEmpty() ? "Service unavailable" : text).reply();
                }
                return Verdict.DUNNO;
            case "PREPEND":
            case "REDIRECT":
            case "FILTER":
            case "BCC":
                // actions that need cleanup(8) features Postern does not have: logged, not acted on
                LOG.warning("PSTN1103: " + origin + ": action " + cmd + " is not supported by Postern; ignored");
                return Verdict.DUNNO;
            case "HOLD":
            case "DISCARD":
                return holdOrDiscard(req, cmd, text, origin);
            default:
                break;
        }
        if (!cmd.isEmpty() && cmd.chars().allMatch(Character::isDigit)) {
            if (cmd.length() == 3 && (cmd.charAt(0) == '4' || cmd.charAt(0) == '5')) {
                return Verdict.rejectWithText(Integer.parseInt(cmd), cmd.charAt(0) + ".7.1", target + " rejected: ",
                        text);
            }
            return Verdict.OK; // all-numeric: OK, for compatibility with old tables
        }
        // Otherwise the value is a list of restrictions.
        List<Restriction> nested = new ArrayList<>();
        try {
            for (String element : Lists.split(v)) {
                nested.add(Restrictions.simple(element, origin));
            }
        } catch (ConfigException | IllegalArgumentException e) {
            LOG.warning("PSTN1102: " + origin + ": bad result \"" + v + "\": " + e.getMessage());
            return new Verdict(Verdict.Kind.REJECT, Verdict.CONFIG_ERROR);
        }
        return req.nested(nested);
    }

    /** holdOrDiscard - HOLD (go on) or DISCARD (OK): logged, and recorded for the queue once MAIL FROM is known. */
    private static Verdict holdOrDiscard(Request req, String cmd, String text, String origin) {
        if (req.ctx.sender() == null) {
            LOG.warning("PSTN1101: " + origin + ": with smtpd_delay_reject = no, action "
                    + cmd + " is unavailable before MAIL FROM");
            return Verdict.DUNNO;
        }
        String reason = req.target() + " " + (text.isEmpty() ? "triggers " + cmd + " action" : text);
        if (cmd.equals("HOLD")) {
            req.ctx.log("hold", reason);
            req.ctx.hold(reason);
            return Verdict.DUNNO;
        }
        req.ctx.log("discard", reason);
        req.ctx.discard(reason);
        req.eval().discarded = true;
        return Verdict.OK;
    }
}
