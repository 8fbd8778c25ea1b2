package org.postern.config;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Parameters - the registry of the main.cf parameters that Postern implements.
 *
 * <h2>NAME</h2>
 * Parameters - one definition per parameter, in Postfix's VAR_/DEF_ spirit.
 *
 * <h2>DESCRIPTION</h2>
 * Each constant is the single definition of one parameter: its main.cf name, type,
 * default (as Postfix writes it) and a one-line doc. Defaults are Postfix's (3.7, and
 * 3.9 for smtpd_forbid_bare_newline) except where the doc says otherwise. The registry
 * also knows the names of every other Postfix parameter (a list generated from
 * {@code postconf -d}), so that a main.cf brought from Postfix gets "not supported by
 * Postern" for those and "unused parameter" only for names Postfix does not know either.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * See the constants below; {@link #all()} lists them in registration order, which is the
 * order of a postconf-like listing.
 *
 * <h2>BUGS</h2>
 * Postfix's compatibility_level machinery is not implemented: the defaults are those of
 * compatibility_level 3.6 and later, whatever the value of compatibility_level.
 */
public final class Parameters {
    private static final Map<String, Parameter<?>> REGISTRY = new LinkedHashMap<>();

    private static <T> Parameter<T> register(Parameter<T> p) {
        if (REGISTRY.putIfAbsent(p.name(), p) != null) {
            throw new IllegalStateException("duplicate parameter: " + p.name());
        }
        return p;
    }

    // ---- identity

    /** myhostname - the Internet host name of this mail system. */
    public static final Parameter<String> MYHOSTNAME = register(Parameter.string("myhostname",
            HostNames.localHostName(),
            "The Internet host name of this mail system; default: the machine's host name, "
                    + "fully qualified if possible (computed at start)."));
    /** mydomain - the Internet domain name of this mail system. */
    public static final Parameter<String> MYDOMAIN = register(Parameter.string("mydomain",
            HostNames.domainOf(MYHOSTNAME.defaultValue()),
            "The Internet domain name of this mail system; default: $myhostname minus its "
                    + "first label, or localdomain."));
    /** myorigin - the domain that locally-posted mail appears to come from. */
    public static final Parameter<String> MYORIGIN = register(Parameter.string("myorigin", "$myhostname",
            "The domain name that locally-posted mail appears to come from; as in Debian's Postfix, a value "
                    + "starting with / names a file (/etc/mailname) whose first line is the domain."));
    /** mydestination - the domains that this machine considers itself the final destination for. */
    public static final Parameter<List<String>> MYDESTINATION = register(Parameter.list("mydestination",
            "$myhostname, localhost.$mydomain, localhost",
            "The domains for which this machine is the final destination."));
    /** mynetworks - the trusted SMTP clients. */
    public static final Parameter<List<String>> MYNETWORKS = register(Parameter.list("mynetworks",
            "127.0.0.0/8 [::1]/128",
            "Trusted remote SMTP clients; Postern's default is the loopback networks "
                    + "(Postfix's mynetworks_style = host on a loopback-only machine)."));
    /** relay_domains - the destinations that this system will relay mail to. */
    public static final Parameter<List<String>> RELAY_DOMAINS = register(Parameter.list("relay_domains", "",
            "Destination domains (and subdomains) that this system will relay mail to; "
                    + "empty as with Postfix compatibility_level >= 2."));
    /** mail_name - the mail system name in the SMTP greeting and in bounces. */
    public static final Parameter<String> MAIL_NAME = register(Parameter.string("mail_name", "Postern",
            "The mail system name that is displayed in the SMTP greeting and in bounce messages."));
    /** mail_version - the version of this mail system. */
    public static final Parameter<String> MAIL_VERSION = register(Parameter.string("mail_version", "0.1.0",
            "The version of the Postern mail system."));
    /** compatibility_level - which default-value changes are in effect. */
    public static final Parameter<String> COMPATIBILITY_LEVEL = register(Parameter.string("compatibility_level", "3.6",
            "The Postfix compatibility level; Postern always behaves as level 3.6 (its defaults "
                    + "are those of 3.6 and later) and keeps the value for display."));
    /** syslog_name - the name that prefixes mail log records: syslog_name/smtpd[pid]. */
    public static final Parameter<String> SYSLOG_NAME = register(Parameter.string("syslog_name", "postern",
            "The mail system name that is prepended to the process name in mail log records "
                    + "(postern/smtpd[pid]:). A master.cf -o syslog_name=... names the lines of that smtpd, "
                    + "smtp or lmtp service; qmgr, cleanup and bounce use main.cf's. A reload applies a change."));

    // ---- smtpd

    /** smtpd_banner - the text that follows the 220 status code in the SMTP greeting. */
    public static final Parameter<String> SMTPD_BANNER = register(Parameter.string("smtpd_banner",
            "$myhostname ESMTP $mail_name",
            "The text that follows the 220 status code in the SMTP greeting banner."));
    /** message_size_limit - the maximal size of a message in bytes. */
    public static final Parameter<Long> MESSAGE_SIZE_LIMIT = register(Parameter.size("message_size_limit", "10240000",
            "The maximal size in bytes of a message, including envelope information; 0 means no limit."));
    /** line_length_limit - the maximal length of a line before it is broken up. */
    public static final Parameter<Integer> LINE_LENGTH_LIMIT = register(Parameter.integer("line_length_limit", "2048",
            "Upon input, long lines are chopped up into pieces of at most this length."));
    /** smtpd_timeout - the time limit for sending a reply or receiving a request. */
    public static final Parameter<Duration> SMTPD_TIMEOUT = register(Parameter.time("smtpd_timeout", "300s",
            ChronoUnit.SECONDS,
            "The time limit for sending an SMTP server response and for receiving an SMTP client request."));
    /** smtpd_per_record_deadline - smtpd_timeout bounds a whole record, not one read. */
    public static final Parameter<Boolean> SMTPD_PER_RECORD_DEADLINE = register(Parameter.bool(
            "smtpd_per_record_deadline", "yes",
            "Change the behavior of the smtpd_timeout time limit from a time limit per read to a time limit to "
                    + "receive a complete record (an SMTP command line, a message content line, a BDAT chunk): a "
                    + "client that sends one byte now and then is cut off. Postern's default is yes (Postfix: no, "
                    + "yes only under overload); a legitimate client never needs smtpd_timeout for one line."));
    /** smtpd_recipient_limit - the maximal number of recipients per message. */
    public static final Parameter<Integer> SMTPD_RECIPIENT_LIMIT = register(Parameter.integer("smtpd_recipient_limit",
            "1000", "The maximal number of recipients that the SMTP server accepts per message delivery request."));
    /** smtpd_hard_error_limit - errors after which the server disconnects. */
    public static final Parameter<Boolean> SMTPD_HELO_REQUIRED = register(Parameter.bool("smtpd_helo_required", "no",
            "Require that a remote SMTP client introduces itself with HELO or EHLO before MAIL FROM."));

    public static final Parameter<Boolean> DISABLE_VRFY_COMMAND = register(Parameter.bool("disable_vrfy_command", "no",
            "Disable the SMTP VRFY command (502 5.5.1 VRFY command is disabled)."));

    public static final Parameter<Integer> SMTPD_HARD_ERROR_LIMIT = register(Parameter.integer("smtpd_hard_error_limit",
            "20", "The maximal number of errors a remote SMTP client is allowed to make before disconnection."));
    /** smtpd_soft_error_limit - errors after which the server delays its replies. */
    public static final Parameter<Integer> SMTPD_SOFT_ERROR_LIMIT = register(Parameter.integer("smtpd_soft_error_limit",
            "10", "The number of errors a remote SMTP client is allowed to make before each reply is delayed."));
    /** smtpd_error_sleep_time - the delay before an error reply once the soft limit is reached. */
    public static final Parameter<Duration> SMTPD_ERROR_SLEEP_TIME = register(Parameter.time("smtpd_error_sleep_time", "1s",
            ChronoUnit.SECONDS,
            "The SMTP server response delay after a client has made more than $smtpd_soft_error_limit errors."));
    /** smtpd_forbid_bare_newline - what to do with lines that end in a bare LF (SMTP smuggling). */
    public static final Parameter<String> SMTPD_FORBID_BARE_NEWLINE = register(Parameter.choice("smtpd_forbid_bare_newline",
            "normalize",
            "Lines ending in bare <LF>: normalize (require <CR><LF>.<CR><LF> to end DATA, treat other "
                    + "bare <LF> as <CR><LF>; Postfix >= 3.9 default), yes (alias of normalize), reject, or no.",
            "normalize", "yes", "reject", "no"));
    /** smtpd_forbid_bare_newline_exclusions - clients exempt from smtpd_forbid_bare_newline. */
    public static final Parameter<List<String>> SMTPD_FORBID_BARE_NEWLINE_EXCLUSIONS = register(Parameter.list(
            "smtpd_forbid_bare_newline_exclusions", "$mynetworks",
            "SMTP clients (network/mask, address or lookup table) that are excluded from smtpd_forbid_bare_newline."));
    /** smtpd_forbid_bare_newline_reject_code - the status code for a rejected bare newline. */
    public static final Parameter<Integer> SMTPD_FORBID_BARE_NEWLINE_REJECT_CODE = register(Parameter.integer(
            "smtpd_forbid_bare_newline_reject_code", "550",
            "The SMTP status code when smtpd_forbid_bare_newline = reject rejects a line with bare <LF>."));

    // ---- routing

    /** transport_maps - lookup tables from recipient or domain to transport:nexthop. */
    public static final Parameter<List<String>> TRANSPORT_MAPS = register(Parameter.list("transport_maps", "",
            "Lookup tables with mappings from recipient address to (message delivery transport, next-hop destination)."));
    /** relayhost - the next-hop destination of non-local mail. */
    public static final Parameter<String> RELAYHOST = register(Parameter.string("relayhost", "",
            "The next-hop destination(s) for non-local mail; overrides non-local domains in recipient addresses."));
    /** default_transport - the transport for destinations not otherwise matched. */
    public static final Parameter<String> DEFAULT_TRANSPORT = register(Parameter.string("default_transport", "smtp",
            "The default mail delivery transport and next-hop destination for remote delivery."));
    /** local_transport - the transport for $mydestination. */
    public static final Parameter<String> LOCAL_TRANSPORT = register(Parameter.string("local_transport", "local:$myhostname",
            "The default mail delivery transport and next-hop destination for final delivery to domains listed "
                    + "with mydestination. Postern has no local(8): with the default, mail goes to "
                    + "mailbox_transport when that is set and is deferred (mail transport unavailable) when not; "
                    + "lmtp:..., smtp:... or a master.cf transport works as in Postfix."));
    /** mailbox_transport - where local(8) would hand mailbox delivery. */
    public static final Parameter<String> MAILBOX_TRANSPORT = register(Parameter.string("mailbox_transport", "",
            "Optional message delivery transport that the local(8) delivery agent should use for mailbox "
                    + "delivery to all local recipients, such as lmtp:unix:private/dovecot-lmtp; Postern, which "
                    + "has no local(8), sends mail for mydestination there directly (no aliases, no .forward)."));
    /** virtual_transport - the transport for $virtual_mailbox_domains. */
    public static final Parameter<String> VIRTUAL_TRANSPORT = register(Parameter.string("virtual_transport", "virtual",
            "The default mail delivery transport and next-hop destination for final delivery to domains listed "
                    + "with virtual_mailbox_domains, such as lmtp:unix:private/dovecot-lmtp. Postern has no "
                    + "virtual(8): the default defers with \"mail transport unavailable\"."));
    /** virtual_mailbox_domains - the hosted mailbox domains. */
    public static final Parameter<List<String>> VIRTUAL_MAILBOX_DOMAINS = register(Parameter.list("virtual_mailbox_domains",
            "$virtual_mailbox_maps",
            "Domains (names, .domain or type:table) for which mail is delivered with virtual_transport; "
                    + "they are authorized destinations for permit_auth_destination and reject_unauth_destination."));
    /** virtual_mailbox_maps - the valid recipients of virtual_mailbox_domains. */
    public static final Parameter<List<String>> VIRTUAL_MAILBOX_MAPS = register(Parameter.list("virtual_mailbox_maps", "",
            "Lookup tables with the valid recipients (user@domain, or @domain for all) of "
                    + "virtual_mailbox_domains; with reject_unlisted_recipient (smtpd_reject_unlisted_recipient) "
                    + "others get \"550 5.1.1 User unknown in virtual mailbox table\"."));
    /** virtual_alias_maps - envelope recipient rewriting (virtual(5)). */
    public static final Parameter<List<String>> VIRTUAL_ALIAS_MAPS = register(Parameter.list("virtual_alias_maps", "",
            "Lookup tables that alias specific mail addresses or domains to other local or remote addresses "
                    + "(user@domain, user for local domains, @domain; results separated by commas), applied to "
                    + "every envelope recipient when a message is queued."));
    /** virtual_alias_domains - domains that exist only as aliases. */
    public static final Parameter<List<String>> VIRTUAL_ALIAS_DOMAINS = register(Parameter.list("virtual_alias_domains",
            "$virtual_alias_maps",
            "Domains for which every address is aliased to another one: authorized destinations in smtpd, whose "
                    + "recipients must be in virtual_alias_maps (\"User unknown in virtual alias table\")."));
    /** virtual_alias_recursion_limit - bound on nested alias lookups. */
    public static final Parameter<Integer> VIRTUAL_ALIAS_RECURSION_LIMIT = register(Parameter.integer(
            "virtual_alias_recursion_limit", "1000",
            "The maximal nesting depth of virtual alias expansion."));
    /** virtual_alias_expansion_limit - bound on the addresses one recipient becomes. */
    public static final Parameter<Integer> VIRTUAL_ALIAS_EXPANSION_LIMIT = register(Parameter.integer(
            "virtual_alias_expansion_limit", "1000",
            "The maximal number of addresses that virtual alias expansion produces from each original recipient."));
    /** unknown_virtual_alias_reject_code - the reply to an unlisted recipient of virtual_alias_domains. */
    public static final Parameter<Integer> UNKNOWN_VIRTUAL_ALIAS_REJECT_CODE = register(Parameter.integer(
            "unknown_virtual_alias_reject_code", "550",
            "The SMTP server response code when a recipient address matches $virtual_alias_domains and is not "
                    + "listed in $virtual_alias_maps."));
    /** queue_directory - where relative unix-domain socket names are found. */
    public static final Parameter<String> QUEUE_DIRECTORY = register(Parameter.string("queue_directory", "/var/spool/postfix",
            "Postern keeps its queue in the database; this directory only anchors relative UNIX-domain socket "
                    + "names, as in Postfix: lmtp:unix:private/dovecot-lmtp, smtpd_sasl_path = private/auth, "
                    + "check_policy_service unix:private/policy."));
    /** relay_transport - the transport for $relay_domains. */
    public static final Parameter<String> RELAY_TRANSPORT = register(Parameter.string("relay_transport", "relay",
            "The default mail delivery transport and next-hop destination for $relay_domains; "
                    + "Postern treats relay like smtp."));

    // ---- smtp client
    // SMTP and LMTP share one client (as in Postfix); only the parameter names differ.

