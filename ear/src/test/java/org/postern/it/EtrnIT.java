package org.postern.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.EnterpriseArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * EtrnIT - the exchanges of Postfix's ETRN howto against the deployed EAR: an eligible
 * domain with deferred mail, an eligible domain without mail, a domain that is not
 * eligible, and an etrn-only domain whose mail moves only on ETRN.
 * (it-config: relay_domains = etrn.test, later.test, quiet.test; later.test goes through
 * the etrn-only transport, which is in defer_transports.)
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class EtrnIT {

    @Deployment(testable = false)
    static EnterpriseArchive deployment() {
        return Postern.ear();
    }

    @Test
    void anEligibleDomainWithDeferredMailGets250AndTheMailArrives() throws Exception {
        // the customer's server is down: the message is deferred and indexed for etrn.test
        String queueId = send("user@etrn.test");
        List<String> log = DeliveryIT.waitForLog(queueId, "status=deferred");
        assertTrue(log.stream().anyMatch(l -> l.contains("to=<user@etrn.test>") && l.contains("Connection refused")),
                log.toString());
        try (TestSink customer = TestSink.smtp(12529)) {
            assertEquals("250 Queuing started", etrn("etrn.test"));
            TestSink.Delivery d = customer.nextWith(queueId, 30);
            assertNotNull(d, "ETRN did not bring the deferred mail");
            assertTrue(d.text().contains("id " + queueId), d.text());
            DeliveryIT.waitForLog(queueId, "removed");
        }
    }

    @Test
    void anEligibleDomainWithoutMailGets250AndNothingMoves() throws Exception {
        try (TestSink customer = TestSink.smtp(12531)) {
            assertEquals("250 Queuing started", etrn("quiet.test"));
            assertNull(customer.next(3, TimeUnit.SECONDS));
            assertEquals(0, customer.connections());
        }
    }

    @Test
    void aDomainThatIsNotEligibleGets459() throws Exception {
        assertEquals("459 <not.a.customer.domain>: service unavailable", etrn("not.a.customer.domain"));
    }

    @Test
    void mailForAnEtrnOnlyDomainMovesOnlyOnEtrn() throws Exception {
        try (TestSink customer = TestSink.smtp(12530)) {
            String queueId = send("user@later.test");
            List<String> log = DeliveryIT.waitForLog(queueId, "status=deferred");
            assertTrue(log.stream().anyMatch(l -> l.contains("deferred transport")), log.toString());
            // several retry rounds pass (minimal_backoff_time = 2s): the mail waits
            assertNull(customer.next(6, TimeUnit.SECONDS), "etrn-only mail moved without ETRN");
            assertEquals(0, customer.connections());

            assertEquals("250 Queuing started", etrn("later.test"));
            TestSink.Delivery d = customer.nextWith(queueId, 30);
            assertNotNull(d, "ETRN did not move the etrn-only mail");
            assertTrue(d.text().contains("id " + queueId), d.text());
            DeliveryIT.waitForLog(queueId, "removed");
        }
    }

    /** send - one message to the recipient; its queue id. */
    private static String send(String rcpt) throws Exception {
        try (SmtpClient c = new SmtpClient(Postern.HOST, Postern.PORT)) {
            c.reply();
            c.send("EHLO client.example.org");
            c.reply();
            c.send("MAIL FROM:<sender@example.org>");
            assertEquals("250 2.1.0 Ok", c.reply());
            c.send("RCPT TO:<" + rcpt + ">");
            assertEquals("250 2.1.5 Ok", c.reply());
            c.send("DATA");
            c.reply();
            c.send("Subject: for " + rcpt);
            c.send("");
            c.send("while you were away");
            c.send(".");
            String id = Postern.queueId(c.reply());
            c.send("QUIT");
            c.reply();
            return id;
        }
    }

    /** etrn - the reply to ETRN domain, in a session of its own. */
    private static String etrn(String domain) throws Exception {
        return etrn(Postern.HOST, Postern.PORT, domain);
    }

    /** etrn - the reply of the server at host:port to ETRN domain, in a session of its own. */
    static String etrn(String host, int port, String domain) throws Exception {
        try (SmtpClient c = new SmtpClient(host, port)) {
            c.reply();
            c.send("EHLO customer.example");
            String ehlo = c.reply();
            assertTrue(ehlo.contains("ETRN"), ehlo);
            c.send("ETRN " + domain);
            String reply = c.reply();
            c.send("QUIT");
            c.reply();
            return reply;
        }
    }
}
