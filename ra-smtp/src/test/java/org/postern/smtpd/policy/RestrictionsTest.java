package org.postern.smtpd.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.postern.config.ConfigException;

/** The registry of restrictions: every kind is found by its name, parses, and says rightly what an access map may name. */
class RestrictionsTest {
    private static final List<RestrictionKind> ALL = Stream.of(GenericRestrictions.KINDS, ClientRestrictions.KINDS,
            HeloRestrictions.KINDS, SenderRestrictions.KINDS, RecipientRestrictions.KINDS, DnsListRestrictions.KINDS,
            PolicyServiceRestriction.KINDS).flatMap(List::stream).toList();

    @Test
    void everyKindIsRegisteredAndParses() {
        for (RestrictionKind k : ALL) {
            assertEquals(k, Restrictions.kind(k.name().toUpperCase(java.util.Locale.ROOT)), k.name());
            String arg = switch (k.argument()) {
                case NONE -> null;
                case TABLE -> "inline:{a=OK}";
                case DNS_DOMAIN -> "zen.example=127.0.0.2";
                case SERVER -> "inet:127.0.0.1:9";
                case SECONDS -> "0";
            };
            List<Restriction> parsed = Restrictions.parseList(arg == null ? List.of(k.name()) : List.of(k.name(), arg),
                    "smtpd_client_restrictions");
            assertEquals(k.expansion().isEmpty() ? 1 : k.expansion().size(), parsed.size(), k.name());
        }
    }

    @Test
    void accessMapsNameOnlyRestrictionsWithoutArgumentOrDns() {
        for (RestrictionKind k : ALL) {
            boolean allowed = k.argument() == RestrictionKind.Argument.NONE && !k.needsDns() && k.expansion().isEmpty();
            assertEquals(allowed, k.allowedInAccessMap(), k.name());
            if (allowed) {
                assertEquals(k, Restrictions.simple(k.name(), "test").kind());
            } else {
                assertThrows(ConfigException.class, () -> Restrictions.simple(k.name(), "test"), k.name());
            }
        }
        // every DNS list and every unknown_* check needs DNS, so the prefetch asks it
        for (RestrictionKind k : ALL) {
            if (k.name().startsWith("reject_rbl") || k.name().startsWith("reject_rhsbl")
                    || k.name().startsWith("reject_unknown_") || k.name().equals("reject_maps_rbl")) {
                assertTrue(k.needsDns(), k.name());
                assertFalse(k.allowedInAccessMap(), k.name());
            }
        }
    }

    @Test
    void aliasesAndUnknownNames() {
        assertEquals("reject_invalid_helo_hostname", Restrictions.kind("reject_invalid_hostname").name());
        assertEquals("reject_unlisted_recipient", Restrictions.kind("check_recipient_maps").name());
        assertNotNull(Restrictions.kind("Permit_MyNetworks"));
        assertNull(Restrictions.kind("permit_mx_backup"));
        ConfigException e = assertThrows(ConfigException.class,
                () -> Restrictions.parseList(List.of("permit_mx_backup"), "smtpd_recipient_restrictions"));
        assertTrue(e.getMessage().contains("restriction permit_mx_backup is not supported by Postern"), e::getMessage);
        e = assertThrows(ConfigException.class,
                () -> Restrictions.parseList(List.of("Reject_Nonsense"), "smtpd_recipient_restrictions"));
        assertTrue(e.getMessage().contains("unknown smtpd restriction: \"reject_nonsense\""), e::getMessage);
    }
}