    /** smtp_helo_name - the hostname sent in HELO/EHLO. */
    public static final Parameter<String> SMTP_HELO_NAME = register(Parameter.string("smtp_helo_name", "$myhostname",
            "The hostname to send in the SMTP HELO or EHLO command."));
    /** smtp_connect_timeout - the time limit for completing a TCP connection. */
    public static final Parameter<Duration> SMTP_CONNECT_TIMEOUT = register(Parameter.time("smtp_connect_timeout", "30s",
            ChronoUnit.SECONDS, "The SMTP client time limit for completing a TCP connection, or zero (system limit)."));
    /** smtp_helo_timeout - the time limit for the greeting and the HELO/EHLO reply. */
    public static final Parameter<Duration> SMTP_HELO_TIMEOUT = register(Parameter.time("smtp_helo_timeout", "300s",
            ChronoUnit.SECONDS,
            "The SMTP client time limit for sending HELO or EHLO and receiving the greeting and the response."));
    /** smtp_mail_timeout - the time limit for MAIL FROM. */
    public static final Parameter<Duration> SMTP_MAIL_TIMEOUT = register(Parameter.time("smtp_mail_timeout", "300s",
            ChronoUnit.SECONDS, "The SMTP client time limit for sending MAIL FROM and receiving the response."));
    /** smtp_rcpt_timeout - the time limit for RCPT TO. */
    public static final Parameter<Duration> SMTP_RCPT_TIMEOUT = register(Parameter.time("smtp_rcpt_timeout", "300s",
            ChronoUnit.SECONDS, "The SMTP client time limit for sending RCPT TO and receiving the response."));
    /** smtp_data_init_timeout - the time limit for DATA. */
    public static final Parameter<Duration> SMTP_DATA_INIT_TIMEOUT = register(Parameter.time("smtp_data_init_timeout",
            "120s", ChronoUnit.SECONDS,
            "The SMTP client time limit for sending DATA and receiving the initial server response."));
    /** smtp_data_xfer_timeout - the time limit for sending message content. */
    public static final Parameter<Duration> SMTP_DATA_XFER_TIMEOUT = register(Parameter.time("smtp_data_xfer_timeout",
            "180s", ChronoUnit.SECONDS, "The SMTP client time limit for sending the message content."));
    /** smtp_data_done_timeout - the time limit for the final dot. */
    public static final Parameter<Duration> SMTP_DATA_DONE_TIMEOUT = register(Parameter.time("smtp_data_done_timeout",
            "600s", ChronoUnit.SECONDS,
            "The SMTP client time limit for sending \".\" and receiving the final server response."));
    /** smtp_rset_timeout - the time limit for RSET. */
    public static final Parameter<Duration> SMTP_RSET_TIMEOUT = register(Parameter.time("smtp_rset_timeout", "20s",
            ChronoUnit.SECONDS, "The SMTP client time limit for sending RSET and receiving the response."));
    /** smtp_quit_timeout - the time limit for QUIT. */
    public static final Parameter<Duration> SMTP_QUIT_TIMEOUT = register(Parameter.time("smtp_quit_timeout", "300s",
            ChronoUnit.SECONDS, "The SMTP client time limit for sending QUIT and receiving the response."));
    /** smtp_line_length_limit - the length at which outgoing header lines are folded. */
    public static final Parameter<Integer> SMTP_LINE_LENGTH_LIMIT = register(Parameter.integer("smtp_line_length_limit",
            "998", "The maximal length of message header and body lines that the SMTP client sends; 0 means no limit."));

    // ---- lmtp client

    /** lmtp_tcp_port - the default TCP port of the LMTP client. */
    public static final Parameter<String> LMTP_TCP_PORT = register(Parameter.string("lmtp_tcp_port", "24",
            "The default TCP port (number or service name) that the LMTP client connects to."));
    /** lmtp_lhlo_name - the hostname sent in LHLO. */
    public static final Parameter<String> LMTP_LHLO_NAME = register(Parameter.string("lmtp_lhlo_name", "$myhostname",
            "The hostname to send in the LMTP LHLO command."));
    /** lmtp_connect_timeout - the time limit for completing a TCP connection. */
    public static final Parameter<Duration> LMTP_CONNECT_TIMEOUT = register(Parameter.time("lmtp_connect_timeout", "0s",
            ChronoUnit.SECONDS, "The LMTP client time limit for completing a TCP connection, or zero (system limit)."));
    /** lmtp_lhlo_timeout - the time limit for the greeting and the LHLO reply. */
    public static final Parameter<Duration> LMTP_LHLO_TIMEOUT = register(Parameter.time("lmtp_lhlo_timeout", "300s",
            ChronoUnit.SECONDS,
            "The LMTP client time limit for sending LHLO and receiving the greeting and the response."));
    /** lmtp_mail_timeout - the time limit for MAIL FROM. */
    public static final Parameter<Duration> LMTP_MAIL_TIMEOUT = register(Parameter.time("lmtp_mail_timeout", "300s",
            ChronoUnit.SECONDS, "The LMTP client time limit for sending MAIL FROM and receiving the response."));
    /** lmtp_rcpt_timeout - the time limit for RCPT TO. */
    public static final Parameter<Duration> LMTP_RCPT_TIMEOUT = register(Parameter.time("lmtp_rcpt_timeout", "300s",
            ChronoUnit.SECONDS, "The LMTP client time limit for sending RCPT TO and receiving the response."));
    /** lmtp_data_init_timeout - the time limit for DATA. */
    public static final Parameter<Duration> LMTP_DATA_INIT_TIMEOUT = register(Parameter.time("lmtp_data_init_timeout",
            "120s", ChronoUnit.SECONDS,
            "The LMTP client time limit for sending DATA and receiving the initial server response."));
    /** lmtp_data_xfer_timeout - the time limit for sending message content. */
    public static final Parameter<Duration> LMTP_DATA_XFER_TIMEOUT = register(Parameter.time("lmtp_data_xfer_timeout",
            "180s", ChronoUnit.SECONDS, "The LMTP client time limit for sending the message content."));
    /** lmtp_data_done_timeout - the time limit for the final dot. */
    public static final Parameter<Duration> LMTP_DATA_DONE_TIMEOUT = register(Parameter.time("lmtp_data_done_timeout",
            "600s", ChronoUnit.SECONDS,
            "The LMTP client time limit for sending \".\" and receiving the final server responses."));
    /** lmtp_rset_timeout - the time limit for RSET. */
    public static final Parameter<Duration> LMTP_RSET_TIMEOUT = register(Parameter.time("lmtp_rset_timeout", "20s",
            ChronoUnit.SECONDS, "The LMTP client time limit for sending RSET and receiving the response."));
    /** lmtp_quit_timeout - the time limit for QUIT. */
    public static final Parameter<Duration> LMTP_QUIT_TIMEOUT = register(Parameter.time("lmtp_quit_timeout", "300s",
            ChronoUnit.SECONDS, "The LMTP client time limit for sending QUIT and receiving the response."));
    /** lmtp_line_length_limit - the length at which outgoing header lines are folded. */
    public static final Parameter<Integer> LMTP_LINE_LENGTH_LIMIT = register(Parameter.integer("lmtp_line_length_limit",
            "998", "The maximal length of message header and body lines that the LMTP client sends; 0 means no limit."));

    // ---- queue

    /** minimal_backoff_time - the minimal time between attempts to deliver a deferred message. */
    public static final Parameter<Duration> MINIMAL_BACKOFF_TIME = register(Parameter.time("minimal_backoff_time", "300s",
            ChronoUnit.SECONDS, "The minimal time between attempts to deliver a deferred message."));
    /** maximal_backoff_time - the maximal time between attempts to deliver a deferred message. */
    public static final Parameter<Duration> MAXIMAL_BACKOFF_TIME = register(Parameter.time("maximal_backoff_time", "4000s",
            ChronoUnit.SECONDS, "The maximal time between attempts to deliver a deferred message."));
    /** maximal_queue_lifetime - the time after which an undeliverable message is bounced. */
    public static final Parameter<Duration> MAXIMAL_QUEUE_LIFETIME = register(Parameter.time("maximal_queue_lifetime", "5d",
            ChronoUnit.DAYS, "The maximal time a message is queued before it is sent back as undeliverable."));
    /** bounce_queue_lifetime - the same, for bounce messages. */
    public static final Parameter<Duration> BOUNCE_QUEUE_LIFETIME = register(Parameter.time("bounce_queue_lifetime", "5d",
            ChronoUnit.DAYS, "The maximal time a bounce message is queued before it is considered undeliverable."));
    /** queue_run_delay - the time between deferred queue scans. */
    public static final Parameter<Duration> QUEUE_RUN_DELAY = register(Parameter.time("queue_run_delay", "300s",
            ChronoUnit.SECONDS, "The time between deferred queue scans by the queue manager."));
    /** cluster_heartbeat_interval - how often a node writes that it is alive. */
    public static final Parameter<Duration> CLUSTER_HEARTBEAT_INTERVAL = register(Parameter.time(
            "cluster_heartbeat_interval", "10s", ChronoUnit.SECONDS,
            "Postern: how often each node of the servers that share one queue database writes that it is alive "
                    + "(the cluster_node table), and looks for nodes that stopped doing so."));
    /** cluster_node_timeout - a node silent this long is presumed dead and its leases are given back. */
    public static final Parameter<Duration> CLUSTER_NODE_TIMEOUT = register(Parameter.time(
            "cluster_node_timeout", "60s", ChronoUnit.SECONDS,
            "Postern: a node that has not written that it is alive for this long is presumed dead; another node "
                    + "gives back the leases of the messages it was delivering, and they are delivered again by the "
                    + "nodes that are left. Keep it well above cluster_heartbeat_interval and the longest pause "
                    + "of a node (a full garbage collection); clocks of the nodes must agree (NTP)."));
    /** default_destination_recipient_limit - recipients per delivery. */
    public static final Parameter<Integer> DEFAULT_DESTINATION_RECIPIENT_LIMIT = register(Parameter.integer(
            "default_destination_recipient_limit", "50",
            "The default maximal number of recipients per message delivery."));
    /** default_process_limit - the maxproc of a master.cf service whose column is "-". */
    public static final Parameter<Integer> DEFAULT_PROCESS_LIMIT = register(Parameter.integer(
            "default_process_limit", "100",
            "The default maximal number of processes of a master.cf service (the maxproc column \"-\"); in "
                    + "Postern, the parallel deliveries of an smtp or lmtp delivery service, all destinations together."));
    /** smtp_destination_recipient_limit - recipients per SMTP delivery. */
    public static final Parameter<Integer> SMTP_DESTINATION_RECIPIENT_LIMIT = register(Parameter.integer(
            "smtp_destination_recipient_limit", "$default_destination_recipient_limit",
            "The maximal number of recipients per message delivery by the smtp transport."));
    /** lmtp_destination_recipient_limit - recipients per LMTP delivery. */
    public static final Parameter<Integer> LMTP_DESTINATION_RECIPIENT_LIMIT = register(Parameter.integer(
            "lmtp_destination_recipient_limit", "$default_destination_recipient_limit",
            "The maximal number of recipients per message delivery by the lmtp transport."));

    // ---- bounce and flush (issue 5: qmgr, bounce, flush)

    /** bounce_size_limit - how much of the original message a non-delivery report returns. */
    public static final Parameter<Integer> BOUNCE_SIZE_LIMIT = register(Parameter.integer("bounce_size_limit", "50000",
            "The maximal amount of original message text in bytes that is sent in a non-delivery notification."));
    /** 2bounce_notice_recipient - who gets undeliverable bounces. */
    public static final Parameter<String> DOUBLE_BOUNCE_NOTICE_RECIPIENT = register(Parameter.string(
            "2bounce_notice_recipient", "postmaster",
            "The recipient of undeliverable mail that cannot be returned to the sender (double bounces)."));
    /** double_bounce_sender - the sender of postmaster notifications, discarded when they bounce. */
    public static final Parameter<String> DOUBLE_BOUNCE_SENDER = register(Parameter.string("double_bounce_sender",
            "double-bounce",
            "The sender address of postmaster notifications; a notification from it that cannot be "
                    + "delivered is discarded, so that notices never loop."));
    /** delay_warning_time - when a sender is told that the mail is delayed. */
    public static final Parameter<Duration> DELAY_WARNING_TIME = register(Parameter.time("delay_warning_time", "0h",
            ChronoUnit.HOURS,
            "The time after which the sender receives a copy of the message headers of mail that is "
                    + "still queued; 0 turns delay warnings off."));
    /** notify_classes - the error classes reported to the postmaster. */
    public static final Parameter<List<String>> NOTIFY_CLASSES = register(Parameter.list("notify_classes", "resource, software",
            "The list of error classes that are reported to the postmaster (bounce, 2bounce, data, delay, "
                    + "policy, protocol, resource, software); bounce implies 2bounce."));
    /** bounce_notice_recipient - who gets the postmaster copies of bounces (notify_classes bounce). */
    public static final Parameter<String> BOUNCE_NOTICE_RECIPIENT = register(Parameter.string("bounce_notice_recipient",
            "postmaster",
            "The recipient of postmaster notifications with the message headers of mail that was not "
                    + "delivered (notify_classes = bounce)."));
    /** delay_notice_recipient - who gets the postmaster copies of delay warnings (notify_classes delay). */
    public static final Parameter<String> DELAY_NOTICE_RECIPIENT = register(Parameter.string("delay_notice_recipient",
            "postmaster",
            "The recipient of postmaster notifications with the message headers of mail that cannot be "
                    + "delivered within $delay_warning_time (notify_classes = delay)."));
    /** error_notice_recipient - who hears of policy, protocol, resource and software errors. */
    public static final Parameter<String> ERROR_NOTICE_RECIPIENT = register(Parameter.string("error_notice_recipient",
            "postmaster",
            "The recipient of postmaster notifications about mail delivery problems caused by policy, "
                    + "resource, software or protocol errors (see notify_classes)."));
    /** qmgr_message_active_limit - the bound on messages in the active queue. */
    public static final Parameter<Integer> QMGR_MESSAGE_ACTIVE_LIMIT = register(Parameter.integer(
            "qmgr_message_active_limit", "20000",
            "The maximal number of messages in the active queue (claimed for delivery), per node."));
    /** queue_group_commit_limit - messages stored and synced together at most (group commit). */
    public static final Parameter<Integer> QUEUE_GROUP_COMMIT_LIMIT = register(Parameter.integer(
            "queue_group_commit_limit", "64",
            "Postern: the most messages that one group commit stores in one transaction and covers with one "
                    + "sync before they are answered 250; the messages that finish DATA while a commit is "
                    + "under way go together in the next one (0 = no limit)."));
    /** delivery_event_notification - publish every recipient outcome on the topic postern.events. */
    public static final Parameter<Boolean> DELIVERY_EVENT_NOTIFICATION = register(Parameter.bool(
            "delivery_event_notification", "yes",
            "Postern: publish an event (CloudEvents 1.0, JSON) for every recipient that is delivered, "
                    + "deferred, bounced or expired on the JMS topic postern.events "
                    + "(java:/jms/topic/postern/events); the event is written to the queue database with the "
                    + "outcome (one more row per outcome, in the same transaction) and published after the "
                    + "commit, at least once. no: no event is written or published."));
    /** delivery_event_republish_time - how often events left in the database are published again. */
    public static final Parameter<Duration> DELIVERY_EVENT_REPUBLISH_TIME = register(Parameter.time(
            "delivery_event_republish_time", "60s", ChronoUnit.SECONDS,
            "Postern: the time between two looks for delivery events that are in the queue database but "
                    + "were not published (lost with a crash or a failed send, or past the in-memory "
                    + "hand-off); an event younger than this is left to the publisher that has it in memory."));
    /** delivery_event_lifetime - how long an event that cannot be published is kept. */
    public static final Parameter<Duration> DELIVERY_EVENT_LIFETIME = register(Parameter.time(
            "delivery_event_lifetime", "5d", ChronoUnit.DAYS,
            "Postern: how long a delivery event that could not be published (the topic is unreachable) "
                    + "is kept in the queue database and tried again; older events are discarded, with a "
                    + "warning that says how many."));
    /** delivery_event_handoff_limit - events waiting in memory for the publisher at most. */
    public static final Parameter<Integer> DELIVERY_EVENT_HANDOFF_LIMIT = register(Parameter.integer(
            "delivery_event_handoff_limit", "10000",
            "Postern: the most delivery events that wait in memory for the publisher after their outcomes "
                    + "are committed; an event past it is not waited for by delivery, it stays in the queue "
                    + "database and is published by the next republish (delivery_event_republish_time). "
                    + "0: every event takes that path."));
    /** queue_memory_limit - bytes of accepted content kept in memory for the first delivery. */
    public static final Parameter<Long> QUEUE_MEMORY_LIMIT = register(Parameter.size(
            "queue_memory_limit", "67108864",
            "Postern: the bytes of content, in all, of accepted messages kept in memory for their first "
                    + "delivery attempt (which then reads neither the message nor its content from the "
                    + "database); past it new mail is delivered from the database. 0 turns the memory path off."));
    /** queue_memory_message_limit - the largest message kept in memory for its first delivery. */
    public static final Parameter<Long> QUEUE_MEMORY_MESSAGE_LIMIT = register(Parameter.size(
            "queue_memory_message_limit", "1048576",
            "Postern: the largest message (bytes of content) that is stored in a group commit and kept in "
                    + "memory for its first delivery; larger mail is streamed into the database in a "
                    + "transaction of its own (then synced as well) and delivered from there."));
    /** lmtp_assume_final - an LMTP server without DSN performs final delivery. */
    public static final Parameter<Boolean> LMTP_ASSUME_FINAL = register(Parameter.bool("lmtp_assume_final", "no",
            "When an LMTP server announces no DSN support, assume that it performs final delivery and send "
                    + "\"delivered\" success notifications instead of \"relayed\"."));
    /** fast_flush_domains - destinations that keep a flush index for fast ETRN. */
    public static final Parameter<List<String>> FAST_FLUSH_DOMAINS = register(Parameter.list("fast_flush_domains",
            "$relay_domains",
            "Destinations (domains and their subdomains) for which deferred mail is indexed, so that "
                    + "ETRN and postqueue -s deliver it at once."));

