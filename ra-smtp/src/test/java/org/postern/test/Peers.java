package org.postern.test;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * Peers - what a test does when a real peer (a Debian package: Postfix, Dovecot, dnsmasq,
 * swaks, aiosmtpd, ...) is missing: on a developer's machine it is skipped with the
 * reason; under CI (environment CI=true) it fails, since test.sh installs every peer and a
 * skipped interop test would hide a gap.
 */
public final class Peers {
    /** CI - true when the suite runs under CI (CI=true), where nothing may be skipped for a missing peer. */
    public static final boolean CI = "true".equalsIgnoreCase(System.getenv("CI"));

    private Peers() {
    }

    /** assume - go on when {@code available}; else skip (fail under CI) with the reason. */
    public static void assume(boolean available, String reason) {
        if (!available) {
            abort(reason);
        }
    }

    /** abort - the peer is not there: skip, or fail under CI. */
    public static void abort(String reason) {
        if (CI) {
            fail("missing peer under CI (test.sh installs it): " + reason);
        }
        Assumptions.abort(reason);
    }
}
