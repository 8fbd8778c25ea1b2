package org.postern.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.postern.queue.DeliveryEventRow;
import org.postern.queue.RecipientStatus;

/**
 * DeliveryEventTest - the CloudEvents JSON document of a delivery event, parsed back by a
 * JSON parser nobody here wrote (Parsson, WildFly's JSON-P), with hostile values.
 */
class DeliveryEventTest {
    static final Instant ARRIVAL = Instant.parse("2026-12-06T10:00:00Z");
    static final Instant NOW = Instant.parse("2026-12-06T10:00:02.5Z");

    static JsonObject parse(String json) {
        try (JsonReader r = Json.createReader(new StringReader(json))) {
            return r.readObject();
        }
    }

    static DeliveryEvent event(String recipient, String orcpt, RecipientStatus status, String dsn, String reply) {
        return DeliveryEvent.of("mx.example.com", NOW, ARRIVAL, "0123456789ABCDEF", "<m1@example.org>", recipient,
                orcpt, status, dsn, reply, "smtp.example.net[192.0.2.1]:25");
    }

    @Test
    void aDeliveredRecipientIsACloudEventWithItsData() {
        DeliveryEvent e = event("bob@example.net", "rfc822;Bob@Example.net", RecipientStatus.SENT, "2.0.0",
                "250 2.0.0 Ok: queued as 4ABC");
        JsonObject o = parse(e.json());

        assertEquals("1.0", o.getString("specversion"));
        assertEquals(e.id(), o.getString("id"));
        UUID id = UUID.fromString(o.getString("id"));
        assertEquals(4, id.version());
        assertEquals(2, id.variant());
        assertEquals("postern://mx.example.com", o.getString("source"));
        assertEquals("org.postern.delivery.delivered", o.getString("type"));
        assertEquals("bob@example.net", o.getString("subject"));
        assertEquals(NOW, OffsetDateTime.parse(o.getString("time")).toInstant());
        assertEquals("application/json", o.getString("datacontenttype"));
        JsonObject d = o.getJsonObject("data");
        assertEquals("0123456789ABCDEF", d.getString("queue_id"));
        assertEquals("<m1@example.org>", d.getString("message_id"));
        assertEquals("bob@example.net", d.getString("recipient"));
        assertEquals("Bob@Example.net", d.getString("original_recipient"));
        assertEquals("sent", d.getString("status"));
        assertEquals("2.0.0", d.getString("dsn"));
        assertEquals("250 2.0.0 Ok: queued as 4ABC", d.getString("reply"));
        assertEquals("smtp.example.net[192.0.2.1]:25", d.getString("relay"));
        assertEquals(2.5, d.getJsonNumber("delay").doubleValue(), 0.0005);
        assertEquals(9, d.size());
        assertEquals(8, o.size());
    }

    @Test
    void theTypesFollowTheMailLogStatus() {
        assertEquals("org.postern.delivery.deferred",
                event("a@b", null, RecipientStatus.DEFERRED, "4.2.0", "450 try later").type());
        assertEquals("org.postern.delivery.bounced",
                event("a@b", null, RecipientStatus.BOUNCED, "5.1.1", "550 no such user").type());
        DeliveryEvent expired = event("a@b", null, RecipientStatus.BOUNCED, "5.4.7",
                "message expired: 450 try later");
        assertEquals("expired", expired.status());
        assertEquals("org.postern.delivery.expired", expired.type());
        assertEquals("expired", parse(expired.json()).getJsonObject("data").getString("status"));
    }

    @Test
    void missingValuesAreJsonNull() {
        DeliveryEvent e = DeliveryEvent.of("h", NOW, ARRIVAL, "Q", null, "a@b", null, RecipientStatus.DEFERRED, "4.4.1",
                "connect to x: Connection refused", null);
        JsonObject d = parse(e.json()).getJsonObject("data");
        assertEquals(JsonValue.NULL, d.get("message_id"));
        assertEquals(JsonValue.NULL, d.get("original_recipient"));
        assertEquals(JsonValue.NULL, d.get("relay"));
    }