    /** defer_transports - transports that deliver only on a flush (the etrn-only transport of ETRN_README). */
    public static final Parameter<List<String>> DEFER_TRANSPORTS = register(Parameter.list("defer_transports", "",
            "The names of message delivery transports that should not deliver mail unless someone "
                    + "issues ETRN, sendmail -q or an equivalent flush."));
    // ---- smtp(8)/lmtp(8) delivery agents (issue 4): next hop, session, cache, limits

    /** fallback_relay - the Postfix 2.2 name of smtp_fallback_relay. */
    public static final Parameter<List<String>> FALLBACK_RELAY = register(Parameter.list("fallback_relay", "",
            "Optional list of relay hosts for SMTP destinations that can't be found or that are unreachable "
                    + "(Postfix 2.2 name; smtp_fallback_relay defaults to it)."));
    /** smtp_fallback_relay - relay hosts tried after the primary next hops of an SMTP delivery fail. */
    public static final Parameter<List<String>> SMTP_FALLBACK_RELAY = register(Parameter.list("smtp_fallback_relay",
            "$fallback_relay",
            "Optional list of relay hosts ([host]:port, host:port, host) tried when the primary SMTP next hops "
                    + "are not found or unreachable."));
    /** ignore_mx_lookup_error - look up A/AAAA when an MX lookup gets no answer. */
    public static final Parameter<Boolean> IGNORE_MX_LOOKUP_ERROR = register(Parameter.bool("ignore_mx_lookup_error", "no",
            "Ignore DNS MX lookups that produce no response and look up the domain's addresses instead of deferring."));
    /** disable_dns_lookups - no DNS in the SMTP and LMTP clients. */
    public static final Parameter<Boolean> DISABLE_DNS_LOOKUPS = register(Parameter.bool("disable_dns_lookups", "no",
            "Disable DNS lookups in the SMTP and LMTP clients: no MX lookups, host addresses from the system resolver."));
    /** inet_interfaces - the addresses this mail system receives mail on (also: loop detection). */
    public static final Parameter<List<String>> INET_INTERFACES = register(Parameter.list("inet_interfaces", "all",
            "The network interface addresses that this mail system receives mail on (all, loopback-only, or "
                    + "addresses and host names): where master.cf inet services without an address listen; the "
                    + "SMTP client treats them as its own when it detects mail loops."));
    /** proxy_interfaces - addresses we receive mail on through a proxy or NAT. */
    public static final Parameter<List<String>> PROXY_INTERFACES = register(Parameter.list("proxy_interfaces", "",
            "The network interface addresses that this mail system receives mail on by way of a proxy or "
                    + "network address translation unit."));
    /** inet_protocols - the address families the clients connect with. */
    public static final Parameter<List<String>> INET_PROTOCOLS = register(Parameter.list("inet_protocols", "all",
            "The Internet protocols (ipv4, ipv6, all) the SMTP and LMTP clients use when making connections."));
    /** best_mx_transport - where mail goes when we are the best MX host. */
    public static final Parameter<String> BEST_MX_TRANSPORT = register(Parameter.string("best_mx_transport", "",
            "Where the SMTP client delivers mail when it detects a \"mail loops back to myself\" condition "
                    + "(transport or transport:nexthop, e.g. lmtp:unix:/path); empty: bounce."));
    /** disable_mime_output_conversion - never convert 8BITMIME to 7BIT. */
    public static final Parameter<Boolean> DISABLE_MIME_OUTPUT_CONVERSION = register(Parameter.bool(
            "disable_mime_output_conversion", "no",
            "Disable the conversion of 8BITMIME format to 7BIT format for servers that do not announce 8BITMIME."));
    /** smtp_randomize_addresses - shuffle equal-preference MX hosts and host addresses. */
    public static final Parameter<Boolean> SMTP_RANDOMIZE_ADDRESSES = register(Parameter.bool("smtp_randomize_addresses",
            "yes", "Randomize the order of equal-preference MX host addresses."));
    /** smtp_mx_address_limit - the addresses an MX or host lookup may yield. */
    public static final Parameter<Integer> SMTP_MX_ADDRESS_LIMIT = register(Parameter.integer("smtp_mx_address_limit", "5",
            "The maximal number of MX (mail exchanger) IP addresses that can result from MX lookups, or zero "
                    + "(no limit)."));
    /** smtp_mx_session_limit - the SMTP sessions per delivery before giving up or using a fallback relay. */
    public static final Parameter<Integer> SMTP_MX_SESSION_LIMIT = register(Parameter.integer("smtp_mx_session_limit", "2",
            "The maximal number of SMTP sessions per delivery request before giving up or delivering to a "
                    + "fallback relay host, or zero (no limit)."));
    /** smtp_defer_if_no_mx_address_found - defer instead of bounce when no MX host has an address. */
    public static final Parameter<Boolean> SMTP_DEFER_IF_NO_MX_ADDRESS_FOUND = register(Parameter.bool(
            "smtp_defer_if_no_mx_address_found", "no",
            "Defer mail delivery when no MX record resolves to an IP address."));
    /** smtp_host_lookup - dns, native or both, for host address lookups. */
    public static final Parameter<List<String>> SMTP_HOST_LOOKUP = register(Parameter.list("smtp_host_lookup", "dns",
            "What mechanisms the SMTP client uses to look up a host's IP address: dns, native, or both in order."));
    /** smtp_always_send_ehlo - always start with EHLO. */
    public static final Parameter<Boolean> SMTP_ALWAYS_SEND_EHLO = register(Parameter.bool("smtp_always_send_ehlo", "yes",
            "Always send EHLO at the start of an SMTP session (no: only when the greeting says ESMTP)."));
    /** smtp_never_send_ehlo - always start with HELO. */
    public static final Parameter<Boolean> SMTP_NEVER_SEND_EHLO = register(Parameter.bool("smtp_never_send_ehlo", "no",
            "Never send EHLO at the start of an SMTP session."));
    /** smtp_skip_5xx_greeting - skip servers that greet with 5xx instead of bouncing. */
    public static final Parameter<Boolean> SMTP_SKIP_5XX_GREETING = register(Parameter.bool("smtp_skip_5xx_greeting", "yes",
            "Skip SMTP servers that greet with a 5XX status code (no: such a greeting bounces the mail)."));
    /** smtp_skip_quit_response - do not wait for the reply to QUIT. */
    public static final Parameter<Boolean> SMTP_SKIP_QUIT_RESPONSE = register(Parameter.bool("smtp_skip_quit_response",
            "yes", "Do not wait for the response to the SMTP QUIT command."));
    /** smtp_quote_rfc821_envelope - quote local parts in MAIL FROM and RCPT TO. */
    public static final Parameter<Boolean> SMTP_QUOTE_RFC821_ENVELOPE = register(Parameter.bool(
            "smtp_quote_rfc821_envelope", "yes",
            "Quote addresses in SMTP MAIL FROM and RCPT TO commands as required by RFC 821/5321."));
    /** smtp_discard_ehlo_keywords - EHLO keywords the client ignores. */
    public static final Parameter<List<String>> SMTP_DISCARD_EHLO_KEYWORDS = register(Parameter.list(
            "smtp_discard_ehlo_keywords", "",
            "A case insensitive list of EHLO keywords (pipelining, size, 8bitmime, dsn, smtputf8, ...) that the "
                    + "SMTP client will ignore in the EHLO response."));
    /** smtp_bind_address - the local IPv4 address of outgoing connections. */
    public static final Parameter<String> SMTP_BIND_ADDRESS = register(Parameter.string("smtp_bind_address", "",
            "An optional numerical network address that the SMTP client binds to when making an IPv4 connection."));
    /** smtp_bind_address6 - the local IPv6 address of outgoing connections. */
    public static final Parameter<String> SMTP_BIND_ADDRESS6 = register(Parameter.string("smtp_bind_address6", "",
            "An optional numerical network address that the SMTP client binds to when making an IPv6 connection."));
    /** smtp_connection_cache_on_demand - cache sessions while a destination has a backlog. */
    public static final Parameter<Boolean> SMTP_CONNECTION_CACHE_ON_DEMAND = register(Parameter.bool(
            "smtp_connection_cache_on_demand", "yes",
            "Temporarily enable the SMTP connection cache while a destination has a high volume of mail in the "
                    + "active queue: the queue manager marks a delivery when its destination (transport and next "
                    + "hop) has a backlog - deliveries following each other within a second, more of them waiting "
                    + "than the destination concurrency limit lets run, or more recipients of the same message - "
                    + "and only then is the session kept for smtp_connection_cache_time_limit; a one-off message "
                    + "closes its connection. Destinations in smtp_connection_cache_destinations are always cached."));
    /** smtp_connection_cache_destinations - destinations whose sessions are always cached. */
    public static final Parameter<List<String>> SMTP_CONNECTION_CACHE_DESTINATIONS = register(Parameter.list(
            "smtp_connection_cache_destinations", "",
            "Permanently enable SMTP connection caching for these destinations (domain, [host], host:port)."));
    /** smtp_connection_reuse_count_limit - reuses of a cached session (Postfix 3.4). */
    public static final Parameter<Integer> SMTP_CONNECTION_REUSE_COUNT_LIMIT = register(Parameter.integer(
            "smtp_connection_reuse_count_limit", "0",
            "When SMTP connection caching is enabled, the number of times that an SMTP session may be reused "
                    + "before it is closed, or zero (no limit): with a limit of N a session carries up to N+1 "
                    + "mail transactions."));
    /** smtp_connection_reuse_time_limit - how long after it was opened a session may start a transaction. */
    public static final Parameter<Duration> SMTP_CONNECTION_REUSE_TIME_LIMIT = register(Parameter.time(
            "smtp_connection_reuse_time_limit", "300s", ChronoUnit.SECONDS,
            "When SMTP connection caching is enabled, the amount of time since an SMTP session was opened after "
                    + "which it is no longer reused for a new mail transaction."));
    /** smtp_connection_cache_reuse_limit - the Postfix 2.2 name of smtp_connection_reuse_count_limit. */
    public static final Parameter<Integer> SMTP_CONNECTION_CACHE_REUSE_LIMIT = register(Parameter.integer(
            "smtp_connection_cache_reuse_limit", "$smtp_connection_reuse_count_limit",
            "Postfix 2.2 name, still accepted: when set it overrides smtp_connection_reuse_count_limit (the number "
                    + "of times a cached SMTP session may be reused, 0 = no limit); it no longer defaults to 10."));
    /** smtp_connection_cache_time_limit - idle time of a cached session. */
    public static final Parameter<Duration> SMTP_CONNECTION_CACHE_TIME_LIMIT = register(Parameter.time(
            "smtp_connection_cache_time_limit", "2s", ChronoUnit.SECONDS,
            "When SMTP connection caching is enabled, how long an unused SMTP client session is kept for reuse."));
    /** default_destination_concurrency_limit - parallel deliveries per destination. */
    public static final Parameter<Integer> DEFAULT_DESTINATION_CONCURRENCY_LIMIT = register(Parameter.integer(
            "default_destination_concurrency_limit", "20",
            "The default maximal number of parallel deliveries to the same destination."));
    /** smtp_destination_concurrency_limit - parallel SMTP deliveries per destination. */
    public static final Parameter<Integer> SMTP_DESTINATION_CONCURRENCY_LIMIT = register(Parameter.integer(
            "smtp_destination_concurrency_limit", "$default_destination_concurrency_limit",
            "The maximal number of parallel deliveries to the same destination via the smtp transport; 0: none."));

