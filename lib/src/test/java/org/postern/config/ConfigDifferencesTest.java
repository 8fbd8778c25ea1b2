package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What postfix reload reports of a main.cf edit, and postconf -e's edit itself. */
class ConfigDifferencesTest {

    @Test
    void eachChangedParameterIsOneLine() {
        Config before = Config.parse("myhostname = a.example\nmessage_size_limit = 100\nrelayhost = [r]:25\n", "main.cf");
        Config after = Config.parse("myhostname = a.example\nmessage_size_limit = 200\nsmtpd_banner = x\n", "main.cf");
        assertEquals(List.of("main.cf: message_size_limit: \"100\" -> \"200\"",
                "main.cf: relayhost removed (default applies)",
                "main.cf: smtpd_banner set to \"x\""), Config.differences(before, after));
        assertEquals(List.of(), Config.differences(before, before));
    }

    @Test
    void anEditReplacesDefinitionsWhereTheyAreAndKeepsComments() {
        String text = "# notes\nmynetworks = 127.0.0.0/8\n    # inside\n    10.0.0.0/8\nrelayhost = [r]:25\n";
        Map<String, String> set = new LinkedHashMap<>();
        set.put("mynetworks", "192.0.2.0/24");
        set.put("relayhost", null);
        set.put("smtpd_banner", "$myhostname ESMTP");
        assertEquals("# notes\nmynetworks = 192.0.2.0/24\n    # inside\nsmtpd_banner = $myhostname ESMTP\n",
                MainCfEditor.edited(text, set));
    }
}