    @Test
    void hostileRepliesAndAddressesStayInsideTheirStrings() {
        String reply = "550 5.7.1 \"},\"type\":\"evil\",\"x\":{\"a\":\"\\\r\n550 NUL\u0000 BEL\u0007 DEL\u007f"
                + " LS\u2028 é ü 😀 lone\ud800 end\\";
        String rcpt = "\"evil\\\"@example.net";
        String orcpt = "utf-8;\u00fcser\"}@example.net";
        DeliveryEvent e = event(rcpt, orcpt, RecipientStatus.BOUNCED, "5.7.1", reply);
        String json = e.json();

        // plain ASCII on one line, whatever the values hold
        assertTrue(StandardCharsets.US_ASCII.newEncoder().canEncode(json), json);
        assertTrue(json.chars().allMatch(c -> c >= 0x20 && c < 0x7f), json);
        JsonObject o = parse(json);
        assertEquals("org.postern.delivery.bounced", o.getString("type"));
        assertEquals(8, o.size());
        JsonObject d = o.getJsonObject("data");
        assertEquals(reply, d.getString("reply"));
        assertEquals(rcpt, d.getString("recipient"));
        assertEquals(rcpt, o.getString("subject"));
        assertEquals("\u00fcser\"}@example.net", d.getString("original_recipient"));
        assertEquals(9, d.size());
    }

    @Test
    void longValuesAreCutToFitTheRow() {
        String reply = "550 " + "\u0001".repeat(20000) + "😀".repeat(10);
        String rcpt = "\"".repeat(5000) + "@example.net";
        DeliveryEvent e = DeliveryEvent.of("h", NOW, ARRIVAL, "Q", "<" + "\u0000".repeat(5000) + ">", rcpt, "rfc822;" + rcpt,
                RecipientStatus.BOUNCED, "5.0.0", reply, "\\".repeat(5000));
        String json = e.json();

        assertTrue(json.length() <= DeliveryEventRow.MAX_EVENT, "length " + json.length());
        JsonObject d = parse(json).getJsonObject("data");
        assertEquals(DeliveryEvent.MAX_REPLY, d.getString("reply").length());
        assertTrue(reply.startsWith(d.getString("reply")));
        assertEquals(DeliveryEvent.MAX_ADDRESS, d.getString("recipient").length());
        assertEquals(DeliveryEvent.MAX_MESSAGE_ID, d.getString("message_id").length());
    }

    @Test
    void aCutNeverSplitsASurrogatePair() {
        String s = "a".repeat(9) + "😀";
        assertEquals("a".repeat(9), DeliveryEvent.cut(s, 10));
        assertEquals(s, DeliveryEvent.cut(s, 11));
    }

    @Test
    void everyEventHasItsOwnId() {
        DeliveryEvent a = event("a@b", null, RecipientStatus.SENT, "2.0.0", "250 ok");
        DeliveryEvent b = event("a@b", null, RecipientStatus.SENT, "2.0.0", "250 ok");
        assertNotEquals(a.id(), b.id());
        DeliveryEventRow row = a.row();
        assertEquals(a.id(), row.getEventId());
        assertEquals("sent", row.getStatus());
        assertEquals(a.json(), row.getEvent());
        assertEquals(NOW, row.getCreated());
    }

    @Test
    void theMessageIdIsReadFromTheHeader() {
        assertEquals("<a@b>", MessageIds.find(bytes("Subject: x\r\nmessage-ID:   <a@b>  \r\n\r\nMessage-ID: <body@x>\r\n")));
        assertEquals("<folded@example.org>", MessageIds.find(bytes("Message-Id:\r\n <folded@example.org>\r\n\r\n")));
        assertNull(MessageIds.find(bytes("Subject: x\r\n\r\nMessage-ID: <in-body@x>\r\n")));
        assertNull(MessageIds.find(bytes("Subject: x\nX-Message-ID: <no@x>\n\n")));
        assertNull(MessageIds.find(bytes("Message-ID:   \r\n\r\n")));
        assertEquals("<bare-lf@x>", MessageIds.find(bytes("From: a\nMessage-ID: <bare-lf@x>\n\nbody")));
        assertEquals("<cut@x", MessageIds.find(bytes("Message-ID: <cut@x")));
        assertNull(MessageIds.find(null));
        assertNull(MessageIds.find(new byte[0]));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