    /** lmtp_randomize_addresses - shuffle the addresses of an LMTP host. */
    public static final Parameter<Boolean> LMTP_RANDOMIZE_ADDRESSES = register(Parameter.bool("lmtp_randomize_addresses",
            "yes", "Randomize the order of equal-preference LMTP server host addresses."));
    /** lmtp_mx_address_limit - the addresses an LMTP host lookup may yield. */
    public static final Parameter<Integer> LMTP_MX_ADDRESS_LIMIT = register(Parameter.integer("lmtp_mx_address_limit", "5",
            "The maximal number of LMTP server IP addresses tried per delivery, or zero (no limit)."));
    /** lmtp_mx_session_limit - LMTP sessions per delivery. */
    public static final Parameter<Integer> LMTP_MX_SESSION_LIMIT = register(Parameter.integer("lmtp_mx_session_limit", "2",
            "The maximal number of LMTP sessions per delivery request before giving up, or zero (no limit)."));
    /** lmtp_host_lookup - dns, native or both, for LMTP host lookups. */
    public static final Parameter<List<String>> LMTP_HOST_LOOKUP = register(Parameter.list("lmtp_host_lookup", "dns",
            "What mechanisms the LMTP client uses to look up a host's IP address: dns, native, or both in order."));
    /** lmtp_skip_5xx_greeting - skip LMTP servers that greet with 5xx. */
    public static final Parameter<Boolean> LMTP_SKIP_5XX_GREETING = register(Parameter.bool("lmtp_skip_5xx_greeting", "yes",
            "Skip LMTP servers that greet with a 5XX status code."));
    /** lmtp_skip_quit_response - do not wait for the reply to QUIT. */
    public static final Parameter<Boolean> LMTP_SKIP_QUIT_RESPONSE = register(Parameter.bool("lmtp_skip_quit_response",
            "no", "Do not wait for the server response after sending QUIT to an LMTP server."));
    /** lmtp_quote_rfc821_envelope - quote local parts in MAIL FROM and RCPT TO. */
    public static final Parameter<Boolean> LMTP_QUOTE_RFC821_ENVELOPE = register(Parameter.bool(
            "lmtp_quote_rfc821_envelope", "yes",
            "Quote addresses in LMTP MAIL FROM and RCPT TO commands as required by RFC 821/5321."));
    /** lmtp_discard_lhlo_keywords - LHLO keywords the client ignores. */
    public static final Parameter<List<String>> LMTP_DISCARD_LHLO_KEYWORDS = register(Parameter.list(
            "lmtp_discard_lhlo_keywords", "",
            "A case insensitive list of LHLO keywords that the LMTP client will ignore in the LHLO response."));
    /** lmtp_bind_address - the local IPv4 address of outgoing LMTP connections. */
    public static final Parameter<String> LMTP_BIND_ADDRESS = register(Parameter.string("lmtp_bind_address", "",
            "An optional numerical network address that the LMTP client binds to when making an IPv4 connection."));
    /** lmtp_bind_address6 - the local IPv6 address of outgoing LMTP connections. */
    public static final Parameter<String> LMTP_BIND_ADDRESS6 = register(Parameter.string("lmtp_bind_address6", "",
            "An optional numerical network address that the LMTP client binds to when making an IPv6 connection."));
    /** lmtp_cache_connection - keep LMTP sessions open between deliveries. */
    public static final Parameter<Boolean> LMTP_CACHE_CONNECTION = register(Parameter.bool("lmtp_cache_connection", "yes",
            "Cache the connection to the LMTP server between deliveries (Postfix 2.2 lmtp(8))."));
    /** lmtp_connection_cache_time_limit - idle time of a cached LMTP session. */
    public static final Parameter<Duration> LMTP_CONNECTION_CACHE_TIME_LIMIT = register(Parameter.time(
            "lmtp_connection_cache_time_limit", "$max_idle", ChronoUnit.SECONDS,
            "How long an unused LMTP client session is kept for reuse before it is closed with QUIT; default "
                    + "$max_idle, as lmtp(8) with lmtp_cache_connection (Postfix 3: $smtp_connection_cache_time_limit)."));
    /** lmtp_connection_reuse_count_limit - reuses of a cached LMTP session. */
    public static final Parameter<Integer> LMTP_CONNECTION_REUSE_COUNT_LIMIT = register(Parameter.integer(
            "lmtp_connection_reuse_count_limit", "0",
            "The number of times that a cached LMTP session may be reused before it is closed, or zero (no limit): "
                    + "with a limit of N a session carries up to N+1 mail transactions."));
    /** lmtp_connection_reuse_time_limit - how long after it was opened an LMTP session may start a transaction. */
    public static final Parameter<Duration> LMTP_CONNECTION_REUSE_TIME_LIMIT = register(Parameter.time(
            "lmtp_connection_reuse_time_limit", "300s", ChronoUnit.SECONDS,
            "The amount of time since an LMTP session was opened after which it is no longer reused for a new "
                    + "mail transaction."));
    /** lmtp_destination_concurrency_limit - parallel LMTP deliveries per destination. */
    public static final Parameter<Integer> LMTP_DESTINATION_CONCURRENCY_LIMIT = register(Parameter.integer(
            "lmtp_destination_concurrency_limit", "$default_destination_concurrency_limit",
            "The maximal number of parallel deliveries to the same destination via the lmtp transport; 0: none."));

    // ---- smtp(8)/lmtp(8) connection cache, idle sessions (issue 4)

    /** max_idle - how long an idle client session is kept (Postfix: an idle daemon process). */
    public static final Parameter<Duration> MAX_IDLE = register(Parameter.time("max_idle", "100s", ChronoUnit.SECONDS,
            "The maximum amount of time that an idle Postfix daemon process waits for the next service request; "
                    + "in Postern the default of lmtp_connection_cache_time_limit: how long lmtp_cache_connection "
                    + "keeps an unused LMTP session open."));

    /** smtp_tls_security_level - the SMTP client's TLS policy. */
    public static final Parameter<String> SMTP_TLS_SECURITY_LEVEL = register(Parameter.choice("smtp_tls_security_level", "",
            "The default SMTP client TLS security level: empty or none, may (opportunistic), encrypt, dane "
                    + "(opportunistic DANE, RFC 7672), dane-only (mandatory DANE), verify (trusted certificate "
                    + "matching the MX host name) or secure (matching the next-hop domain).",
            "", "none", "may", "encrypt", "dane", "dane-only", "verify", "secure"));
    /** smtp_dns_support_level - DNS features of the SMTP client; dnssec is what DANE needs. */
    public static final Parameter<String> SMTP_DNS_SUPPORT_LEVEL = register(Parameter.choice("smtp_dns_support_level", "",
            "The level of DNS support in the SMTP client: empty (disable_dns_lookups decides), disabled, enabled, "
                    + "or dnssec (DNSSEC-validated lookups through a validating resolver, required by the dane "
                    + "and dane-only TLS security levels).",
            "", "disabled", "enabled", "dnssec"));
    /** smtp_tls_dane_insecure_mx_policy - the TLS policy for an MX host found by an insecure MX lookup at level dane. */
    public static final Parameter<String> SMTP_TLS_DANE_INSECURE_MX_POLICY = register(Parameter.choice(
            "smtp_tls_dane_insecure_mx_policy", "",
            "The TLS policy for MX hosts with secure TLSA records when the next-hop security level is dane but "
                    + "the MX records were found by an insecure MX lookup: may (TLSA ignored), encrypt (TLS "
                    + "required, no authentication) or dane (TLSA used, success logged as Trusted); empty is "
                    + "Postfix's default: dane when smtp_tls_security_level = dane, else may.",
            "", "may", "encrypt", "dane"));
    /** smtp_tls_CAfile - trusted CA certificates (PEM) for server certificate checks. */
    public static final Parameter<String> SMTP_TLS_CAFILE = register(Parameter.string("smtp_tls_CAfile", "",
            "A file with PEM certificates of the CAs the SMTP client trusts; empty: the Java runtime's trust store."));
    /** smtp_tls_CApath - a directory of trusted CA certificates (PEM). */
    public static final Parameter<String> SMTP_TLS_CAPATH = register(Parameter.string("smtp_tls_CApath", "",
            "A directory of PEM CA certificates (every readable file) that the SMTP client trusts."));
    /** smtp_tls_policy_maps - per-destination TLS policy. */
    public static final Parameter<List<String>> SMTP_TLS_POLICY_MAPS = register(Parameter.list("smtp_tls_policy_maps", "",
            "Lookup tables from next-hop destination (domain, .parent, [host]:port) to a TLS policy "
                    + "(\"level [match=name:name]\")."));
    /** smtp_mta_sts_enable - apply MTA-STS policies (RFC 8461) in the SMTP client (Postern). */
    public static final Parameter<Boolean> SMTP_MTA_STS_ENABLE = register(Parameter.bool("smtp_mta_sts_enable", "no",
            "Postern: look up and apply the MTA-STS policy (RFC 8461) of a recipient domain that is delivered "
                    + "to by MX lookup and has no smtp_tls_policy_maps entry: in enforce mode only the MX hosts "
                    + "the policy names are tried, with TLS and a certificate that is trusted and matches the MX "
                    + "host (otherwise the mail is deferred, never sent in the clear); in testing mode failures "
                    + "are logged only. Off by default: it makes the SMTP client fetch https://mta-sts.<domain>/ "
                    + "for the domains it sends to (outgoing HTTPS, the Java runtime's trust store) and can defer "
                    + "mail that Postfix's defaults would send, so an administrator turns it on deliberately; "
                    + "Postfix itself needs an outside policy server for this."));
    /** smtp_mta_sts_cache_size - MTA-STS policies kept in memory (Postern). */
    public static final Parameter<Integer> SMTP_MTA_STS_CACHE_SIZE = register(Parameter.integer("smtp_mta_sts_cache_size",
            "10000", "Postern: the number of recipient domains whose MTA-STS policy the SMTP client keeps in memory; "
                    + "when more are seen, expired policies and then the least recently used go."));
    /** smtp_mta_sts_max_age_limit - the longest time an MTA-STS policy is cached (Postern). */
    public static final Parameter<Duration> SMTP_MTA_STS_MAX_AGE_LIMIT = register(Parameter.time(
            "smtp_mta_sts_max_age_limit", "31557600s", ChronoUnit.SECONDS,
            "Postern: the longest time an MTA-STS policy is used from the cache, whatever its max_age says "
                    + "(RFC 8461 allows up to 31557600 seconds)."));
    /** smtp_mta_sts_fetch_timeout - the time limit of one MTA-STS policy fetch (Postern). */
    public static final Parameter<Duration> SMTP_MTA_STS_FETCH_TIMEOUT = register(Parameter.time(
            "smtp_mta_sts_fetch_timeout", "60s", ChronoUnit.SECONDS,
            "Postern: the time limit for fetching an MTA-STS policy over HTTPS (connect, handshake and "
                    + "response together); more than 60s is taken as 60s (RFC 8461 section 3.3)."));
    /** smtp_mta_sts_CAfile - the trust anchors of the MTA-STS policy fetch (Postern). */
    public static final Parameter<String> SMTP_MTA_STS_CAFILE = register(Parameter.string("smtp_mta_sts_CAfile", "",
            "Postern: a file with PEM certificates of the CAs trusted for the HTTPS certificate of "
                    + "mta-sts.<domain> when an MTA-STS policy is fetched; empty: the Java runtime's trust store. "
                    + "(The MX hosts' certificates are checked against smtp_tls_CAfile/smtp_tls_CApath, as at the "
                    + "verify level.)"));
    /** smtp_tls_verify_cert_match - the names a verify-level certificate must match. */
    public static final Parameter<List<String>> SMTP_TLS_VERIFY_CERT_MATCH = register(Parameter.list("smtp_tls_verify_cert_match",
            "hostname", "How the server certificate is matched at the verify level: hostname (the MX host), "
                    + "nexthop, dot-nexthop or literal names."));
    /** smtp_tls_secure_cert_match - the names a secure-level certificate must match. */
    public static final Parameter<List<String>> SMTP_TLS_SECURE_CERT_MATCH = register(Parameter.list("smtp_tls_secure_cert_match",
            "nexthop, dot-nexthop", "How the server certificate is matched at the secure level."));
    /** smtp_starttls_timeout - the time limit of the TLS handshake. */
    public static final Parameter<Duration> SMTP_STARTTLS_TIMEOUT = register(Parameter.time("smtp_starttls_timeout", "300s",
            ChronoUnit.SECONDS, "The SMTP client time limit for the TLS handshake."));
    /** lmtp_tls_security_level - the LMTP client's TLS policy. */
    public static final Parameter<String> LMTP_TLS_SECURITY_LEVEL = register(Parameter.choice("lmtp_tls_security_level", "",
            "The default LMTP client TLS security level (TCP only): none, may, encrypt, dane, dane-only, verify "
                    + "or secure.",
            "", "none", "may", "encrypt", "dane", "dane-only", "verify", "secure"));
    /** lmtp_dns_support_level - DNS features of the LMTP client. */
    public static final Parameter<String> LMTP_DNS_SUPPORT_LEVEL = register(Parameter.choice("lmtp_dns_support_level", "",
            "The level of DNS support in the LMTP client: empty (disable_dns_lookups decides), disabled, enabled "
                    + "or dnssec.",
            "", "disabled", "enabled", "dnssec"));
    /** lmtp_tls_CAfile - trusted CA certificates for the LMTP client. */
    public static final Parameter<String> LMTP_TLS_CAFILE = register(Parameter.string("lmtp_tls_CAfile", "",
            "A file with PEM certificates of the CAs the LMTP client trusts."));
    /** lmtp_tls_CApath - a directory of trusted CA certificates for the LMTP client. */
    public static final Parameter<String> LMTP_TLS_CAPATH = register(Parameter.string("lmtp_tls_CApath", "",
            "A directory of PEM CA certificates that the LMTP client trusts."));
    /** lmtp_tls_policy_maps - per-destination TLS policy of the LMTP client. */
    public static final Parameter<List<String>> LMTP_TLS_POLICY_MAPS = register(Parameter.list("lmtp_tls_policy_maps", "",
            "Lookup tables from LMTP next-hop destination to a TLS policy."));
    /** lmtp_tls_verify_cert_match - names for the verify level (LMTP). */
    public static final Parameter<List<String>> LMTP_TLS_VERIFY_CERT_MATCH = register(Parameter.list("lmtp_tls_verify_cert_match",
            "hostname", "How the LMTP server certificate is matched at the verify level."));
    /** lmtp_tls_secure_cert_match - names for the secure level (LMTP). */
    public static final Parameter<List<String>> LMTP_TLS_SECURE_CERT_MATCH = register(Parameter.list("lmtp_tls_secure_cert_match",
            "nexthop", "How the LMTP server certificate is matched at the secure level."));
    /** lmtp_starttls_timeout - the time limit of the LMTP TLS handshake. */
    public static final Parameter<Duration> LMTP_STARTTLS_TIMEOUT = register(Parameter.time("lmtp_starttls_timeout", "300s",
            ChronoUnit.SECONDS, "The LMTP client time limit for the TLS handshake."));

    // ---- smtp(8)/lmtp(8) TLS: the Postfix 2.2 names, client keys, protocols and ciphers, logging (issue 12)

