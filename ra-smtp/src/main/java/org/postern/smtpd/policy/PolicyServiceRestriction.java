package org.postern.smtpd.policy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.postern.smtpd.policy.RestrictionKind.Argument;

/**
 * PolicyServiceRestriction - check_policy_service: ask a policy server (Postfix
 * SMTPD_POLICY_README) through {@link PolicyClient}, and take its action as an access
 * map result ({@link AccessMaps#result}, with DEFER_IF_PERMIT and INFO besides).
 *
 * <h2>DESCRIPTION</h2>
 * One request per check and evaluation, with the attributes that Postfix's smtpd sends
 * (request, protocol_state, ..., helo_name, sender, recipient, client_address,
 * client_name, reverse_client_name, etrn_domain, policy_context), values without line
 * ends. The answer is asked for asynchronously: when it is not there the evaluation
 * stops with {@link SmtpdCheck.PolicyPending}, without any effect, and the caller
 * evaluates the stage again once the answer is in the session's policy answers (keyed
 * by the count of requests so far in this evaluation, the class, the server and the
 * request).
 *
 * <h2>SECURITY</h2>
 * The server is trusted as far as its actions go, like an access map; its text is a
 * reply to the client.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * The smtpd_policy_service_* parameters (see {@link PolicyClient}).
 *
 * <h2>BUGS</h2>
 * Policy server actions PREPEND, REDIRECT, FILTER and BCC are logged and ignored.
 */
final class PolicyServiceRestriction {

    static final List<RestrictionKind> KINDS = List.of(
            RestrictionKind.withArgument("check_policy_service", Argument.SERVER,
                    (req, r) -> policyService(req, r.arg())));

    private PolicyServiceRestriction() {
    }

    /** policyService - one request to the server of spec, its action taken as an access map result. */
    private static Verdict policyService(Request req, String spec) {
        PolicyClient client = req.settings().policyClients().get(spec);
        String request = policyRequest(req, client);
        String key = req.eval().policyRequests++ + " " + req.replyClass + " " + spec + "\n" + request;
        Map<String, String> answers = req.ctx.policyAnswers();
        String action = answers.get(key);
        if (action == null) {
            throw new SmtpdCheck.PolicyPending(client.query(request).thenAccept(a -> answers.put(key, a)));
        }
        return AccessMaps.result(req, action, "policy query " + client.endpoint());
    }

    /** policyRequest - the attributes, as Postfix's smtpd sends them (values without line ends). */
    private static String policyRequest(Request req, PolicyClient client) {
        CheckContext ctx = req.ctx;
        Map<String, String> a = new LinkedHashMap<>();
        a.put("request", "smtpd_access_policy");
        a.putAll(ctx.policyAttributes());
        a.put("helo_name", ctx.helo() == null ? "" : ctx.helo());
        a.put("sender", ctx.sender() == null ? "" : ctx.sender());
        a.put("recipient", req.recipient == null ? "" : req.recipient.toString());
        a.put("client_address", ctx.clientAddress());
        a.put("client_name", ctx.clientName());
        DnsLookup.Answer ptr = ctx.dnsAnswers().get(DnsLookup.Type.PTR, ctx.clientAddress());
        a.put("reverse_client_name", ptr != null && ptr.status() == DnsLookup.Status.FOUND
                ? ptr.values().get(0).toLowerCase(Locale.ROOT) : ctx.clientName());
        a.put("etrn_domain", req.etrnDomain == null ? "" : req.etrnDomain);
        a.put("policy_context", client.settings().policyContext());
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : a.entrySet()) {
            b.append(e.getKey()).append('=').append(e.getValue().replace('\n', ' ').replace('\r', ' ')).append('\n');
        }
        return b.toString();
    }
}
