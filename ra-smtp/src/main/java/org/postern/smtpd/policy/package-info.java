/**
 * The smtpd access policy engine: Postfix's smtpd_*_restrictions, evaluated inside the
 * resource adapter.
 *
 * <h2>Why here and not in the endpoint MDB</h2>
 * DESIGN.md says that the smtpd endpoint makes the policy decisions. Postfix does not
 * work that way: smtpd(8) evaluates its restriction lists itself (smtpd_check.c), with
 * the session state, main.cf, lookup tables and DNS, and never asks cleanup(8) or the
 * queue. None of the restrictions implemented here needs the database: permit_mynetworks,
 * reject_unauth_destination, the check_*_access tables, the syntax checks of HELO and
 * addresses, relay_recipient_maps all read the configuration and in-memory tables. A
 * container call per command (an endpoint instance, a thread of the WorkManager, a
 * transaction context) would cost more than the check itself, would block reads of a
 * pipelined session while it waits, and would make the decision depend on the endpoint
 * being deployed. So the engine is pure logic over a view of the session
 * ({@link org.postern.smtpd.policy.CheckContext}), the parsed configuration
 * ({@link org.postern.smtpd.policy.PolicySettings}) and lookup tables, and runs on the
 * session's event loop. Restriction lists and tables are parsed when the settings are
 * built, so that a bad restriction fails the deployment, never a session.
 * Restrictions that need DNS (reject_unknown_*, reject_rbl_client, reject_rhsbl_*,
 * reject_maps_rbl) must
 * not block the event loop either: {@link org.postern.smtpd.policy.SmtpdCheck#prefetch}
 * sends their queries asynchronously (dnsjava) before a stage is evaluated, the session
 * waits for the answers without holding a thread, and the evaluation then reads them
 * from the session's {@link org.postern.smtpd.policy.DnsAnswers}; sleep waits on a timer
 * the same way. Restrictions Postern
 * does not implement are refused as configuration errors rather than silently ignored.
 *
 * <h2>Restrictions as objects</h2>
 * Each restriction is a {@link org.postern.smtpd.policy.RestrictionKind}: its name, its
 * argument, the DNS queries it needs, whether an access map may return it, and its
 * evaluation. The kinds are declared by family, one class each (generic, client, HELO,
 * sender, recipient, DNS lists, policy service), and collected by
 * {@link org.postern.smtpd.policy.Restrictions}, the registry that parses the lists.
 * {@link org.postern.smtpd.policy.SmtpdCheck} keeps what Postfix's smtpd_check.c keeps
 * besides: the stages, the list evaluation and DEFER_IF_PERMIT / DEFER_IF_REJECT. The
 * behaviour is written down as golden transcripts (src/test/resources/smtpd_check), run by
 * GoldenTranscriptTest.
 *
 * <p>Decisions that do need the queue (HOLD, DISCARD) are not made here: they are
 * recorded in the envelope's mail parameters ({@link org.postern.smtpd.api.Envelope#HOLD},
 * {@link org.postern.smtpd.api.Envelope#DISCARD}) for the endpoint and the queue to act on.
 */
package org.postern.smtpd.policy;