    /** smtp_use_tls - Postfix 2.2: opportunistic TLS, when smtp_tls_security_level is empty. */
    public static final Parameter<Boolean> SMTP_USE_TLS = register(Parameter.bool("smtp_use_tls", "no",
            "Postfix 2.2 name: with an empty smtp_tls_security_level, yes means level may (TLS when the server "
                    + "offers STARTTLS, else the clear)."));
    /** smtp_enforce_tls - Postfix 2.2: mandatory TLS, when smtp_tls_security_level is empty. */
    public static final Parameter<Boolean> SMTP_ENFORCE_TLS = register(Parameter.bool("smtp_enforce_tls", "no",
            "Postfix 2.2 name: with an empty smtp_tls_security_level, yes means level verify (or encrypt when "
                    + "smtp_tls_enforce_peername = no): never send mail in the clear."));
    /** smtp_tls_enforce_peername - Postfix 2.2: with smtp_enforce_tls, verify the server's name. */
    public static final Parameter<Boolean> SMTP_TLS_ENFORCE_PEERNAME = register(Parameter.bool(
            "smtp_tls_enforce_peername", "yes",
            "Postfix 2.2 name: with smtp_enforce_tls = yes, require a trusted certificate that names the server "
                    + "(level verify); no gives level encrypt."));
    /** smtp_tls_per_site - Postfix 2.2: TLS actions by next-hop domain and server host name. */
    public static final Parameter<List<String>> SMTP_TLS_PER_SITE = register(Parameter.list("smtp_tls_per_site", "",
            "Postfix 2.2 name: lookup tables from next-hop domain and from server host name to NONE, MAY, "
                    + "MUST_NOPEERMATCH (encrypt) or MUST (verify), combined as TLS_README says; ignored when "
                    + "smtp_tls_policy_maps is set."));
    /** lmtp_use_tls - the LMTP client's smtp_use_tls. */
    public static final Parameter<Boolean> LMTP_USE_TLS = register(Parameter.bool("lmtp_use_tls", "no",
            "Postfix 2.2 name: opportunistic TLS in the LMTP client when lmtp_tls_security_level is empty."));
    /** lmtp_enforce_tls - the LMTP client's smtp_enforce_tls. */
    public static final Parameter<Boolean> LMTP_ENFORCE_TLS = register(Parameter.bool("lmtp_enforce_tls", "no",
            "Postfix 2.2 name: mandatory TLS in the LMTP client when lmtp_tls_security_level is empty."));
    /** lmtp_tls_enforce_peername - the LMTP client's smtp_tls_enforce_peername. */
    public static final Parameter<Boolean> LMTP_TLS_ENFORCE_PEERNAME = register(Parameter.bool(
            "lmtp_tls_enforce_peername", "yes", "Postfix 2.2 name: with lmtp_enforce_tls, level verify (yes) or encrypt."));
    /** lmtp_tls_per_site - the LMTP client's smtp_tls_per_site. */
    public static final Parameter<List<String>> LMTP_TLS_PER_SITE = register(Parameter.list("lmtp_tls_per_site", "",
            "Postfix 2.2 name: the LMTP client's per-site TLS actions (NONE, MAY, MUST_NOPEERMATCH, MUST)."));

    /** smtp_tls_cert_file - the SMTP client's certificate (PEM), for servers that ask for one. */
    public static final Parameter<String> SMTP_TLS_CERT_FILE = register(Parameter.string("smtp_tls_cert_file", "",
            "File with the SMTP client's RSA certificate (and chain) in PEM format, presented when a server asks "
                    + "for a client certificate; empty: none."));
    /** smtp_tls_key_file - the SMTP client's private key (PEM). */
    public static final Parameter<String> SMTP_TLS_KEY_FILE = register(Parameter.string("smtp_tls_key_file",
            "$smtp_tls_cert_file", "File with the SMTP client's RSA private key in PEM format (PKCS#8, unencrypted)."));
    /** smtp_tls_dcert_file - the SMTP client's DSA certificate (PEM). */
    public static final Parameter<String> SMTP_TLS_DCERT_FILE = register(Parameter.string("smtp_tls_dcert_file", "",
            "File with the SMTP client's DSA certificate in PEM format (Java offers DSA in TLS 1.2 only)."));
    /** smtp_tls_dkey_file - the SMTP client's DSA private key (PEM). */
    public static final Parameter<String> SMTP_TLS_DKEY_FILE = register(Parameter.string("smtp_tls_dkey_file",
            "$smtp_tls_dcert_file", "File with the SMTP client's DSA private key in PEM format."));
    /** smtp_tls_eccert_file - the SMTP client's ECDSA certificate (PEM). */
    public static final Parameter<String> SMTP_TLS_ECCERT_FILE = register(Parameter.string("smtp_tls_eccert_file", "",
            "File with the SMTP client's ECDSA certificate in PEM format."));
    /** smtp_tls_eckey_file - the SMTP client's ECDSA private key (PEM). */
    public static final Parameter<String> SMTP_TLS_ECKEY_FILE = register(Parameter.string("smtp_tls_eckey_file",
            "$smtp_tls_eccert_file", "File with the SMTP client's ECDSA private key in PEM format."));
    /** smtp_tls_chain_files - the SMTP client's keys and certificate chains, each file key first. */
    public static final Parameter<List<String>> SMTP_TLS_CHAIN_FILES = register(Parameter.list("smtp_tls_chain_files", "",
            "Files each with a private key followed by its certificate chain (PEM), as Postfix 3.4; when set, "
                    + "the cert/key file parameters are ignored."));
    /** smtp_tls_keystore_file - the SMTP client's key and certificate in a Java key store (Postern). */
    public static final Parameter<String> SMTP_TLS_KEYSTORE_FILE = register(Parameter.string("smtp_tls_keystore_file", "",
            "Postern: a PKCS#12 or JKS key store with the SMTP client's private key and certificate chain, "
                    + "instead of the PEM files (a relative name is found in jboss.server.config.dir)."));
    /** smtp_tls_keystore_type - its format. */
    public static final Parameter<String> SMTP_TLS_KEYSTORE_TYPE = register(Parameter.choice("smtp_tls_keystore_type",
            "PKCS12", "Postern: the format of smtp_tls_keystore_file, PKCS12 or JKS.", "PKCS12", "JKS"));
    /** smtp_tls_keystore_password - the password of the store and of its key. */
    public static final Parameter<String> SMTP_TLS_KEYSTORE_PASSWORD = register(Parameter.string(
            "smtp_tls_keystore_password", "", "Postern: the password of smtp_tls_keystore_file and of its key."));
    /** smtp_tls_keystore_alias - which key entry. */
    public static final Parameter<String> SMTP_TLS_KEYSTORE_ALIAS = register(Parameter.string("smtp_tls_keystore_alias",
            "", "Postern: the key entry of smtp_tls_keystore_file; empty: the store must hold exactly one key."));
    /** lmtp_tls_cert_file - the LMTP client's certificate. */
    public static final Parameter<String> LMTP_TLS_CERT_FILE = register(Parameter.string("lmtp_tls_cert_file", "",
            "File with the LMTP client's RSA certificate in PEM format."));
    /** lmtp_tls_key_file - the LMTP client's private key. */
    public static final Parameter<String> LMTP_TLS_KEY_FILE = register(Parameter.string("lmtp_tls_key_file",
            "$lmtp_tls_cert_file", "File with the LMTP client's RSA private key in PEM format."));
    /** lmtp_tls_dcert_file - the LMTP client's DSA certificate. */
    public static final Parameter<String> LMTP_TLS_DCERT_FILE = register(Parameter.string("lmtp_tls_dcert_file", "",
            "File with the LMTP client's DSA certificate in PEM format."));
    /** lmtp_tls_dkey_file - the LMTP client's DSA key. */
    public static final Parameter<String> LMTP_TLS_DKEY_FILE = register(Parameter.string("lmtp_tls_dkey_file",
            "$lmtp_tls_dcert_file", "File with the LMTP client's DSA private key in PEM format."));
    /** lmtp_tls_eccert_file - the LMTP client's ECDSA certificate. */
    public static final Parameter<String> LMTP_TLS_ECCERT_FILE = register(Parameter.string("lmtp_tls_eccert_file", "",
            "File with the LMTP client's ECDSA certificate in PEM format."));
    /** lmtp_tls_eckey_file - the LMTP client's ECDSA key. */
    public static final Parameter<String> LMTP_TLS_ECKEY_FILE = register(Parameter.string("lmtp_tls_eckey_file",
            "$lmtp_tls_eccert_file", "File with the LMTP client's ECDSA private key in PEM format."));
    /** lmtp_tls_chain_files - the LMTP client's key and chain files. */
    public static final Parameter<List<String>> LMTP_TLS_CHAIN_FILES = register(Parameter.list("lmtp_tls_chain_files", "",
            "Files each with a private key followed by its certificate chain (PEM), for the LMTP client."));
    /** lmtp_tls_keystore_file - the LMTP client's Java key store (Postern). */
    public static final Parameter<String> LMTP_TLS_KEYSTORE_FILE = register(Parameter.string("lmtp_tls_keystore_file", "",
            "Postern: a PKCS#12 or JKS key store with the LMTP client's private key and certificate chain."));
    /** lmtp_tls_keystore_type - its format. */
    public static final Parameter<String> LMTP_TLS_KEYSTORE_TYPE = register(Parameter.choice("lmtp_tls_keystore_type",
            "PKCS12", "Postern: the format of lmtp_tls_keystore_file, PKCS12 or JKS.", "PKCS12", "JKS"));
    /** lmtp_tls_keystore_password - the password of the store and of its key. */
    public static final Parameter<String> LMTP_TLS_KEYSTORE_PASSWORD = register(Parameter.string(
            "lmtp_tls_keystore_password", "", "Postern: the password of lmtp_tls_keystore_file and of its key."));
    /** lmtp_tls_keystore_alias - which key entry. */
    public static final Parameter<String> LMTP_TLS_KEYSTORE_ALIAS = register(Parameter.string("lmtp_tls_keystore_alias",
            "", "Postern: the key entry of lmtp_tls_keystore_file."));

    /** smtp_tls_protocols - TLS protocols at the opportunistic level. */
    public static final Parameter<List<String>> SMTP_TLS_PROTOCOLS = register(Parameter.list("smtp_tls_protocols",
            ">=TLSv1", "TLS protocols the SMTP client uses at level may: names to use, !names to exclude, "
                    + "or >=/<= bounds (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3); SSLv2/SSLv3 are never used."));
    /** smtp_tls_mandatory_protocols - TLS protocols when TLS is mandatory. */
    public static final Parameter<List<String>> SMTP_TLS_MANDATORY_PROTOCOLS = register(Parameter.list(
            "smtp_tls_mandatory_protocols", ">=TLSv1",
            "TLS protocols the SMTP client uses at the encrypt, verify and secure levels (same syntax)."));
    /** smtp_tls_ciphers - the cipher grade at the opportunistic level. */
    public static final Parameter<String> SMTP_TLS_CIPHERS = register(Parameter.choice("smtp_tls_ciphers", "medium",
            "The minimum cipher grade at level may: high, medium, low, export or null. Every suite the Java "
                    + "runtime enables is of OpenSSL's HIGH grade, so each grade gives the runtime's suites "
                    + "(narrow them with smtp_tls_exclude_ciphers).", "high", "medium", "low", "export", "null"));
    /** smtp_tls_mandatory_ciphers - the cipher grade when TLS is mandatory. */
    public static final Parameter<String> SMTP_TLS_MANDATORY_CIPHERS = register(Parameter.choice(
            "smtp_tls_mandatory_ciphers", "medium", "The minimum cipher grade at the encrypt, verify and secure "
                    + "levels.", "high", "medium", "low", "export", "null"));
    /** smtp_tls_exclude_ciphers - ciphers or cipher types never used. */
    public static final Parameter<List<String>> SMTP_TLS_EXCLUDE_CIPHERS = register(Parameter.list(
            "smtp_tls_exclude_ciphers", "", "Ciphers or cipher types the SMTP client never uses: OpenSSL names "
                    + "(ECDHE-RSA-AES128-SHA), standard names (TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA) or types "
                    + "(aNULL, eNULL, MD5, SHA1, RC4, DES, 3DES, AES128, AES256, CAMELLIA, CHACHA20, kRSA, "
                    + "aRSA, aECDSA, kDHE, kECDHE, AESGCM, AESCCM); TLS 1.3 suites are not affected, as in OpenSSL."));
    /** smtp_tls_mandatory_exclude_ciphers - more exclusions when TLS is mandatory. */
    public static final Parameter<List<String>> SMTP_TLS_MANDATORY_EXCLUDE_CIPHERS = register(Parameter.list(
            "smtp_tls_mandatory_exclude_ciphers", "", "Further ciphers excluded at the encrypt, verify and "
                    + "secure levels."));
    /** smtp_tls_cipherlist - Postfix 2.2: an OpenSSL cipher list. */
    public static final Parameter<String> SMTP_TLS_CIPHERLIST = register(Parameter.string("smtp_tls_cipherlist", "",
            "Postfix 2.2 name: an OpenSSL cipher list; its exclusions (!X, -X) are added to "
                    + "smtp_tls_exclude_ciphers, its selections are left to the Java runtime's defaults."));
    /** smtp_tls_scert_verifydepth - the longest server certificate chain trusted. */
    public static final Parameter<Integer> SMTP_TLS_SCERT_VERIFYDEPTH = register(Parameter.integer(
            "smtp_tls_scert_verifydepth", "9", "The verification depth for server certificates: 1 trusts a "
                    + "certificate issued directly by a CA of smtp_tls_CAfile/CApath."));
    /** smtp_tls_loglevel - TLS logging of the SMTP client. */
    public static final Parameter<Integer> SMTP_TLS_LOGLEVEL = register(Parameter.integer("smtp_tls_loglevel", "0",
            "0: no TLS logging but errors; 1: Postfix's summary line (\"Verified TLS connection established to "
                    + "...\"); 2 and more: also the server certificate's subject, issuer and fingerprint."));
    /** smtp_tls_note_starttls_offer - log servers that offer STARTTLS when TLS is not used with them. */
    public static final Parameter<Boolean> SMTP_TLS_NOTE_STARTTLS_OFFER = register(Parameter.bool(
            "smtp_tls_note_starttls_offer", "no",
            "Log \"Host offered STARTTLS: [name]\" for a server that offers STARTTLS when TLS is off for it."));
    /** smtp_tls_session_cache_database - whether TLS sessions are resumed. */
    public static final Parameter<String> SMTP_TLS_SESSION_CACHE_DATABASE = register(Parameter.string(
            "smtp_tls_session_cache_database", "",
            "Postfix: the file that smtp processes share TLS sessions through. Postern's client is one process: "
                    + "any non-empty value turns on its in-memory session cache (sessions resumed per server and "
                    + "port); the file itself is not used. Empty: no session is resumed, as with Postfix."));
    /** smtp_tls_session_cache_timeout - how long a TLS session may be resumed. */
    public static final Parameter<Duration> SMTP_TLS_SESSION_CACHE_TIMEOUT = register(Parameter.time(
            "smtp_tls_session_cache_timeout", "3600s", ChronoUnit.SECONDS,
            "How long a cached TLS session may be resumed (at most 8640000s)."));
    /** lmtp_tls_protocols - the LMTP client's smtp_tls_protocols. */
    public static final Parameter<List<String>> LMTP_TLS_PROTOCOLS = register(Parameter.list("lmtp_tls_protocols",
            ">=TLSv1", "TLS protocols the LMTP client uses at level may."));
    /** lmtp_tls_mandatory_protocols - the LMTP client's smtp_tls_mandatory_protocols. */
    public static final Parameter<List<String>> LMTP_TLS_MANDATORY_PROTOCOLS = register(Parameter.list(
            "lmtp_tls_mandatory_protocols", ">=TLSv1", "TLS protocols of the LMTP client when TLS is mandatory."));
    /** lmtp_tls_ciphers - the LMTP client's smtp_tls_ciphers. */
    public static final Parameter<String> LMTP_TLS_CIPHERS = register(Parameter.choice("lmtp_tls_ciphers", "medium",
            "The minimum cipher grade of the LMTP client at level may.", "high", "medium", "low", "export", "null"));
    /** lmtp_tls_mandatory_ciphers - the LMTP client's smtp_tls_mandatory_ciphers. */
    public static final Parameter<String> LMTP_TLS_MANDATORY_CIPHERS = register(Parameter.choice(
            "lmtp_tls_mandatory_ciphers", "medium", "The minimum cipher grade of the LMTP client when TLS is mandatory.",
            "high", "medium", "low", "export", "null"));
    /** lmtp_tls_exclude_ciphers - the LMTP client's smtp_tls_exclude_ciphers. */
    public static final Parameter<List<String>> LMTP_TLS_EXCLUDE_CIPHERS = register(Parameter.list(
            "lmtp_tls_exclude_ciphers", "", "Ciphers or cipher types the LMTP client never uses."));
    /** lmtp_tls_mandatory_exclude_ciphers - the LMTP client's smtp_tls_mandatory_exclude_ciphers. */
    public static final Parameter<List<String>> LMTP_TLS_MANDATORY_EXCLUDE_CIPHERS = register(Parameter.list(
            "lmtp_tls_mandatory_exclude_ciphers", "", "Further ciphers the LMTP client excludes when TLS is mandatory."));
    /** lmtp_tls_scert_verifydepth - the LMTP client's smtp_tls_scert_verifydepth. */
    public static final Parameter<Integer> LMTP_TLS_SCERT_VERIFYDEPTH = register(Parameter.integer(
            "lmtp_tls_scert_verifydepth", "9", "The verification depth for LMTP server certificates."));
    /** lmtp_tls_loglevel - the LMTP client's smtp_tls_loglevel. */
    public static final Parameter<Integer> LMTP_TLS_LOGLEVEL = register(Parameter.integer("lmtp_tls_loglevel", "0",
            "TLS logging of the LMTP client, as smtp_tls_loglevel."));
    /** lmtp_tls_note_starttls_offer - the LMTP client's smtp_tls_note_starttls_offer. */
    public static final Parameter<Boolean> LMTP_TLS_NOTE_STARTTLS_OFFER = register(Parameter.bool(
            "lmtp_tls_note_starttls_offer", "no", "Log LMTP servers that offer STARTTLS when TLS is off for them."));
    /** lmtp_tls_session_cache_database - the LMTP client's session cache switch. */
    public static final Parameter<String> LMTP_TLS_SESSION_CACHE_DATABASE = register(Parameter.string(
            "lmtp_tls_session_cache_database", "", "As smtp_tls_session_cache_database, for the LMTP client."));
    /** lmtp_tls_session_cache_timeout - the LMTP client's session cache lifetime. */
    public static final Parameter<Duration> LMTP_TLS_SESSION_CACHE_TIMEOUT = register(Parameter.time(
            "lmtp_tls_session_cache_timeout", "3600s", ChronoUnit.SECONDS,
            "How long a cached LMTP TLS session may be resumed."));

