package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The names made from master.cf service names (slow_destination_recipient_limit): known
 * without a warning for Postern's delivery services, as postconf 3.7 knows them, and read
 * with their default_ fallback; the maxproc column as a process limit.
 */
class ServiceParametersTest {
    private static final String F = "/etc/postern/main.cf";
    private static final List<MasterService> MASTER = MasterCf.parse("""
            127.0.0.1:2525 inet n - n - - smtpd
            slow      unix  -  -  n  -  2  smtp -o smtp_helo_name=slow.example
            dovecot   unix  -  -  n  -  -  lmtp
            maildrop  unix  -  n  n  -  -  pipe flags=DRXhu user=vmail argv=/usr/bin/maildrop
            junk      unix  -  -  n  -  -  smtpd
            """, "/etc/postern/master.cf");
    private static final ServiceParameters NAMES = ServiceParameters.of(MASTER);

    @Test
    void theLimitsOfDeliveryServicesAreKnownWithoutAWarning() {
        Config c = Config.parse("""
                slow_destination_recipient_limit = 1
                slow_destination_concurrency_limit = 2
                dovecot_destination_recipient_limit = 3
                relay_destination_concurrency_limit = 4
                """, F, NAMES);
        assertEquals(List.of(), c.warnings());
    }

    @Test
    void derivedNamesPosternDoesNotReadAreNotSupportedAndOthersAreUnused() {
        Config c = Config.parse("""
                slow_destination_rate_delay = 1s
                maildrop_destination_recipient_limit = 1
                maildrop_time_limit = 10s
                junk_destination_recipient_limit = 1
                other_destination_recipient_limit = 1
                slow_time_limit = 1
                """, F, NAMES);
        assertEquals(List.of(
                "PSTN0102: /etc/postern/main.cf, line 1: parameter not supported by Postern, ignored: "
                        + "slow_destination_rate_delay",
                "PSTN0102: /etc/postern/main.cf, line 2: parameter not supported by Postern, ignored: "
                        + "maildrop_destination_recipient_limit",
                "PSTN0102: /etc/postern/main.cf, line 3: parameter not supported by Postern, ignored: "
                        + "maildrop_time_limit",
                // junk runs smtpd, other is no service, slow runs smtp (no time limit): postconf says unused
                "PSTN0101: /etc/postern/main.cf, line 4: unused parameter: junk_destination_recipient_limit=1",
                "PSTN0101: /etc/postern/main.cf, line 5: unused parameter: other_destination_recipient_limit=1",
                "PSTN0101: /etc/postern/main.cf, line 6: unused parameter: slow_time_limit=1"), c.warnings());
    }

    @Test
    void withoutMasterCfTheServiceNamesAreUnknown() {
        Config c = Config.parse("slow_destination_recipient_limit = 1\n", F);
        assertEquals(List.of("PSTN0101: /etc/postern/main.cf, line 1: unused parameter: slow_destination_recipient_limit=1"),
                c.warnings());
    }

    @Test
    void aTransportLimitFallsBackToTheDefaultParameter() {
        Config c = Config.parse("""
                default_destination_recipient_limit = 7
                default_destination_concurrency_limit = 5
                slow_destination_recipient_limit = 1
                """, F, NAMES);
        assertEquals(1, c.value(ServiceParameters.destinationRecipientLimit("slow")));
        assertEquals(5, c.value(ServiceParameters.destinationConcurrencyLimit("slow")));
        assertEquals(7, c.value(ServiceParameters.destinationRecipientLimit("relay")));
        assertEquals(5, c.value(ServiceParameters.destinationConcurrencyLimit("dovecot")));
        assertEquals(20, Config.defaults().value(ServiceParameters.destinationConcurrencyLimit("dovecot")));
        assertSame(Parameters.SMTP_DESTINATION_RECIPIENT_LIMIT, ServiceParameters.destinationRecipientLimit("smtp"));
        assertEquals(7, c.value(ServiceParameters.destinationRecipientLimit("smtp")));
    }

    @Test
    void aBadTransportLimitNamesItsLine() {
        Config c = Config.parse("mail_name = x\nslow_destination_recipient_limit = many\n", F, NAMES);
        ConfigException e = assertThrows(ConfigException.class,
                () -> c.value(ServiceParameters.destinationRecipientLimit("slow")));
        assertTrue(e.getMessage().startsWith("/etc/postern/main.cf, line 2: "), e.getMessage());
        assertTrue(e.getMessage().contains("slow_destination_recipient_limit"), e.getMessage());
    }

    @Test
    void maxprocIsTheProcessLimitAndDashIsDefaultProcessLimit() {
        Config c = Config.parse("default_process_limit = 30\n", F);
        assertEquals(2, MASTER.get(1).processLimit(c));
        assertEquals(30, MASTER.get(2).processLimit(c));
        assertEquals(100, MASTER.get(2).processLimit(Config.defaults()));
    }
}
