package org.postern.admin;

import java.util.List;
import java.util.Map;

/**
 * SmtpdStatisticsMXBean - the smtpd listeners over JMX, {@code org.postern:type=Smtpd}:
 * each master.cf smtpd service with where it listens and its sessions, and the rejects per
 * restriction that pflogsumm counts from the mail log.
 */
public interface SmtpdStatisticsMXBean {
    /** Service - one smtpd service: name, addresses, sessions open now, connections accepted since it started. */
    record Service(String name, List<String> listening, int sessions, long connections) {
    }

    /** services - the smtpd services in force, in master.cf order. */
    List<Service> getServices();

    /** sessions - the SMTP sessions open now, all services together. */
    int getSessions();

    /** rejects - requests rejected per restriction since the server started (check_client_access, ...). */
    Map<String, Long> getRejects();
}
