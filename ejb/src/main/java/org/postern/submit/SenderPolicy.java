package org.postern.submit;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.Parameters;
import org.postern.config.maps.LookupTable;
import org.postern.config.maps.LookupTables;

/**
 * SenderPolicy - jms_sender_restrictions: which envelope senders a JMS submission may use
 * (Postfix's smtpd_sender_restrictions, for the submission queue).
 *
 * <h2>DESCRIPTION</h2>
 * The list is evaluated in order until a restriction decides; at its end the sender is
 * permitted (an empty list permits every sender, as an empty smtpd_sender_restrictions
 * does). The restrictions:
 * <dl>
 * <dt>permit</dt><dd>accept the sender.</dd>
 * <dt>reject</dt><dd>refuse it: 554 5.7.1 &lt;sender&gt;: Sender address rejected: Access denied.</dd>
 * <dt>check_sender_access type:table</dt><dd>look the sender up as smtpd's
 * check_sender_access does (access(5)): user@domain, then the domain and its parent
 * domains, then user@; the null sender as smtpd_null_access_lookup_key. The results OK
 * (or all-numeric), DUNNO, REJECT [text] (access_map_reject_code, 5.7.1), DEFER [text]
 * (access_map_defer_code, 4.7.1), a 4XX or 5XX code with text, HOLD [text] and DISCARD
 * [text] (the message is held or dropped; evaluation goes on). Any other result is a
 * configuration error.</dd>
 * <dt>reject_non_fqdn_sender</dt><dd>refuse a sender whose domain is missing or not
 * fully qualified: 504 5.5.2 &lt;sender&gt;: Sender address rejected: need fully-qualified
 * address (the null sender passes, as in smtpd).</dd>
 * <dt>reject_null_sender</dt><dd>Postern's own: refuse the null sender
 * (553 5.7.1 &lt;&gt;: Sender address rejected: null sender not allowed); JMS applications
 * rarely have reason to send bounces.</dd>
 * </dl>
 * A refusal, 4XX as well as 5XX, sends the submission to the dead-letter queue: JMS has no
 * client waiting to try again later, and the reply tells the application what to fix.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * jms_sender_restrictions (empty), access_map_reject_code (554), access_map_defer_code
 * (450), smtpd_null_access_lookup_key (&lt;&gt;).
 *
 * <h2>DIAGNOSTICS</h2>
 * An unknown restriction, a missing or unreadable table or a bad table result throws
 * {@link ConfigException}: the endpoint lets the broker deliver the message again later,
 * as smtpd answers "451 4.3.5 Server configuration error", so that a fix and a reload
 * lose nothing.
 *
 * <h2>BUGS</h2>
 * This is a second, small evaluator beside smtpd's (ra-smtp, org.postern.smtpd.policy),
 * which the ejb module cannot reach; the lookup order of check_sender_access is the same,
 * the other smtpd restrictions (DNS, SASL, policy services) are not offered. Tables are
 * opened once per configuration (a reload rereads them).
 *
 * <h2>SEE ALSO</h2>
 * access(5), smtpd's AccessMaps and SenderRestrictions, SubmitEndpoint
 */
public final class SenderPolicy {
    /** the tables of the configuration in force, opened once */
    private static final Map<Config, Map<String, LookupTable>> TABLES = new ConcurrentHashMap<>();

    private SenderPolicy() {
    }

    /** Decision - the sender is permitted; with a HOLD or DISCARD reason when a table said so. */
    public record Decision(String hold, String discard) {
    }

