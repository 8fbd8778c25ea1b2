package org.postern.flush;

import org.postern.config.Parameters;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.postern.config.Config;

/**
 * DeferTransports - the transports whose mail waits for a flush (defer_transports).
 *
 * <h2>DESCRIPTION</h2>
 * A recipient whose transport is listed is deferred without a delivery attempt
 * ("deferred transport"), unless the round was asked for by a flush (ETRN,
 * {@code sendmail -q}, {@code postqueue -s}), which ignores this list (ETRN_README: the
 * etrn-only transport whose mail moves only on ETRN). The queue manager asks
 * {@link #defers} after it has resolved the recipient's transport, and records
 * {@link #DSN} / {@link #REASON} for it.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * defer_transports (empty).
 */
public final class DeferTransports {
    /** the enhanced status code and the reason that Postfix records for such a recipient */
    public static final String DSN = "4.3.2";
    public static final String REASON = "deferred transport";

    private final Set<String> transports;

    public DeferTransports(Iterable<String> names) {
        java.util.HashSet<String> t = new java.util.HashSet<>();
        names.forEach(n -> t.add(n.toLowerCase(Locale.ROOT)));
        this.transports = Set.copyOf(t);
    }

    /** of - defer_transports of the configuration. */
    public static DeferTransports of(Config config) {
        return new DeferTransports(config.get(Parameters.DEFER_TRANSPORTS));
    }

    /**
     * defers - true when mail for this transport must wait: it is listed and the round was
     * not asked for by a flush ({@code flushed} is QueueStore.Claim#ignoreDeferTransports).
     */
    public boolean defers(String transport, boolean flushed) {
        return !flushed && transport != null && transports.contains(transport.toLowerCase(Locale.ROOT));
    }

    @Override
    public String toString() {
        return transports.stream().sorted().collect(Collectors.joining(", "));
    }
}