    // ---- the process model of smtp(8)/lmtp(8) and the rest of their seed manual pages (issue 12)

    /** config_directory - where main.cf and master.cf are (read-only in Postern). */
    public static final Parameter<String> CONFIG_DIRECTORY = register(Parameter.string("config_directory", "",
            "Read-only in Postern: main.cf and master.cf are in the directory the server was started with "
                    + "(system property postern.config.dir, else jboss.server.config.dir/postern; the commands' "
                    + "-c DIR), named in the mail log's reload line; a value in main.cf moves nothing, as with "
                    + "Postfix."));
    /** daemon_timeout - the longest one delivery request may take. */
    public static final Parameter<Duration> DAEMON_TIMEOUT = register(Parameter.time("daemon_timeout", "18000s",
            ChronoUnit.SECONDS, "How long the SMTP or LMTP client may take to handle one delivery request (one "
                    + "message to one next hop) before its watchdog closes the connection; the recipients are "
                    + "deferred (4.4.2)."));
    /** ipc_timeout - Postfix's internal channels. */
    public static final Parameter<Duration> IPC_TIMEOUT = register(Parameter.time("ipc_timeout", "3600s",
            ChronoUnit.SECONDS, "Not applicable in Postern: Postfix's limit on its internal communication "
                    + "channels; Postern's parts call each other inside one JVM (JCA, EJB), bounded by the "
                    + "transaction timeout."));
    /** max_use - requests per Postfix daemon process. */
    public static final Parameter<Integer> MAX_USE = register(Parameter.integer("max_use", "100",
            "Not applicable in Postern: Postfix's daemon processes exit after this many requests; Postern's "
                    + "services are threads of one long-running server (see the connection reuse limits for "
                    + "sessions)."));
    /** process_id - read-only: the process id. */
    public static final Parameter<String> PROCESS_ID = register(Parameter.string("process_id",
            String.valueOf(ProcessHandle.current().pid()),
            "Read-only: the process ID of the program that shows it - in Postern the server's JVM, the [pid] "
                    + "of every mail log line."));
    /** process_name - read-only: the program's name. */
    public static final Parameter<String> PROCESS_NAME = register(Parameter.string("process_name", "postern",
            "Read-only: the process name; the mail log names each service of the server (postern/smtpd, "
                    + "postern/smtp, postern/qmgr) after syslog_name."));
    /** syslog_facility - the syslog facility of the mail log. */
    public static final Parameter<String> SYSLOG_FACILITY = register(Parameter.string("syslog_facility", "mail",
            "Not applicable in Postern: the mail log is a WildFly log handler (postern-maillog); to send it to "
                    + "syslog, add a syslog-handler with facility MAIL_SYSTEM to the postern.maillog category."));
    /** tls_daemon_random_bytes - PRNG seeding by tlsmgr. */
    public static final Parameter<Integer> TLS_DAEMON_RANDOM_BYTES = register(Parameter.integer(
            "tls_daemon_random_bytes", "32", "Not applicable in Postern: Postfix's TLS daemons seed their PRNG "
                    + "from tlsmgr(8); the JVM's SecureRandom seeds itself from the operating system."));
    /** smtp_skip_4xx_greeting - Postfix 2.0: skip servers that greet with 4XX. */
    public static final Parameter<Boolean> SMTP_SKIP_4XX_GREETING = register(Parameter.bool("smtp_skip_4xx_greeting",
            "yes", "Not applicable in Postern: a 4XX greeting always means \"try the next server, later\", "
                    + "as in Postfix 2.1 and later, which dropped this Postfix 2.0 parameter."));
    /** mime_nesting_limit - multipart levels the MIME processor follows. */
    public static final Parameter<Integer> MIME_NESTING_LIMIT = register(Parameter.integer("mime_nesting_limit", "100",
            "The maximal recursion level of multipart and message/rfc822 parts that the 8BITMIME to 7BIT "
                    + "conversion follows; deeper parts are sent as they are."));
    /** mime_boundary_length_limit - significant length of a MIME boundary. */
    public static final Parameter<Integer> MIME_BOUNDARY_LENGTH_LIMIT = register(Parameter.integer(
            "mime_boundary_length_limit", "2048",
            "The maximal length of a MIME multipart boundary string that the 8BITMIME to 7BIT conversion "
                    + "compares; longer ones are truncated, as Postfix does."));
    /** smtp_pix_workarounds - what to do for a PIX-like greeting. */
    public static final Parameter<List<String>> SMTP_PIX_WORKAROUNDS = register(Parameter.list("smtp_pix_workarounds",
            "disable_esmtp,delay_dotcrlf", "The workarounds for a server whose greeting is only asterisks "
                    + "(a Cisco PIX \"mailguard\"): disable_esmtp (HELO, not EHLO), delay_dotcrlf (pause before "
                    + "the final \".\" of old mail)."));
    /** smtp_pix_workaround_maps - workarounds by server address. */
    public static final Parameter<List<String>> SMTP_PIX_WORKAROUND_MAPS = register(Parameter.list(
            "smtp_pix_workaround_maps", "", "Lookup tables by server IP address with the workarounds for that "
                    + "server, instead of smtp_pix_workarounds."));
    /** smtp_pix_workaround_delay_time - the pause before "." for delay_dotcrlf. */
    public static final Parameter<Duration> SMTP_PIX_WORKAROUND_DELAY_TIME = register(Parameter.time(
            "smtp_pix_workaround_delay_time", "10s", ChronoUnit.SECONDS,
            "How long the SMTP client pauses before sending \".<CR><LF>\" to a PIX firewall (delay_dotcrlf)."));
    /** smtp_pix_workaround_threshold_time - how old mail must be for delay_dotcrlf. */
    public static final Parameter<Duration> SMTP_PIX_WORKAROUND_THRESHOLD_TIME = register(Parameter.time(
            "smtp_pix_workaround_threshold_time", "500s", ChronoUnit.SECONDS,
            "How long a message must have been queued before the delay_dotcrlf workaround is used for it."));
    /** smtp_discard_ehlo_keyword_address_maps - EHLO keywords to ignore, by server address. */
    public static final Parameter<List<String>> SMTP_DISCARD_EHLO_KEYWORD_ADDRESS_MAPS = register(Parameter.list(
            "smtp_discard_ehlo_keyword_address_maps", "", "Lookup tables by server IP address with the EHLO "
                    + "keywords to ignore for that server, instead of smtp_discard_ehlo_keywords."));
    /** lmtp_discard_lhlo_keyword_address_maps - the LMTP client's. */
    public static final Parameter<List<String>> LMTP_DISCARD_LHLO_KEYWORD_ADDRESS_MAPS = register(Parameter.list(
            "lmtp_discard_lhlo_keyword_address_maps", "", "Lookup tables by LMTP server IP address with the LHLO "
                    + "keywords to ignore for that server."));

    /** smtp_sasl_auth_enable - SASL authentication in the SMTP client. */
    public static final Parameter<Boolean> SMTP_SASL_AUTH_ENABLE = register(Parameter.bool("smtp_sasl_auth_enable", "no",
            "Enable SASL authentication (AUTH PLAIN, LOGIN, CRAM-MD5) in the SMTP client."));
    /** smtp_sasl_password_maps - user:password per server or next hop. */
    public static final Parameter<List<String>> SMTP_SASL_PASSWORD_MAPS = register(Parameter.list("smtp_sasl_password_maps", "",
            "SMTP client lookup tables with one username:password entry per remote hostname or next-hop "
                    + "destination; no entry: no authentication."));
    /** smtp_sasl_security_options - which mechanisms may be used in the clear. */
    public static final Parameter<List<String>> SMTP_SASL_SECURITY_OPTIONS = register(Parameter.list("smtp_sasl_security_options",
            "noplaintext, noanonymous", "SMTP client SASL security options: noplaintext, noactive, nodictionary, "
                    + "noanonymous."));
    /** smtp_sasl_tls_security_options - which mechanisms may be used over TLS. */
    public static final Parameter<List<String>> SMTP_SASL_TLS_SECURITY_OPTIONS = register(Parameter.list(
            "smtp_sasl_tls_security_options", "$smtp_sasl_security_options",
            "The SMTP client SASL security options that apply over TLS."));
    /** smtp_sasl_mechanism_filter - the offered mechanisms the client considers. */
    public static final Parameter<List<String>> SMTP_SASL_MECHANISM_FILTER = register(Parameter.list("smtp_sasl_mechanism_filter",
            "", "If non-empty, the SASL mechanisms (of those the server offers) the SMTP client may use."));
    /** lmtp_sasl_auth_enable - SASL authentication in the LMTP client. */
    public static final Parameter<Boolean> LMTP_SASL_AUTH_ENABLE = register(Parameter.bool("lmtp_sasl_auth_enable", "no",
            "Enable SASL authentication in the LMTP client."));
    /** lmtp_sasl_password_maps - user:password per LMTP server. */
    public static final Parameter<List<String>> LMTP_SASL_PASSWORD_MAPS = register(Parameter.list("lmtp_sasl_password_maps", "",
            "LMTP client lookup tables with one username:password entry per host or destination."));
    /** lmtp_sasl_security_options - LMTP SASL security options. */
    public static final Parameter<List<String>> LMTP_SASL_SECURITY_OPTIONS = register(Parameter.list("lmtp_sasl_security_options",
            "noplaintext, noanonymous", "LMTP client SASL security options."));
    /** lmtp_sasl_tls_security_options - LMTP SASL security options over TLS. */
    public static final Parameter<List<String>> LMTP_SASL_TLS_SECURITY_OPTIONS = register(Parameter.list(
            "lmtp_sasl_tls_security_options", "$lmtp_sasl_security_options",
            "The LMTP client SASL security options that apply over TLS."));
    /** lmtp_sasl_mechanism_filter - the mechanisms the LMTP client considers. */
    public static final Parameter<List<String>> LMTP_SASL_MECHANISM_FILTER = register(Parameter.list("lmtp_sasl_mechanism_filter",
            "", "If non-empty, the SASL mechanisms the LMTP client may use."));
    /** lmtp_send_xforward_command - XFORWARD to an LMTP server that offers it. */
    public static final Parameter<Boolean> LMTP_SEND_XFORWARD_COMMAND = register(Parameter.bool("lmtp_send_xforward_command",
            "no", "Send the XFORWARD command when the LMTP server's LHLO response announces XFORWARD support."));
    /** smtp_send_xforward_command - XFORWARD to an SMTP server that offers it. */
    public static final Parameter<Boolean> SMTP_SEND_XFORWARD_COMMAND = register(Parameter.bool("smtp_send_xforward_command",
            "no", "Send the XFORWARD command when the SMTP server's EHLO response announces XFORWARD support."));
    /** lmtp_xforward_timeout - the time limit for XFORWARD to an LMTP server. */
    public static final Parameter<Duration> LMTP_XFORWARD_TIMEOUT = register(Parameter.time("lmtp_xforward_timeout",
            "300s", ChronoUnit.SECONDS, "The LMTP client time limit for sending the XFORWARD command, and for"
                    + " receiving the server response."));
    /** smtp_xforward_timeout - the time limit for XFORWARD to an SMTP server. */
    public static final Parameter<Duration> SMTP_XFORWARD_TIMEOUT = register(Parameter.time("smtp_xforward_timeout",
            "300s", ChronoUnit.SECONDS, "The SMTP client time limit for sending the XFORWARD command, and for"
                    + " receiving the remote SMTP server response."));
    /** smtp_generic_maps - address rewriting in the SMTP client (generic(5)). */
    public static final Parameter<List<String>> SMTP_GENERIC_MAPS = register(Parameter.list("smtp_generic_maps", "",
            "Optional lookup tables that perform address rewriting in the SMTP client (envelope sender, envelope "
                    + "recipients and the addresses of the primary message headers), typically to transform a "
                    + "locally valid address into a globally valid address; see generic(5)."));
    /** lmtp_generic_maps - address rewriting in the LMTP client (generic(5)). */
    public static final Parameter<List<String>> LMTP_GENERIC_MAPS = register(Parameter.list("lmtp_generic_maps", "",
            "Optional lookup tables that perform address rewriting in the LMTP client; see generic(5)."));
    /** recipient_delimiter - the characters that separate a local part from its extension. */
    public static final Parameter<String> RECIPIENT_DELIMITER = register(Parameter.string("recipient_delimiter", "",
            "The set of characters that can separate an email address localpart from its extension "
                    + "(user+foo); the first of them in a local part counts. In Postern it applies to the "
                    + "smtp_generic_maps and lmtp_generic_maps lookups."));
    /** propagate_unmatched_extensions - which tables copy an address extension into their result. */
    public static final Parameter<List<String>> PROPAGATE_UNMATCHED_EXTENSIONS = register(Parameter.list(
            "propagate_unmatched_extensions", "canonical, virtual",
            "What address lookup tables copy an address extension from the lookup key to the lookup result: "
                    + "canonical, virtual, alias, forward, include, generic. In Postern only generic "
                    + "(smtp_generic_maps, lmtp_generic_maps) is implemented."));
    // ---- smtpd access policy (issue 3: smtpd_check)

