package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.postern.mail.AddressMapping;

/** SmtpGenericRewriter: smtp_generic_maps on the envelope and the primary header's address fields. */
class SmtpGenericRewriterTest {

    private static final AddressMapping MAPPING = AddressMapping.open("smtp_generic_maps",
            List.of("inline:{ alice@localdomain.local=alice.smith@example.com, bob=bob.jones@example.com, "
                    + "@host.local=@example.com, { quoted@localdomain.local = \"split me\"@example.com } }"),
            List.of("localdomain.local"), "localdomain.local", List.of("127.0.0.1"), "+", false);

    private static String rewrite(String content) throws IOException {
        return new String(SmtpGenericRewriter.content(MAPPING, in(content)).readAllBytes(), StandardCharsets.UTF_8);
    }

    private static InputStream in(String content) {
        return new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void envelopeLookupOrderAndTheNullSender() {
        assertEquals("alice.smith@example.com", SmtpGenericRewriter.envelope(MAPPING, "alice@localdomain.local"));
        // "bob" applies to a local domain (myorigin, mydestination) only
        assertEquals("bob.jones@example.com", SmtpGenericRewriter.envelope(MAPPING, "bob@localdomain.local"));
        assertEquals("bob@remote.example", SmtpGenericRewriter.envelope(MAPPING, "bob@remote.example"));
        assertEquals("carol@example.com", SmtpGenericRewriter.envelope(MAPPING, "carol@host.local"));
        // user+ext@domain, then user@domain; the extension is not put back (propagate_unmatched_extensions)
        assertEquals("alice.smith@example.com", SmtpGenericRewriter.envelope(MAPPING, "alice+news@localdomain.local"));
        assertEquals("carol+x@example.com", SmtpGenericRewriter.envelope(MAPPING, "carol+x@host.local"));
        assertEquals("", SmtpGenericRewriter.envelope(MAPPING, ""));
        assertEquals("alice@localdomain.local", SmtpGenericRewriter.envelope(null, "alice@localdomain.local"));
    }

    @Test
    void displayNamesCommentsAndSpacingAreKept() throws IOException {
        assertEquals("From: \"Alice Q. Example\" <alice.smith@example.com>\r\n\r\nbody\r\n",
                rewrite("From: \"Alice Q. Example\" <alice@localdomain.local>\r\n\r\nbody\r\n"));
        assertEquals("Reply-To:   Alice   ( her  desk )  <alice.smith@example.com>  (c)\r\n\r\n",
                rewrite("Reply-To:   Alice   ( her  desk )  <alice@localdomain.local>  (c)\r\n\r\n"));
        assertEquals("Sender: alice.smith@example.com (Alice)\r\n\r\n",
                rewrite("Sender: alice@localdomain.local (Alice)\r\n\r\n"));
    }

    @Test
    void addressListsGroupsAndFoldedFields() throws IOException {
        String in = "To: bob@localdomain.local,\r\n\tCarol <carol@host.local> (work),\r\n unmapped@example.org\r\n"
                + "Cc: team: dave@host.local, erin@remote.example;, frank@host.local\r\n"
                + "Bcc: undisclosed-recipients:;\r\n"
                + "\r\nbody\r\n";
        String out = "To: bob.jones@example.com,\r\n\tCarol <carol@example.com> (work),\r\n unmapped@example.org\r\n"
                + "Cc: team: dave@example.com, erin@remote.example;, frank@example.com\r\n"
                + "Bcc: undisclosed-recipients:;\r\n"
                + "\r\nbody\r\n";
        assertEquals(out, rewrite(in));
    }

    @Test
    void routesQuotedLocalPartsAndTheNullAddress() throws IOException {
        assertEquals("Resent-From: <@relay.example,@b.example:alice.smith@example.com>\r\n\r\n",
                rewrite("Resent-From: <@relay.example,@b.example:alice@localdomain.local>\r\n\r\n"));
        assertEquals("From: Q <\"split me\"@example.com>\r\n\r\n", rewrite("From: Q <quoted@localdomain.local>\r\n\r\n"));
        // a quoted local part is looked up unquoted; the result is quoted only where it needs to be
        assertEquals("From: alice.smith@example.com\r\n\r\n", rewrite("From: \"alice\"@localdomain.local\r\n\r\n"));
        assertEquals("Return-Path: <>\r\n\r\n", rewrite("Return-Path: <>\r\n\r\n"));
    }

    @Test
    void whatItCannotParseOrDoesNotMapIsByteIdentical() throws IOException {
        String[] untouched = {
            "To: \"unterminated <alice@localdomain.local>\r\n",
            "To: (unterminated <alice@localdomain.local>\r\n",
            "To: alice@localdomain.local> stray\r\n",
            "To: a@[unterminated.literal <alice@localdomain.local>\r\n",
            // white space inside an addr-spec (obsolete syntax): left as written
            "Cc: alice @ localdomain.local\r\n",
            "Cc:Someone   <someone@remote.example>\t(c)\r\n",
            // not an address field, though it holds an address
            "Subject: mail for alice@localdomain.local\r\n",
            "Message-ID: <alice@localdomain.local>\r\n",
            "X-Original-To: alice@localdomain.local\r\n",
        };
        for (String field : untouched) {
            String content = field + "\r\nbody\r\n";
            assertArrayEquals(content.getBytes(StandardCharsets.UTF_8),
                    SmtpGenericRewriter.content(MAPPING, in(content)).readAllBytes(), field);
        }
    }

    @Test
    void onlyThePrimaryHeaderIsRewritten() throws IOException {
        String in = "From: alice@localdomain.local\r\n"
                + "Content-Type: message/rfc822\r\n"
                + "\r\n"
                + "From: alice@localdomain.local\r\n"
                + "To: bob@localdomain.local\r\n"
                + "\r\n"
                + "To: bob@localdomain.local\r\n";
        assertEquals(in.replaceFirst("alice@localdomain.local", "alice.smith@example.com"), rewrite(in));
        // no empty line: the header ends at the first line that is not a field
        assertEquals("To: bob.jones@example.com\r\nnot a field\r\nFrom: alice@localdomain.local\r\n",
                rewrite("To: bob@localdomain.local\r\nnot a field\r\nFrom: alice@localdomain.local\r\n"));
        // a header without body or final CRLF
        assertEquals("To: bob.jones@example.com", rewrite("To: bob@localdomain.local"));
    }

    @Test
    void headerNamesAreCaseInsensitiveAnd8BitTextIsKept() throws IOException {
        assertEquals("tO : J\u00f6rg <bob.jones@example.com>\r\n\r\n", rewrite("tO : J\u00f6rg <bob@localdomain.local>\r\n\r\n"));
        AddressMapping utf8 = AddressMapping.open("smtp_generic_maps", List.of("inline:{ j\u00f6rg@host.local=j\u00fcrgen@example.com }"),
                List.of(), "localdomain.local", List.of(), "", false);
        String out = new String(SmtpGenericRewriter.content(utf8, in("To: \"J\u00f6rg\" <j\u00f6rg@host.local>\r\n\r\n"))
                .readAllBytes(), StandardCharsets.UTF_8);
        assertEquals("To: \"J\u00f6rg\" <j\u00fcrgen@example.com>\r\n\r\n", out);
    }

    @Test
    void aFieldLongerThanTheLimitGoesOutUnchanged() throws IOException {
        String longField = "To: alice@localdomain.local," + " x@remote.example,".repeat(SmtpGenericRewriter.FIELD_LIMIT / 18)
                + " bob@localdomain.local\r\n";
        String content = longField + "\r\nbody\r\n";
        assertEquals(content, rewrite(content));
    }

    @Test
    void byteByByteReadsGiveTheSameResult() throws IOException {
        String content = "From: alice@localdomain.local\r\nTo: bob@localdomain.local\r\n\r\nbody\r\n";
        InputStream s = SmtpGenericRewriter.content(MAPPING, in(content));
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = s.read()) >= 0) {
            b.write(c);
        }
        assertEquals(rewrite(content), b.toString(StandardCharsets.UTF_8));
    }

    @Test
    void withoutAMappingTheContentStreamIsTheStoredOne() {
        InputStream stored = in("From: a@b\r\n\r\n");
        assertSame(stored, SmtpGenericRewriter.content(null, stored));
    }
}
