package org.postern.smtp.sts;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Logger;

import org.postern.smtp.api.SmtpClientSettings;
import org.postern.smtp.dns.DnsLookupException;
import org.postern.smtp.dns.DnsResolver;

/**
 * MtaStsPolicies - discovery and cache of MTA-STS policies (RFC 8461 sections 3 and 5.1),
 * shared by all SMTP client sessions of the server.
 *
 * <h2>DESCRIPTION</h2>
 * {@link #lookup} finds the policy in force for a recipient domain:
 * <ol>
 * <li>the TXT records of {@code _mta-sts.<domain>} give the policy id
 *     ({@link MtaStsPolicy#policyId}, section 3.1);
 * <li>a cached policy that has not expired and carries that id is used as it is: the
 *     policy is not fetched again while the id stays the same (section 3.3);
 * <li>otherwise the policy is fetched over HTTPS ({@link MtaStsFetcher}), parsed and
 *     cached until its max_age (at most smtp_mta_sts_max_age_limit) has passed;
 * <li>when there is no usable TXT record (none, several, invalid, or a DNS failure) or the
 *     fetch fails, an unexpired cached policy is still applied (section 5.1; section 10.2:
 *     removing the TXT record does not end a policy before its max_age); without one the
 *     domain is treated as having no policy.
 * </ol>
 * A failed fetch is not repeated for the same domain and id for five minutes (section
 * 3.3 recommends such a limit), so that a broken policy server does not cost every
 * delivery a fetch. A policy of mode none is cached like any other and applies as "no
 * policy". At most smtp_mta_sts_cache_size domains are kept: past that the least recently
 * used goes. The cache lives in memory only: a restart fetches the policies again.
 *
 * <h2>DIAGNOSTICS</h2>
 * Category org.postern.smtp: PSTN3125 (warning) a policy could not be fetched;
 * PSTN3126 (info) a policy was fetched and is now in force; PSTN3127 (warning) a
 * policy's text is invalid; PSTN3129 (info) a cached policy is applied because the live
 * one cannot be discovered or fetched.
 */
public final class MtaStsPolicies {

    private static final Logger LOG = Logger.getLogger("org.postern.smtp");
    private static final MtaStsPolicies SHARED = new MtaStsPolicies(new MtaStsFetcher());
    /** how long a failed fetch of one domain and id is not tried again */
    static final Duration RETRY_AFTER_FAILURE = Duration.ofMinutes(5);

    private record Cached(MtaStsPolicy policy, Instant expires) {
    }

    private final MtaStsFetcher fetcher;
    private int limit = SmtpClientSettings.MtaSts.NONE.cacheSize();
    private final LinkedHashMap<String, Cached> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
            return size() > limit;
        }
    };
    /* "domain id" of failed fetches, and until when they are not tried again */
    private final Map<String, Instant> failed = new HashMap<>();
    /* one discovery per domain at a time */
    private final Map<String, Object> locks = new java.util.concurrent.ConcurrentHashMap<>();

    MtaStsPolicies(MtaStsFetcher fetcher) {
        this.fetcher = fetcher;
    }

    /** shared - the policies of this server. */
    public static MtaStsPolicies shared() {
        return SHARED;
    }

    /** clear - forget every cached policy and failure (tests; a changed trust configuration). */
    public synchronized void clear() {
        cache.clear();
        failed.clear();
    }

    /**
     * lookup - the policy in force for {@code domain}, or null when there is none (or its
     * mode is none). Never throws: trouble with DNS or HTTPS only means no new policy.
     */
    public MtaStsPolicy lookup(String domain, SmtpClientSettings.MtaSts settings, DnsResolver dns) {
        String d = domain.toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
        Object lock = locks.computeIfAbsent(d, k -> new Object());
        synchronized (lock) {
            try {
                MtaStsPolicy p = discover(d, settings, dns);
                return p != null && p.active() ? p : null;
            } finally {
                locks.remove(d);
            }
        }
    }

    private MtaStsPolicy discover(String domain, SmtpClientSettings.MtaSts settings, DnsResolver dns) {
        Instant now = Instant.now();
        Cached cached = cached(domain, now, settings);
        String id;
        try {
            id = MtaStsPolicy.policyId(dns.lookupTxt("_mta-sts." + domain));
        } catch (DnsLookupException e) {
            id = null;
        }
        if (id == null) {
            return fallback(domain, cached, "no valid _mta-sts TXT record could be found");
        }
        if (cached != null && cached.policy().id().equals(id)) {
            return cached.policy();   // the id is unchanged: no fetch (section 3.3)
        }
        String key = domain + " " + id;
        synchronized (this) {
            Instant until = failed.get(key);
            if (until != null && now.isBefore(until)) {
                return fallback(domain, cached, "its fetch failed less than "
                        + RETRY_AFTER_FAILURE.toMinutes() + " minutes ago");
            }
        }
        MtaStsPolicy policy;
        try {
            policy = MtaStsPolicy.parse(id, fetcher.fetch(domain, dns, settings.fetchTimeout(), settings.caFile()));
        } catch (IOException e) {
            LOG.warning("PSTN3125: MTA-STS policy of " + domain + " (id " + id + ") cannot be fetched: "
                    + e.getMessage());
            return failure(key, now, domain, cached, "the fetch failed");
        } catch (IllegalArgumentException e) {
            LOG.warning("PSTN3127: MTA-STS policy of " + domain + " (id " + id + ") is invalid: " + e.getMessage());
            return failure(key, now, domain, cached, "the policy is invalid");
        }
        Duration age = policy.maxAge().compareTo(settings.maxAgeLimit()) > 0 ? settings.maxAgeLimit() : policy.maxAge();
        synchronized (this) {
            limit = settings.cacheSize();
            cache.put(domain, new Cached(policy, now.plus(age)));
            failed.remove(key);
        }
        LOG.info("PSTN3126: MTA-STS policy of " + domain + " in force: " + policy);
        return policy;
    }

    private MtaStsPolicy failure(String key, Instant now, String domain, Cached cached, String why) {
        synchronized (this) {
            if (failed.size() > Math.max(100, limit)) {
                failed.clear();
            }
            failed.put(key, now.plus(RETRY_AFTER_FAILURE));
        }
        return fallback(domain, cached, why);
    }

    /* fallback - section 5.1: an unexpired cached policy applies when no live one is available */
    private static MtaStsPolicy fallback(String domain, Cached cached, String why) {
        if (cached == null) {
            return null;   // as if the domain had no policy (section 5.1)
        }
        LOG.info("PSTN3129: MTA-STS policy of " + domain + " applied from the cache (until " + cached.expires()
                + "): " + why);
        return cached.policy();
    }

    /* cached - the domain's unexpired cached policy, or null; an expired one is dropped */
    private synchronized Cached cached(String domain, Instant now, SmtpClientSettings.MtaSts settings) {
        limit = settings.cacheSize();
        Cached c = cache.get(domain);
        if (c != null && !now.isBefore(c.expires())) {
            cache.remove(domain);
            return null;
        }
        return c;
    }

    /** size - the number of domains cached (tests). */
    public synchronized int size() {
        return cache.size();
    }
}
