package org.postern.mail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * MailPathFuzzTest - the argument of MAIL FROM: and RCPT TO: (RFC 5321 paths: quoted
 * local parts, address literals, source routes, UTF-8 mailboxes, ESMTP parameters).
 *
 * <p>Invariants: {@link MailPath#parse} returns a path or throws AddressSyntaxException,
 * nothing else; a parsed mailbox keeps RFC 5321's limits (64 octets of local part, 255 of
 * domain); and the path written back as {@code <address> KEY=VALUE ...} parses to the same
 * path. Seeds and regression inputs: MailPathFuzzTestInputs/parse/.
 */
class MailPathFuzzTest {

    @FuzzTest
    @DictionaryEntries({"<", ">", "<>", "\"", "\\", "@", "[", "]", "IPv6:", ":", ",", "@a,@b:", " SIZE=",
            " BODY=8BITMIME", " SMTPUTF8", " ORCPT=rfc822;", " NOTIFY=", " ENVID=", " RET=HDRS"})
    void parse(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        MailPath path;
        try {
            path = MailPath.parse(text);
        } catch (AddressSyntaxException e) {
            assertNotNull(e.kind(), "an AddressSyntaxException without a kind");
            return;
        }
        MailAddress a = path.address();
        if (a != null) {
            assertTrue(MailAddress.utf8Length(a.localPart()) <= MailAddress.MAX_LOCAL_PART, a::toString);
            assertTrue(a.domain() == null || MailAddress.utf8Length(a.domain()) <= MailAddress.MAX_DOMAIN,
                    a::toString);
            assertTrue(MailAddress.utf8Length(a.toString()) + 2 <= MailAddress.MAX_PATH, a::toString);
        }
        for (Map.Entry<String, String> p : path.params().entrySet()) {
            assertTrue(p.getKey().matches("[A-Z0-9][A-Z0-9-]*"), p::getKey);
        }
        // written back as it goes into an envelope, the path reads the same
        String written = written(path);
        MailPath again;
        try {
            again = MailPath.parse(written);
        } catch (AddressSyntaxException e) {
            throw new AssertionError("\"" + text + "\" parsed, but its written form \"" + written
                    + "\" does not: " + e.getMessage(), e);
        }
        assertEquals(path, again, () -> "\"" + text + "\" written as \"" + written + "\"");
    }

    /* written - "<address> KEY=VALUE KEY", as a client sends the path */
    private static String written(MailPath path) {
        StringBuilder b = new StringBuilder("<").append(path.isNull() ? "" : path.address().toString()).append('>');
        for (Map.Entry<String, String> p : path.params().entrySet()) {
            b.append(' ').append(p.getKey());
            if (p.getValue() != null) {
                b.append('=').append(p.getValue());
            }
        }
        return b.toString();
    }
}
