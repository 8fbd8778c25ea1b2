package org.postern.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.util.Locale;
import java.util.Set;
import java.util.logging.Logger;

/**
 * SameOriginFilter - every request that changes something (any method but GET, HEAD,
 * OPTIONS and TRACE), to the console's pages and to the JSON API alike, must come from
 * the console's own origin; another web site's page, whose form or script the logged-in
 * administrator's browser would otherwise send with the session cookie (cross-site
 * request forgery), is answered 403 with the reason, and the refusal is logged.
 *
 * <p>SECURITY: the browser says where a request comes from, and a page cannot forge it:
 * Sec-Fetch-Site ({@code cross-site} or {@code same-site} is refused: another port or
 * subdomain of the same host is another origin), else the Origin header, else the
 * Referer; each must name the request's own scheme://host:port. A request with none of
 * them is not a browser's (curl, postqueue-like scripts with their own credentials) and
 * passes: forgery needs a browser. The login form itself (j_security_check) is answered
 * by the server before any filter. JSF's view state kept on the server (the default) is
 * a second guard for the pages: a POST without the page's ViewState changes nothing.
 *
 * <p>BUGS: behind a proxy that rewrites Host, the origin the request names is the
 * proxy's; configure the proxy to keep Host (or WildFly's proxy-address-forwarding).
 */
@WebFilter(urlPatterns = "/*")
public class SameOriginFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger(SameOriginFilter.class.getName());
    /** methods that change nothing (RFC 9110 section 9.2.1) */
    private static final Set<String> SAFE = Set.of("GET", "HEAD", "OPTIONS", "TRACE");

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String refused = SAFE.contains(request.getMethod()) ? null
                : refusal(request.getHeader("Sec-Fetch-Site"), request.getHeader("Origin"), request.getHeader("Referer"),
                        request.getScheme(), request.getServerName(), request.getServerPort());
        if (refused == null) {
            chain.doFilter(request, response);
            return;
        }
        LOG.warning("PSTN6104: refused " + request.getMethod() + " " + request.getRequestURI() + " from "
                + request.getRemoteAddr() + " user=" + (request.getUserPrincipal() != null
                ? request.getUserPrincipal().getName() : "-") + ": " + refused);
        response.setStatus(HttpServletResponse.SC_FORBIDDEN);
        response.setContentType("text/plain");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.getWriter().write("403 Forbidden: a request that changes something must come from the console's own"
                + " pages (" + refused + ")\n");
    }

    /**
     * refusal - why a request that changes something does not come from this origin
     * (scheme, host, port as the request names them), or null when it does or when the
     * request is not a browser's (no Sec-Fetch-Site, Origin or Referer).
     */
    static String refusal(String fetchSite, String origin, String referer, String scheme, String host, int port) {
        if (fetchSite != null && !fetchSite.equals("same-origin") && !fetchSite.equals("none")) {
            return "Sec-Fetch-Site: " + fetchSite;
        }
        String own = origin(scheme, host, port);
        if (origin != null) {
            String o = origin(origin.strip());
            return own.equals(o) ? null : "Origin " + origin.strip() + " is not " + own;
        }
        if (referer != null) {
            String r = origin(referer.strip());
            return own.equals(r) ? null : "Referer from " + (r != null ? r : "an unreadable address") + " is not " + own;
        }
        return null;
    }

    /** origin - scheme://host:port of an absolute URL, lower case, the port always written; null when unreadable. */
    static String origin(String url) {
        try {
            URI u = new URI(url);
            if (u.getScheme() == null || u.getHost() == null) {
                return null;
            }
            return origin(u.getScheme(), u.getHost(), u.getPort());
        } catch (java.net.URISyntaxException e) {
            return null;
        }
    }

    private static String origin(String scheme, String host, int port) {
        String s = scheme.toLowerCase(Locale.ROOT);
        int p = port >= 0 ? port : s.equals("https") ? 443 : s.equals("http") ? 80 : -1;
        return s + "://" + host.toLowerCase(Locale.ROOT) + ":" + p;
    }
}
