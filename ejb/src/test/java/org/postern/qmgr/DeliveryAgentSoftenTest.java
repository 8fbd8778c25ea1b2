package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.postern.smtp.api.DeliveryOutcome;
import org.postern.smtp.api.NextHop;

/** DeliveryAgent.soften: a DNS failure of a relay host or fallback relay is not the recipient's. */
class DeliveryAgentSoftenTest {

    @Test
    void aLookupFailureOfARelayhostDefersInsteadOfBouncing() {
        DeliveryOutcome.RecipientOutcome nx = new DeliveryOutcome.RecipientOutcome("a@dom.example",
                DeliveryOutcome.Status.BOUNCED, "5.4.4", "Host or domain name not found.");
        assertEquals(DeliveryOutcome.Status.BOUNCED, DeliveryAgent.soften(nx, NextHop.smtp("dom.example", 25, true)).status());
        DeliveryOutcome.RecipientOutcome soft = DeliveryAgent.soften(nx, NextHop.smtp("relay.example", 25, false));
        assertEquals(DeliveryOutcome.Status.DEFERRED, soft.status());
        assertEquals("4.4.4", soft.dsn());
    }
}
