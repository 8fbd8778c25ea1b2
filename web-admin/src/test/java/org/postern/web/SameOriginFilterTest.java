package org.postern.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** SameOriginFilterTest - which requests that change something come from the console's own origin. */
class SameOriginFilterTest {

    private static String refusal(String fetchSite, String origin, String referer) {
        return SameOriginFilter.refusal(fetchSite, origin, referer, "http", "127.0.0.1", 8180);
    }

    @Test
    void theConsolesOwnPagesPass() {
        assertNull(refusal("same-origin", "http://127.0.0.1:8180", "http://127.0.0.1:8180/postern/queue.xhtml"));
        assertNull(refusal(null, "HTTP://127.0.0.1:8180", null));
        assertNull(refusal(null, null, "http://127.0.0.1:8180/postern/server.xhtml?q=x"));
        // typed in the address bar or a bookmark
        assertNull(refusal("none", null, null));
    }

    @Test
    void aClientThatIsNotABrowserPasses() {
        assertNull(refusal(null, null, null));
    }

    @Test
    void anotherOriginIsRefused() {
        assertEquals("Origin http://evil.example is not http://127.0.0.1:8180",
                refusal(null, "http://evil.example", null));
        // another port of the same host is another origin
        assertEquals("Origin http://127.0.0.1:8181 is not http://127.0.0.1:8180",
                refusal(null, "http://127.0.0.1:8181", "http://127.0.0.1:8180/postern/"));
        assertEquals("Origin https://127.0.0.1:8180 is not http://127.0.0.1:8180",
                refusal(null, "https://127.0.0.1:8180", null));
        // a sandboxed frame or a data: page
        assertEquals("Origin null is not http://127.0.0.1:8180", refusal(null, "null", null));
        assertEquals("Referer from http://evil.example:80 is not http://127.0.0.1:8180",
                refusal(null, null, "http://evil.example/page.html"));
        assertEquals("Referer from an unreadable address is not http://127.0.0.1:8180",
                refusal(null, null, "not a url"));
    }

    @Test
    void theBrowsersOwnVerdictIsBelievedFirst() {
        assertEquals("Sec-Fetch-Site: cross-site", refusal("cross-site", "http://127.0.0.1:8180", null));
        assertEquals("Sec-Fetch-Site: same-site", refusal("same-site", null, null));
    }

    @Test
    void defaultPortsAreWrittenOrNot() {
        assertNull(SameOriginFilter.refusal(null, "https://mail.example.org", null, "https", "mail.example.org", 443));
        assertNull(SameOriginFilter.refusal(null, "http://Mail.Example.org:80", null, "http", "mail.example.org", 80));
    }
}
