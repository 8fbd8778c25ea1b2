package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * MainCfFuzzTest - main.cf: logical lines, name = value, $name and ${name?text} expansion,
 * and the typed value of every parameter of the registry.
 *
 * <p>Invariants: {@link Config#parse} returns a configuration or throws ConfigException
 * with a file and a line, nothing else; the configuration it returns answers every
 * registered parameter (its typed value and its text) without an exception, names only
 * parameters that the text defines, and differs in nothing from a second parse of the
 * same text. Seeds: MainCfFuzzTestInputs/parse/.
 */
class MainCfFuzzTest {

    @FuzzTest
    @DictionaryEntries({" = ", "#", "$", "${", "$(", "}", ")", "?", ":", "{", ",",
            "myhostname", "mydomain", "mynetworks", "smtpd_recipient_restrictions", "message_size_limit",
            "smtpd_timeout", "yes", "no", "10s", "1h", "inline:{", "texthash:", "cidr:", "[::1]/128",
            "127.0.0.0/8", "check_client_access", "permit_mynetworks", "reject_unauth_destination"})
    void parse(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        Config c;
        try {
            c = Config.parse(text, "main.cf");
        } catch (ConfigException e) {
            assertNotNull(e.origin(), "a ConfigException without its file");
            assertTrue(e.line() >= 0, e::getMessage);
            return;
        }
        for (Parameter<?> p : Parameters.all().values()) {
            assertNotNull(c.text(p), p::name);
            c.get(p);
        }
        for (String name : c.explicitNames()) {
            assertTrue(text.contains(name), name);
            // text(name) is for registered names only (IllegalArgumentException otherwise, by contract)
            assertNotNull(Parameters.all().containsKey(name) ? c.text(name) : c.unexpanded(name), name);
        }
        Config again = Config.parse(text, "main.cf");
        assertEquals(List.of(), Config.differences(c, again));
    }
}