    /** smtpd_client_restrictions - restrictions on the client's address and name. */
    public static final Parameter<List<String>> SMTPD_CLIENT_RESTRICTIONS = register(Parameter.list("smtpd_client_restrictions",
            "", "Optional restrictions that the SMTP server applies in the context of a client connection request."));
    /** smtpd_helo_restrictions - restrictions on the HELO/EHLO hostname. */
    public static final Parameter<List<String>> SMTPD_HELO_RESTRICTIONS = register(Parameter.list("smtpd_helo_restrictions", "",
            "Optional restrictions that the SMTP server applies in the context of a client HELO command."));
    /** smtpd_sender_restrictions - restrictions on the MAIL FROM address. */
    public static final Parameter<List<String>> SMTPD_SENDER_RESTRICTIONS = register(Parameter.list("smtpd_sender_restrictions",
            "", "Optional restrictions that the SMTP server applies in the context of a client MAIL FROM command."));
    /** smtpd_relay_restrictions - mail relay control, before smtpd_recipient_restrictions. */
    public static final Parameter<List<String>> SMTPD_RELAY_RESTRICTIONS = register(Parameter.list("smtpd_relay_restrictions",
            "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
            "Access restrictions for mail relay control that the SMTP server applies in the context of the "
                    + "RCPT TO command, before smtpd_recipient_restrictions."));
    /** smtpd_recipient_restrictions - restrictions on the RCPT TO address. */
    public static final Parameter<List<String>> SMTPD_RECIPIENT_RESTRICTIONS = register(Parameter.list(
            "smtpd_recipient_restrictions", "",
            "Optional restrictions that the SMTP server applies in the context of a client RCPT TO command, "
                    + "after smtpd_relay_restrictions."));
    /** smtpd_data_restrictions - restrictions on the DATA command. */
    public static final Parameter<List<String>> SMTPD_DATA_RESTRICTIONS = register(Parameter.list("smtpd_data_restrictions", "",
            "Optional access restrictions that the SMTP server applies in the context of the SMTP DATA command."));
    /** smtpd_end_of_data_restrictions - restrictions after the final dot. */
    public static final Parameter<List<String>> SMTPD_END_OF_DATA_RESTRICTIONS = register(Parameter.list(
            "smtpd_end_of_data_restrictions", "",
            "Optional access restrictions that the SMTP server applies in the context of the SMTP END-OF-DATA "
                    + "command."));
    /** smtpd_etrn_restrictions - restrictions on ETRN. */
    public static final Parameter<List<String>> SMTPD_ETRN_RESTRICTIONS = register(Parameter.list("smtpd_etrn_restrictions", "",
            "Optional restrictions that the SMTP server applies in the context of a client ETRN command."));
    /** smtpd_delay_reject - evaluate client, HELO and sender restrictions at RCPT TO. */
    public static final Parameter<Boolean> SMTPD_DELAY_REJECT = register(Parameter.bool("smtpd_delay_reject", "yes",
            "Wait until the RCPT TO command before evaluating smtpd_client_restrictions, "
                    + "smtpd_helo_restrictions and smtpd_sender_restrictions."));
    /** smtpd_reject_unlisted_recipient - reject unknown recipients without an explicit restriction. */
    public static final Parameter<Boolean> SMTPD_REJECT_UNLISTED_RECIPIENT = register(Parameter.bool(
            "smtpd_reject_unlisted_recipient", "yes",
            "Reject mail for unknown recipient addresses (relay_recipient_maps) even without an explicit "
                    + "reject_unlisted_recipient restriction."));
    /** relay_recipient_maps - the valid recipients of relay_domains. */
    public static final Parameter<List<String>> RELAY_RECIPIENT_MAPS = register(Parameter.list("relay_recipient_maps", "",
            "Optional lookup tables with all valid addresses in the domains that match $relay_domains; "
                    + "empty means every address is valid."));
    /** allow_untrusted_routing - relay addresses with routing operators for untrusted clients. */
    public static final Parameter<Boolean> ALLOW_UNTRUSTED_ROUTING = register(Parameter.bool("allow_untrusted_routing", "no",
            "Forward mail with sender-specified routing (user[@%!]remote@relay_domain) from untrusted clients "
                    + "to destinations matching $relay_domains."));
    /** swap_bangpath - rewrite site!user into user@site for local domains. */
    public static final Parameter<Boolean> SWAP_BANGPATH = register(Parameter.bool("swap_bangpath", "yes",
            "Rewrite \"site!user\" into \"user@site\" when resolving addresses of local domains."));
    /** allow_percent_hack - rewrite user%domain into user@domain for local domains. */
    public static final Parameter<Boolean> ALLOW_PERCENT_HACK = register(Parameter.bool("allow_percent_hack", "yes",
            "Rewrite \"user%domain\" into \"user@domain\" when resolving addresses of local domains."));
    /** smtpd_null_access_lookup_key - the access map key of the null sender. */
    public static final Parameter<String> SMTPD_NULL_ACCESS_LOOKUP_KEY = register(Parameter.string(
            "smtpd_null_access_lookup_key", "<>",
            "The lookup key used by check_sender_access for the null sender address."));
    /** access_map_reject_code - the reply code of an access map REJECT. */
    public static final Parameter<Integer> ACCESS_MAP_REJECT_CODE = register(Parameter.integer("access_map_reject_code",
            "554", "The SMTP server response code when a client violates an access database restriction."));
    /** access_map_defer_code - the reply code of an access map DEFER. */
    public static final Parameter<Integer> ACCESS_MAP_DEFER_CODE = register(Parameter.integer("access_map_defer_code",
            "450", "The SMTP server response code when an access map result is DEFER."));
    /** invalid_hostname_reject_code - the reply code of reject_invalid_helo_hostname. */
    public static final Parameter<Integer> INVALID_HOSTNAME_REJECT_CODE = register(Parameter.integer(
            "invalid_hostname_reject_code", "501",
            "The SMTP server response code when the client HELO or EHLO parameter has invalid syntax "
                    + "(reject_invalid_helo_hostname)."));
    /** non_fqdn_reject_code - the reply code of the reject_non_fqdn_* restrictions. */
    public static final Parameter<Integer> NON_FQDN_REJECT_CODE = register(Parameter.integer("non_fqdn_reject_code", "504",
            "The SMTP server reply code when a client request is rejected by a reject_non_fqdn_* restriction."));
    /** reject_code - the reply code of the reject restriction. */
    public static final Parameter<Integer> REJECT_CODE = register(Parameter.integer("reject_code", "554",
            "The SMTP server response code when a remote SMTP client request is rejected by the reject restriction."));
    /** defer_code - the reply code of defer and defer_unauth_destination. */
    public static final Parameter<Integer> DEFER_CODE = register(Parameter.integer("defer_code", "450",
            "The SMTP server response code when a remote SMTP client request is rejected by the defer restriction "
                    + "(and defer_unauth_destination)."));
    /** relay_domains_reject_code - the reply code of reject_unauth_destination. */
    public static final Parameter<Integer> RELAY_DOMAINS_REJECT_CODE = register(Parameter.integer("relay_domains_reject_code",
            "554", "The SMTP server response code when a client request is rejected by reject_unauth_destination."));
    /** unknown_virtual_mailbox_reject_code - the reply to a recipient missing from virtual_mailbox_maps. */
    public static final Parameter<Integer> UNKNOWN_VIRTUAL_MAILBOX_REJECT_CODE = register(Parameter.integer(
            "unknown_virtual_mailbox_reject_code", "550",
            "The SMTP server response code when a recipient address matches $virtual_mailbox_domains and is not "
                    + "listed in $virtual_mailbox_maps."));
    /** unknown_relay_recipient_reject_code - the reply code for an address not in relay_recipient_maps. */
    public static final Parameter<Integer> UNKNOWN_RELAY_RECIPIENT_REJECT_CODE = register(Parameter.integer(
            "unknown_relay_recipient_reject_code", "550",
            "The SMTP server reply code when a recipient address matches $relay_domains and relay_recipient_maps "
                    + "does not list it."));
    /** unknown_address_reject_code - the reply code of reject_unknown_sender/recipient_domain. */
    public static final Parameter<Integer> UNKNOWN_ADDRESS_REJECT_CODE = register(Parameter.integer(
            "unknown_address_reject_code", "450",
            "The SMTP server reply code when a sender or recipient address is rejected by "
                    + "reject_unknown_sender_domain or reject_unknown_recipient_domain."));
    /** unknown_client_reject_code - the reply code of reject_unknown_(reverse_)client_hostname. */
    public static final Parameter<Integer> UNKNOWN_CLIENT_REJECT_CODE = register(Parameter.integer(
            "unknown_client_reject_code", "450",
            "The SMTP server reply code when a client without valid address <=> name mapping is rejected by "
                    + "reject_unknown_client_hostname or reject_unknown_reverse_client_hostname."));
    /** unknown_hostname_reject_code - the reply code of reject_unknown_helo_hostname. */
    public static final Parameter<Integer> UNKNOWN_HOSTNAME_REJECT_CODE = register(Parameter.integer(
            "unknown_hostname_reject_code", "450",
            "The SMTP server reply code when the HELO or EHLO hostname is rejected by "
                    + "reject_unknown_helo_hostname."));
    /** maps_rbl_reject_code - the reply code of reject_rbl_client and reject_maps_rbl. */
    public static final Parameter<Integer> MAPS_RBL_REJECT_CODE = register(Parameter.integer("maps_rbl_reject_code", "554",
            "The SMTP server reply code when a client is listed by reject_rbl_client or reject_maps_rbl."));
    /** maps_rbl_domains - the DNS blocklists of reject_maps_rbl. */
    public static final Parameter<List<String>> MAPS_RBL_DOMAINS = register(Parameter.list("maps_rbl_domains", "",
            "The DNS blocklist domains that the obsolete reject_maps_rbl restriction queries."));

    // ---- smtpd limits (issue 3)

    /** smtpd_junk_command_limit - NOOP, VRFY, ETRN and RSET commands before they count as errors. */
    public static final Parameter<Integer> SMTPD_JUNK_COMMAND_LIMIT = register(Parameter.integer("smtpd_junk_command_limit",
            "100", "The number of junk commands (NOOP, VRFY, ETRN or RSET) that a remote SMTP client can send "
                    + "before the server starts to increment the error counter with each junk command."));
    /** hopcount_limit - the maximal number of Received: headers. */
    public static final Parameter<Integer> HOPCOUNT_LIMIT = register(Parameter.integer("hopcount_limit", "50",
            "The maximal number of Received: message headers that is allowed in the primary message headers."));
    /** queue_minfree - the free space the queue file system must keep. */
    public static final Parameter<Long> QUEUE_MINFREE = register(Parameter.size("queue_minfree", "0",
            "The minimal amount of free space in bytes in the queue file system that is needed to receive mail; "
                    + "the SMTP server also wants 1.5 times message_size_limit free."));
    /** smtpd_client_connection_count_limit - simultaneous connections per client. */
    public static final Parameter<Integer> SMTPD_CLIENT_CONNECTION_COUNT_LIMIT = register(Parameter.integer(
            "smtpd_client_connection_count_limit", "50",
            "How many simultaneous connections any client is allowed to make to this service; 0 disables."));
    /** smtpd_client_connection_rate_limit - connection attempts per client per time unit. */
    public static final Parameter<Integer> SMTPD_CLIENT_CONNECTION_RATE_LIMIT = register(Parameter.integer(
            "smtpd_client_connection_rate_limit", "0",
            "The maximal number of connection attempts any client is allowed to make to this service per "
                    + "anvil_rate_time_unit; 0 disables."));
    /** anvil_rate_time_unit - the time unit of the rate limits. */
    public static final Parameter<Duration> ANVIL_RATE_TIME_UNIT = register(Parameter.time("anvil_rate_time_unit", "60s",
            ChronoUnit.SECONDS, "The time unit over which client connection rates are calculated."));
    /** smtpd_client_event_limit_exceptions - clients exempt from the connection limits. */
    public static final Parameter<List<String>> SMTPD_CLIENT_EVENT_LIMIT_EXCEPTIONS = register(Parameter.list(
            "smtpd_client_event_limit_exceptions", "$mynetworks",
            "Clients (network/mask or address) that are excluded from the smtpd_client_connection_count/rate_limit "
                    + "restrictions; Postfix's default is ${smtpd_client_connection_limit_exceptions:$mynetworks}."));
    // ---- smtpd TLS (issue 3)

    /** smtpd_tls_security_level - none, may (offer STARTTLS) or encrypt (require it). */
    public static final Parameter<String> SMTPD_TLS_SECURITY_LEVEL = register(Parameter.choice("smtpd_tls_security_level", "",
            "The SMTP TLS security level for the SMTP server: none (or empty), may (announce STARTTLS) or "
                    + "encrypt (announce STARTTLS and require it before MAIL FROM).", "", "none", "may", "encrypt"));
    /** smtpd_tls_cert_file - the server certificate (PEM), optionally with its key. */
    public static final Parameter<String> SMTPD_TLS_CERT_FILE = register(Parameter.string("smtpd_tls_cert_file", "",
            "File with the Postfix SMTP server RSA or ECDSA certificate chain in PEM format (the private key may "
                    + "be in the same file)."));
    /** smtpd_tls_key_file - the server private key (PEM, PKCS#8). */
    public static final Parameter<String> SMTPD_TLS_KEY_FILE = register(Parameter.string("smtpd_tls_key_file",
            "$smtpd_tls_cert_file",
            "File with the SMTP server private key in PEM format (PKCS#8, unencrypted); may be the certificate file."));
    /** smtpd_tls_keystore_file - a Java key store with the server key and certificate (Postern). */
    public static final Parameter<String> SMTPD_TLS_KEYSTORE_FILE = register(Parameter.string("smtpd_tls_keystore_file", "",
            "Postern: a PKCS#12 or JKS key store with the SMTP server's private key and certificate chain, instead "
                    + "of smtpd_tls_cert_file and smtpd_tls_key_file, such as WildFly's own application.keystore "
                    + "(a relative name is found in WildFly's configuration directory, jboss.server.config.dir)."));
    /** smtpd_tls_keystore_type - the key store format. */
    public static final Parameter<String> SMTPD_TLS_KEYSTORE_TYPE = register(Parameter.choice("smtpd_tls_keystore_type",
            "PKCS12", "Postern: the format of smtpd_tls_keystore_file, PKCS12 or JKS.", "PKCS12", "JKS"));
    /** smtpd_tls_keystore_password - the password of the store and of its key. */
    public static final Parameter<String> SMTPD_TLS_KEYSTORE_PASSWORD = register(Parameter.string(
            "smtpd_tls_keystore_password", "",
            "Postern: the password of smtpd_tls_keystore_file and of the key in it (as the credential-reference of "
                    + "a WildFly key-store); keep main.cf readable by the server's user only."));
    /** smtpd_tls_keystore_alias - which key entry of the store. */
    public static final Parameter<String> SMTPD_TLS_KEYSTORE_ALIAS = register(Parameter.string("smtpd_tls_keystore_alias",
            "",
            "Postern: the alias of the key entry in smtpd_tls_keystore_file; empty: the store must hold exactly one "
                    + "private key."));
    /** smtpd_tls_wrappermode - implicit TLS from the first byte (submissions, port 465). */
    public static final Parameter<Boolean> SMTPD_TLS_WRAPPERMODE = register(Parameter.bool("smtpd_tls_wrappermode", "no",
            "Run the SMTP server in TLS \"wrapper\" mode (implicit TLS), as usually set with master.cf -o for "
                    + "the submissions service on port 465."));
    // ---- smtpd SASL (issue 3)

