package org.postern.smtp;

import org.postern.smtp.api.OutboundMessage;
import org.postern.smtp.api.SmtpClientSettings;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.postern.smtp.api.OutboundMessage.OutboundRecipient;

/** SmtpTestSupport - settings with tiny time limits and message builders for client tests. */
final class SmtpTestSupport {

    private SmtpTestSupport() {
    }

    /** settings - every stage limited to {@code ms} milliseconds, connect 2 s. */
    static SmtpClientSettings settings(long ms) {
        Duration d = Duration.ofMillis(ms);
        return new SmtpClientSettings("client.test", Duration.ofSeconds(2), d, d, d, d, d, d, d, d, 998);
    }

    static SmtpClientSettings fast() {
        return settings(2000);
    }

    static OutboundMessage message(String content, String... rcpts) {
        return message(content.getBytes(StandardCharsets.UTF_8), false, rcpts);
    }

    static OutboundMessage message(byte[] content, boolean body8bit, String... rcpts) {
        List<OutboundRecipient> rs = new ArrayList<>();
        for (String r : rcpts) {
            rs.add(new OutboundRecipient(r, null, null));
        }
        return new OutboundMessage("QID1", "sender@client.test", rs, content.length,
                () -> new ByteArrayInputStream(content), null, null, body8bit);
    }
}
