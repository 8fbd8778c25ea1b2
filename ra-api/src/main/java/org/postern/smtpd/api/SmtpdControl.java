package org.postern.smtpd.api;

import java.util.List;
import java.util.Map;
import org.postern.config.Config;
import org.postern.config.MasterService;

/**
 * SmtpdControl - the resource adapter's smtpd listeners as the application drives and
 * watches them: a JCA administered object, bound at {@link #JNDI_NAME}.
 *
 * <p>The application's configuration service reads main.cf and master.cf once and hands
 * the result here ({@link #apply}) at start and on every reload; the adapter never reads
 * the files itself. So the listeners and the queue manager always work from the same
 * parsed configuration.
 */
public interface SmtpdControl {
    /** The JNDI name of the administered object (ironjacamar.xml). */
    String JNDI_NAME = "java:/postern/SmtpdControl";

    /**
     * apply - make main (main.cf) and services (master.cf) the smtpd configuration in force.
     * Every smtpd service's settings are made first (TLS keys, lookup tables, restriction
     * lists); then the listeners of new services, or of services whose address changed,
     * are bound; then the services that stay take their new settings for new sessions;
     * then the listeners of removed services are closed (their sessions finish). A
     * setting that does not validate, or a new listener that cannot be bound, refuses the
     * whole change: everything stays as it was and the exception says why.
     *
     * @return one line per change made ("smtp: listening on 127.0.0.1:25", ...)
     * @throws org.postern.config.ConfigException a service's settings are not valid
     * @throws IllegalStateException a new listener cannot be bound
     */
    List<String> apply(Config main, List<MasterService> services);

    /** services - the smtpd services in force, in master.cf order. */
    List<ServiceState> services();

    /**
     * rejects - how many requests each restriction has rejected since the adapter started,
     * by the restriction's name as main.cf spells it (check_client_access,
     * reject_unauth_destination, ...).
     */
    Map<String, Long> rejects();

    /**
     * ServiceState - one smtpd service: its master.cf name, where it listens (empty when
     * it could not start because no endpoint is active yet), the sessions open now, the
     * connections accepted and the messages queued since it started.
     */
    record ServiceState(String name, List<String> listening, int sessions, long connections) {
    }
}
