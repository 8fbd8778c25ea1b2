package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * AcceptedMessagesTest - claims kept for their first delivery go stale after the scanner's
 * age, and at once when a delivery request could not be sent (the broker may have lost the
 * requests of every claim waiting then).
 */
class AcceptedMessagesTest {

    private static QueueStore.Claim claim(String queueId) {
        return new QueueStore.Claim(queueId, 1, "sender@example.test", Instant.now(), 10, 1, null, null, null, 1, true,
                List.of(), false, new byte[10], false, null);
    }

    @Test
    void aFailedSendMakesEveryWaitingClaimStaleAtOnce() {
        AcceptedMessages accepted = AcceptedMessages.shared();
        Instant now = Instant.now();
        accepted.put(claim("4AcceptedA1"), 10, now);
        accepted.put(claim("4AcceptedB2"), 10, now);
        try {
            assertEquals(List.of(), accepted.stale(now.plusSeconds(1), Duration.ofMinutes(5)), "young claims wait");

            AcceptedMessages.requestsLost();
            List<String> stale = accepted.stale(now.plusSeconds(1), Duration.ofMinutes(5)).stream()
                    .map(a -> a.claim().queueId()).sorted().toList();
            assertEquals(List.of("4AcceptedA1", "4AcceptedB2"), stale, "stale at once after a lost request");
            assertEquals(List.of(), accepted.stale(now.plusSeconds(1), Duration.ofMinutes(5)), "and given out once");
        } finally {
            accepted.take("4AcceptedA1");
            accepted.take("4AcceptedB2");
        }
    }

    @Test
    void aClaimTakenByItsRequestIsNotMadeStale() {
        AcceptedMessages accepted = AcceptedMessages.shared();
        Instant now = Instant.now();
        accepted.put(claim("4AcceptedC3"), 10, now);
        assertEquals("4AcceptedC3", accepted.take("4AcceptedC3").claim().queueId());
        AcceptedMessages.requestsLost();
        assertEquals(List.of(), accepted.stale(now, Duration.ofMinutes(5)));
    }
}
