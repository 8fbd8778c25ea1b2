package org.postern.smtpd.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.postern.mail.MailAddress;

/**
 * DnsQueries - the DNS queries that the restrictions of one stage will need, started
 * before the stage is evaluated ({@link SmtpdCheck#prefetch}).
 *
 * <h2>DESCRIPTION</h2>
 * Each restriction that needs DNS names its queries through its
 * {@link RestrictionKind.Prefetch}; a query whose answer the session has already got is
 * not sent again. The answers go into the session's {@link DnsAnswers}, where the
 * evaluation reads them ({@link #answer}); a missing answer reads as a temporary failure.
 * The client name lookups go to the hosts file first, then to DNS (nsswitch "files dns").
 */
final class DnsQueries {

    /** At most this many PTR names are verified by forward lookups (a PTR RRset can be huge). */
    static final int MAX_PTR_NAMES = 5;

    final PolicySettings settings;
    final CheckContext ctx;
    /** The recipient of RCPT TO, otherwise null. */
    final MailAddress recipient;
    private final DnsLookup dns;
    private final DnsLookup clientDns;
    private final DnsAnswers answers;
    private final List<CompletableFuture<?>> pending = new ArrayList<>();

    DnsQueries(PolicySettings settings, DnsLookup dns, DnsLookup clientDns, CheckContext ctx, MailAddress recipient) {
        this.settings = settings;
        this.dns = dns;
        this.clientDns = clientDns;
        this.ctx = ctx;
        this.recipient = recipient;
        this.answers = ctx.dnsAnswers();
    }

    /** fork - queries of the same stage whose completion is awaited on its own ({@link #all}). */
    DnsQueries fork() {
        return new DnsQueries(settings, dns, clientDns, ctx, recipient);
    }

    /** add - wait for this too. */
    void add(CompletableFuture<?> f) {
        pending.add(f);
    }

    /** pending - what is still to come, or null when every answer is in. */
    CompletableFuture<Void> pending() {
        pending.removeIf(CompletableFuture::isDone);
        return pending.isEmpty() ? null : all();
    }

    /** all - completes when every query started here is answered. */
    CompletableFuture<Void> all() {
        return CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0]));
    }

    /** query - records of type for name, unless the session has them; the future of the answer. */
    CompletableFuture<?> query(DnsLookup.Type type, String name) {
        return query(dns, type, name);
    }

    /** clientQuery - as query, from the hosts file first. */
    CompletableFuture<?> clientQuery(DnsLookup.Type type, String name) {
        return query(clientDns, type, name);
    }

    private CompletableFuture<?> query(DnsLookup resolver, DnsLookup.Type type, String name) {
        if (answers.has(type, name)) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<?> f = resolver.lookup(name, type).thenAccept(a -> answers.put(type, name, a));
        pending.add(f);
        return f;
    }

    /** clientHostname - PTR, then A and AAAA of the first names (Postfix's name verification); not awaited. */
    CompletableFuture<?> clientHostname() {
        String address = ctx.clientAddress();
        return fork().clientQuery(DnsLookup.Type.PTR, address).thenCompose(x -> {
            DnsLookup.Answer a = answers.get(DnsLookup.Type.PTR, address);
            DnsQueries forward = fork();
            if (a != null && a.status() == DnsLookup.Status.FOUND) {
                for (String name : a.values().subList(0, Math.min(MAX_PTR_NAMES, a.values().size()))) {
                    forward.clientQuery(DnsLookup.Type.A, name);
                    forward.clientQuery(DnsLookup.Type.AAAA, name);
                }
            }
            return forward.all();
        });
    }

    /** host - MX, A and AAAA of a host or domain name (null: nothing to ask). */
    void host(String name) {
        if (name != null) {
            query(DnsLookup.Type.MX, name);
            query(DnsLookup.Type.A, name);
            query(DnsLookup.Type.AAAA, name);
        }
    }

    /** domain - MX, A and AAAA of an address's domain when DNS decides about it. */
    void domain(MailAddress address) {
        host(AddressChecks.dnsDomain(settings, address));
    }

    /** list - A and TXT of a DNS list entry (null: nothing to ask). */
    void list(String query) {
        if (query != null) {
            query(DnsLookup.Type.A, query);
            query(DnsLookup.Type.TXT, query);
        }
    }

    /** answer - the session's answer, a temporary failure when there is none. */
    static DnsLookup.Answer answer(CheckContext ctx, DnsLookup.Type type, String name) {
        DnsLookup.Answer a = ctx.dnsAnswers().get(type, name);
        return a == null ? DnsLookup.Answer.TEMP_FAIL : a;
    }
}