    /** smtpd_sasl_auth_enable - offer and accept AUTH. */
    public static final Parameter<Boolean> SMTPD_SASL_AUTH_ENABLE = register(Parameter.bool("smtpd_sasl_auth_enable", "no",
            "Enable SASL authentication (AUTH PLAIN and LOGIN) in the SMTP server; needs an authenticator."));
    /** smtpd_sasl_type - the SASL plug-in: elytron (Postern's default) or dovecot. */
    public static final Parameter<String> SMTPD_SASL_TYPE = register(Parameter.choice("smtpd_sasl_type", "elytron",
            "The SASL plug-in type that the SMTP server uses for authentication: elytron (Postern's default), the "
                    + "WildFly Elytron security domain of the postern application-security-domain (ApplicationDomain "
                    + "unless changed with the WildFly CLI), or dovecot, a Dovecot auth server at smtpd_sasl_path. "
                    + "cyrus (Postfix's default) has no JVM implementation and means elytron, with a warning.",
            "elytron", "dovecot", "cyrus"));
    /** smtpd_sasl_path - where the SASL plug-in finds its server. */
    public static final Parameter<String> SMTPD_SASL_PATH = register(Parameter.string("smtpd_sasl_path", "smtpd",
            "With smtpd_sasl_type = dovecot: the Dovecot auth socket, inet:host:port or a UNIX-domain socket "
                    + "path (a relative one, such as private/auth, is under queue_directory). Not used with elytron: the security domain is chosen in WildFly's "
                    + "configuration."));
    /** smtpd_tls_auth_only - offer AUTH only under TLS. */
    public static final Parameter<Boolean> SMTPD_TLS_AUTH_ONLY = register(Parameter.bool("smtpd_tls_auth_only", "no",
            "When TLS encryption is optional in the SMTP server, do not announce or accept SASL authentication "
                    + "over unencrypted connections."));
    /** smtpd_upstream_proxy_protocol - the proxy protocol in front of the server. */
    public static final Parameter<String> SMTPD_UPSTREAM_PROXY_PROTOCOL = register(Parameter.choice(
            "smtpd_upstream_proxy_protocol", "",
            "The name of the proxy protocol used by an optional before-smtpd proxy agent: empty (none) or haproxy "
                    + "(PROXY protocol version 1 or 2).", "", "haproxy"));
    /** smtpd_upstream_proxy_timeout - the time limit for the proxy header. */
    public static final Parameter<Duration> SMTPD_UPSTREAM_PROXY_TIMEOUT = register(Parameter.time(
            "smtpd_upstream_proxy_timeout", "5s", ChronoUnit.SECONDS,
            "The time limit for the proxy protocol specified with smtpd_upstream_proxy_protocol."));
    /** debug_peer_list - clients whose SMTP conversation is logged. */
    public static final Parameter<List<String>> DEBUG_PEER_LIST = register(Parameter.list("debug_peer_list", "",
            "Clients (network/mask or address) whose SMTP conversation the server logs in full, and servers "
                    + "(address, network/mask or host name) whose conversation the SMTP and LMTP clients log in "
                    + "full, as \"> host[addr]:port: command\" and \"< host[addr]:port: reply\" (AUTH credentials "
                    + "excepted)."));
    /** debug_peer_level - the verbosity for debug_peer_list clients. */
    public static final Parameter<Integer> DEBUG_PEER_LEVEL = register(Parameter.integer("debug_peer_level", "2",
            "The increment in verbose logging level when a remote client matches debug_peer_list; 0 turns the "
                    + "conversation log off."));
    /** smtpd_peername_lookup - look up and verify the client's name. */
    public static final Parameter<Boolean> SMTPD_PEERNAME_LOOKUP = register(Parameter.bool("smtpd_peername_lookup", "yes",
            "Look up the remote SMTP client name (the hosts file, then DNS, without blocking and within 10s) and "
                    + "verify that it maps back to the address; with no, every client is \"unknown\"."));
    /** smtpd_spool_memory_limit - message content kept in memory before it goes to a spool file (Postern). */
    public static final Parameter<Long> SMTPD_SPOOL_MEMORY_LIMIT = register(Parameter.size("smtpd_spool_memory_limit",
            "1048576", "Postern: the size in bytes up to which the SMTP server keeps a message's content in memory "
                    + "between DATA/BDAT and the queue's commit; a larger message goes to a file in the spool "
                    + "directory (written on the connection's event loop). 0 spools every message to a file."));
    /** smtpd_dns_cache_size - DNS answers smtpd keeps (Postern). */
    public static final Parameter<Integer> SMTPD_DNS_CACHE_SIZE = register(Parameter.integer("smtpd_dns_cache_size", "10000",
            "Postern: the number of DNS answers (client name lookups and DNS restrictions, negative answers "
                    + "included) that an SMTP server keeps for their time to live; 0 disables the cache."));
    /** smtpd_dns_cache_max_ttl - the longest smtpd keeps a DNS answer (Postern). */
    public static final Parameter<Duration> SMTPD_DNS_CACHE_MAX_TTL = register(Parameter.time("smtpd_dns_cache_max_ttl",
            "3600s", ChronoUnit.SECONDS,
            "Postern: the longest time the SMTP server keeps a DNS answer, whatever its TTL or its SOA's "
                    + "negative TTL (RFC 2308) says."));
    /** smtpd_dns_negative_ttl - how long a negative DNS answer without SOA is kept (Postern). */
    public static final Parameter<Duration> SMTPD_DNS_NEGATIVE_TTL = register(Parameter.time("smtpd_dns_negative_ttl", "60s",
            ChronoUnit.SECONDS,
            "Postern: how long the SMTP server keeps an NXDOMAIN or no-data answer that carries no SOA record "
                    + "(with an SOA its negative TTL applies); 0 keeps none."));
    /** smtpd_forbid_unauth_pipelining - disconnect clients that pipeline where RFC 2920 forbids it. */
    public static final Parameter<Boolean> SMTPD_FORBID_UNAUTH_PIPELINING = register(Parameter.bool(
            "smtpd_forbid_unauth_pipelining", "no",
            "Disconnect remote SMTP clients that violate RFC 2920 (or 5321) command pipelining constraints, with "
                    + "\"554 5.5.0 Error: SMTP protocol synchronization\" (Postfix 3.7.6 default: no; 3.9: yes)."));
    /** always_bcc - an address that receives a blind copy of every message. */
    public static final Parameter<String> ALWAYS_BCC = register(Parameter.string("always_bcc", "",
            "Optional address that receives a \"blind carbon copy\" of each message received over SMTP "
                    + "(added by smtpd, with NOTIFY=NEVER)."));

    /** always_add_missing_headers - complete the headers of every client's mail, not only local ones. */
    public static final Parameter<Boolean> ALWAYS_ADD_MISSING_HEADERS = register(Parameter.bool("always_add_missing_headers",
            "no", "Always add (Resent-) From:, Date: and Message-ID: headers when not present, whatever the client; "
                    + "with no, only for clients in local_header_rewrite_clients."));
    /** local_header_rewrite_clients - the clients whose mail gets the missing headers. */
    public static final Parameter<List<String>> LOCAL_HEADER_REWRITE_CLIENTS = register(Parameter.list(
            "local_header_rewrite_clients", "permit_inet_interfaces",
            "The clients whose messages get the missing Message-Id:, Date: and From: headers: "
                    + "permit_inet_interfaces, permit_mynetworks, permit_sasl_authenticated or static:all."));

    /** smtpd_policy_service_timeout - the time limit of one exchange with a policy server. */
    public static final Parameter<Duration> SMTPD_POLICY_SERVICE_TIMEOUT = register(Parameter.time(
            "smtpd_policy_service_timeout", "100s", ChronoUnit.SECONDS,
            "The time limit for connecting to, writing to, or receiving from a delegated SMTPD policy server."));
    /** smtpd_policy_service_max_idle - how long an unused policy server connection is kept. */
    public static final Parameter<Duration> SMTPD_POLICY_SERVICE_MAX_IDLE = register(Parameter.time(
            "smtpd_policy_service_max_idle", "300s", ChronoUnit.SECONDS,
            "The time after which an idle SMTPD policy service connection is closed."));
    /** smtpd_policy_service_max_ttl - how long a policy server connection is used at most. */
    public static final Parameter<Duration> SMTPD_POLICY_SERVICE_MAX_TTL = register(Parameter.time(
            "smtpd_policy_service_max_ttl", "1000s", ChronoUnit.SECONDS,
            "The time after which an active SMTPD policy service connection is closed."));
    /** smtpd_policy_service_default_action - the answer when the policy server fails. */
    public static final Parameter<String> SMTPD_POLICY_SERVICE_DEFAULT_ACTION = register(Parameter.string(
            "smtpd_policy_service_default_action", "451 4.3.5 Server configuration problem",
            "The default action when an SMTPD policy service request fails."));
    /** smtpd_policy_service_try_limit - attempts per policy request. */
    public static final Parameter<Integer> SMTPD_POLICY_SERVICE_TRY_LIMIT = register(Parameter.integer(
            "smtpd_policy_service_try_limit", "2",
            "The maximal number of attempts to send an SMTPD policy service request before giving up."));
    /** smtpd_policy_service_retry_delay - the pause between attempts. */
    public static final Parameter<Duration> SMTPD_POLICY_SERVICE_RETRY_DELAY = register(Parameter.time(
            "smtpd_policy_service_retry_delay", "1s", ChronoUnit.SECONDS,
            "The delay between attempts to resend a failed SMTPD policy service request."));
    /** smtpd_policy_service_request_limit - requests per policy server connection. */
    public static final Parameter<Integer> SMTPD_POLICY_SERVICE_REQUEST_LIMIT = register(Parameter.integer(
            "smtpd_policy_service_request_limit", "0",
            "The maximal number of requests per SMTPD policy service connection, or zero (no limit)."));
    /** smtpd_policy_service_policy_context - the policy_context attribute of the requests. */
    public static final Parameter<String> SMTPD_POLICY_SERVICE_POLICY_CONTEXT = register(Parameter.string(
            "smtpd_policy_service_policy_context", "",
            "Optional information that the SMTP server passes in the policy_context attribute of a policy request."));

    // ---- smtpd restrictions: sender login, unlisted sender, multi-recipient bounce

    /** smtpd_sender_login_maps - the SASL login names that own the MAIL FROM addresses. */
    public static final Parameter<List<String>> SMTPD_SENDER_LOGIN_MAPS = register(Parameter.list("smtpd_sender_login_maps", "",
            "Optional lookup tables with the SASL login names that own the envelope sender (MAIL FROM) addresses: "
                    + "user@domain, then @domain; the result lists owners separated by comma or space "
                    + "(for the *_sender_login_mismatch restrictions)."));
    /** smtpd_reject_unlisted_sender - an implicit reject_unlisted_sender after the sender restrictions. */
    public static final Parameter<Boolean> SMTPD_REJECT_UNLISTED_SENDER = register(Parameter.bool(
            "smtpd_reject_unlisted_sender", "no",
            "Reject mail from unknown sender addresses in local, virtual mailbox and relay domains even without "
                    + "an explicit reject_unlisted_sender restriction."));
    /** multi_recipient_bounce_reject_code - the reply code of reject_multi_recipient_bounce. */
    public static final Parameter<Integer> MULTI_RECIPIENT_BOUNCE_REJECT_CODE = register(Parameter.integer(
            "multi_recipient_bounce_reject_code", "550",
            "The SMTP server reply code when reject_multi_recipient_bounce rejects mail from the null sender "
                    + "with more than one recipient."));

    // ---- JMS submission queue postern.submit (issue 14: SubmitEndpoint)

    /** jms_sender_restrictions - which envelope senders a JMS submission may use. */
    public static final Parameter<List<String>> JMS_SENDER_RESTRICTIONS = register(Parameter.list(
            "jms_sender_restrictions", "",
            "Postern: restrictions on the envelope sender (postern_sender) of mail submitted on the JMS queue "
                    + "postern.submit, evaluated in order until one decides: permit, reject, "
                    + "check_sender_access type:table (access(5) results OK, DUNNO, REJECT [text], DEFER [text], "
                    + "4XX/5XX text, HOLD [text], DISCARD [text]), reject_non_fqdn_sender, reject_null_sender "
                    + "(Postern's own: the null sender <>); empty permits every sender. A rejected submission goes "
                    + "to the dead-letter queue postern.submit.dead with the reply as postern_error."));
    /** jms_recipient_limit - the most recipients of one JMS submission. */
    public static final Parameter<Integer> JMS_RECIPIENT_LIMIT = register(Parameter.integer(
            "jms_recipient_limit", "$smtpd_recipient_limit",
            "Postern: the maximal number of recipients (postern_recipients) of one message submitted on the JMS "
                    + "queue postern.submit; more goes to the dead-letter queue (452 4.5.3). 0 means no limit."));

    private static final Map<String, Parameter<?>> ALL = Collections.unmodifiableMap(REGISTRY);
    private static final Set<String> POSTFIX_NAMES = loadPostfixNames();

    private Parameters() {
    }

    /** all - every registered parameter by name, in registration order. */
    public static Map<String, Parameter<?>> all() {
        return ALL;
    }

    /** find - the registered parameter with this name. */
    public static Optional<Parameter<?>> find(String name) {
        return Optional.ofNullable(ALL.get(name));
    }

    /** isPostfixParameter - true when Postfix (3.7) knows a parameter of this name. */
    public static boolean isPostfixParameter(String name) {
        return POSTFIX_NAMES.contains(name) || ALL.containsKey(name);
    }

    private static Set<String> loadPostfixNames() {
        Set<String> names = new HashSet<>();
        try (InputStream in = Parameters.class.getResourceAsStream("postfix-parameters.txt")) {
            if (in == null) {
                throw new IllegalStateException("resource missing: postfix-parameters.txt");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.isBlank()) {
                    names.add(line.strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Set.copyOf(names);
    }
}
