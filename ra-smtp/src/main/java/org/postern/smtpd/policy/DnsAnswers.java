package org.postern.smtpd.policy;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * DnsAnswers - the DNS answers one session has obtained, by type and name.
 *
 * <p>{@link SmtpdCheck#prefetch} fills it (from the resolver's threads) before a stage is
 * evaluated; the evaluation then reads it synchronously on the session's thread. Kept
 * for the session's lifetime, so that the client's RBL and reverse lookups are made once
 * per connection, as Postfix does; bounded by the commands the session may send.
 */
public final class DnsAnswers {
    private static final int MAX_ENTRIES = 1000;

    private final Map<String, DnsLookup.Answer> answers = new ConcurrentHashMap<>();

    static String key(DnsLookup.Type type, String name) {
        return type + " " + name.toLowerCase(Locale.ROOT);
    }

    DnsLookup.Answer get(DnsLookup.Type type, String name) {
        return answers.get(key(type, name));
    }

    boolean has(DnsLookup.Type type, String name) {
        return answers.containsKey(key(type, name));
    }

    void put(DnsLookup.Type type, String name, DnsLookup.Answer answer) {
        if (answers.size() >= MAX_ENTRIES) {
            answers.clear(); // a client that makes us look up this much gets no cache
        }
        answers.put(key(type, name), answer);
    }
}