    /**
     * check - evaluate jms_sender_restrictions for the sender ("" for the null sender).
     *
     * @throws Rejection       when a restriction refuses the sender
     * @throws ConfigException when the list or a table is wrong
     */
    public static Decision check(Config config, String sender) throws Rejection {
        List<String> list = config.get(Parameters.JMS_SENDER_RESTRICTIONS);
        String hold = null;
        String discard = null;
        for (int i = 0; i < list.size(); i++) {
            String name = list.get(i).toLowerCase(Locale.ROOT);
            switch (name) {
                case "permit":
                    return new Decision(hold, discard);
                case "reject":
                    throw new Rejection(config.get(Parameters.ACCESS_MAP_REJECT_CODE) + " 5.7.1 <" + sender
                            + ">: Sender address rejected: Access denied");
                case "reject_null_sender":
                    if (sender.isEmpty()) {
                        throw new Rejection("553 5.7.1 <>: Sender address rejected: null sender not allowed");
                    }
                    break;
                case "reject_non_fqdn_sender":
                    if (!sender.isEmpty() && !fullyQualified(sender)) {
                        throw new Rejection("504 5.5.2 <" + sender
                                + ">: Sender address rejected: need fully-qualified address");
                    }
                    break;
                case "check_sender_access": {
                    if (i + 1 >= list.size()) {
                        throw new ConfigException(Parameters.JMS_SENDER_RESTRICTIONS.name(), 0,
                                "restriction check_sender_access needs a type:name lookup table argument");
                    }
                    String spec = list.get(++i);
                    Optional<String> result = lookup(config, table(config, spec), sender);
                    if (result.isEmpty()) {
                        break;
                    }
                    String[] action = action(result.get());
                    switch (action[0]) {
                        case "OK":
                            return new Decision(hold, discard);
                        case "DUNNO":
                            break;
                        case "REJECT":
                            throw new Rejection(config.get(Parameters.ACCESS_MAP_REJECT_CODE) + " 5.7.1 <" + sender
                                    + ">: Sender address rejected: " + (action[1].isEmpty() ? "Access denied" : action[1]));
                        case "DEFER":
                            throw new Rejection(config.get(Parameters.ACCESS_MAP_DEFER_CODE) + " 4.7.1 <" + sender
                                    + ">: Sender address rejected: "
                                    + (action[1].isEmpty() ? "Service unavailable" : action[1]));
                        case "HOLD":
                            hold = hold != null ? hold : "<" + sender + ">: Sender address "
                                    + (action[1].isEmpty() ? "triggers HOLD action" : action[1]);
                            break;
                        case "DISCARD":
                            discard = discard != null ? discard : "<" + sender + ">: Sender address "
                                    + (action[1].isEmpty() ? "triggers DISCARD action" : action[1]);
                            break;
                        default:
                            String cmd = action[0];
                            if (cmd.chars().allMatch(Character::isDigit)) {
                                if (cmd.length() == 3 && (cmd.charAt(0) == '4' || cmd.charAt(0) == '5')) {
                                    String text = action[1];
                                    String dsn = text.matches("[45]\\.\\d{1,3}\\.\\d{1,3}( .*)?") ? "" : cmd.charAt(0) + ".7.1 ";
                                    throw new Rejection(cmd + " " + dsn + (dsn.isEmpty() ? text : "<" + sender
                                            + ">: Sender address rejected: " + text));
                                }
                                return new Decision(hold, discard); // all-numeric: OK, for old tables
                            }
                            throw new ConfigException(spec, 0, "bad access table result for jms_sender_restrictions: "
                                    + result.get());
                    }
                    break;
                }
                default:
                    throw new ConfigException(Parameters.JMS_SENDER_RESTRICTIONS.name(), 0,
                            "unknown restriction for jms_sender_restrictions: " + list.get(i)
                                    + " (Postern supports: permit, reject, check_sender_access, reject_non_fqdn_sender,"
                                    + " reject_null_sender)");
            }
        }
        return new Decision(hold, discard);
    }

    /* action - {COMMAND, text} of an access table result */
    private static String[] action(String value) {
        String v = value.strip();
        int space = 0;
        while (space < v.length() && !Character.isWhitespace(v.charAt(space))) {
            space++;
        }
        return new String[] {v.substring(0, space).toUpperCase(Locale.ROOT), v.substring(space).strip()};
    }

    /* table - the table of the spec, opened once per configuration */
    private static LookupTable table(Config config, String spec) {
        if (TABLES.size() > 4 && !TABLES.containsKey(config)) {
            TABLES.clear(); // configurations of the past: a reload made a new one
        }
        return TABLES.computeIfAbsent(config, c -> new ConcurrentHashMap<>())
                .computeIfAbsent(spec, LookupTables::open);
    }

    /**
     * lookup - the result for an address as check_sender_access finds it: user@domain, the
     * domain and its parent domains, user@; the null sender as smtpd_null_access_lookup_key.
     */
    static Optional<String> lookup(Config config, LookupTable table, String address) {
        if (address.isEmpty()) {
            return table.lookup(config.get(Parameters.SMTPD_NULL_ACCESS_LOOKUP_KEY));
        }
        int at = address.lastIndexOf('@');
        String local = at < 0 ? address : address.substring(0, at);
        if (local.length() >= 2 && local.startsWith("\"") && local.endsWith("\"")) {
            local = local.substring(1, local.length() - 1);
        }
        String domain = at < 0 ? null : address.substring(at + 1).toLowerCase(Locale.ROOT);
        Optional<String> v = table.lookup(domain == null ? local : local + "@" + domain);
        if (v.isPresent()) {
            return v;
        }
        if (domain != null) {
            String d = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
            while (!d.isEmpty()) {
                v = table.lookup(d);
                if (v.isPresent()) {
                    return v;
                }
                int dot = d.indexOf('.');
                d = dot < 0 || d.startsWith("[") ? "" : d.substring(dot + 1);
            }
        }
        return table.lookup(local + "@");
    }

    /* fullyQualified - a domain with a dot, or an address literal */
    private static boolean fullyQualified(String address) {
        int at = address.lastIndexOf('@');
        if (at < 0) {
            return false;
        }
        String d = address.substring(at + 1);
        return d.startsWith("[") || (d.indexOf('.') > 0 && !d.endsWith("."));
    }
}
