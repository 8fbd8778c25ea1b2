package org.postern.qmgr;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private static final Duration MIN = Duration.ofSeconds(300);
    private static final Duration MAX = Duration.ofSeconds(4000);

    @Test
    void theIntervalIsTheMessageAgeWithinMinimalAndMaximalBackoff() {
        assertEquals(MIN, RetrySchedule.backoff(Duration.ofSeconds(5), MIN, MAX));
        assertEquals(Duration.ofSeconds(1200), RetrySchedule.backoff(Duration.ofSeconds(1200), MIN, MAX));
        assertEquals(MAX, RetrySchedule.backoff(Duration.ofDays(2), MIN, MAX));
    }
}
