package org.postern.smtp;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.postern.config.maps.LookupTable;
import org.postern.config.maps.LookupTables;

/**
 * SmtpSasl - the SASL client of smtp(8) (RFC 4954 AUTH): which mechanism, which credentials,
 * and the client responses of CRAM-MD5 (RFC 2195), PLAIN (RFC 4616) and LOGIN.
 *
 * <h2>DESCRIPTION</h2>
 * A mechanism is usable when the server offers it, smtp_sasl_mechanism_filter (if set) lists
 * it, and the security options allow it: noplaintext excludes PLAIN and LOGIN, nodictionary
 * excludes all three (they are all open to dictionary attacks), noanonymous excludes
 * ANONYMOUS (never used). Preference: CRAM-MD5, PLAIN, LOGIN. Credentials come from
 * smtp_sasl_password_maps as "username:password", looked up by the server's host name, then
 * by the next-hop destination; no entry means no AUTH at all (lmtp(8): "No entry for a host
 * means no attempt to authenticate").
 *
 * <h2>SECURITY</h2>
 * Passwords are held only for the exchange and never logged. The default options forbid the
 * plaintext mechanisms outside TLS.
 */
final class SmtpSasl {

    /** Credentials - a username and password; toString hides the password. */
    record Credentials(String user, String password) {
        @Override
        public String toString() {
            return "Credentials[" + user + ", ****]";
        }
    }

    private static final List<String> PREFERENCE = List.of("CRAM-MD5", "PLAIN", "LOGIN");
    private static volatile Map.Entry<List<String>, List<LookupTable>> tables;

    private SmtpSasl() {
    }

    /** usable - the mechanisms to try, in order of preference. */
    static List<String> usable(List<String> offered, List<String> filter, List<String> options) {
        List<String> out = new ArrayList<>();
        for (String m : PREFERENCE) {
            if (!offered.contains(m) || (!filter.isEmpty() && !filter.contains(m))) {
                continue;
            }
            boolean plaintext = m.equals("PLAIN") || m.equals("LOGIN");
            if (plaintext && options.contains("noplaintext") || options.contains("nodictionary")) {
                continue;
            }
            out.add(m);
        }
        return out;
    }

    /** credentials - the first "user:password" entry for these keys, or null. */
    static Credentials credentials(List<String> maps, List<String> keys) {
        if (maps.isEmpty()) {
            return null;
        }
        Map.Entry<List<String>, List<LookupTable>> cached = tables;
        List<LookupTable> open;
        if (cached != null && cached.getKey().equals(maps)) {
            open = cached.getValue();
        } else {
            open = new ArrayList<>();
            for (String spec : maps) {
                open.add(LookupTables.open(spec));
            }
            tables = Map.entry(List.copyOf(maps), open);
        }
        for (String key : keys) {
            for (LookupTable t : open) {
                Optional<String> v = t.lookup(key.toLowerCase(Locale.ROOT));
                if (v.isPresent()) {
                    String value = v.get().trim();
                    int colon = value.indexOf(':');
                    return colon < 0 ? new Credentials(value, "")
                            : new Credentials(value.substring(0, colon), value.substring(colon + 1));
                }
            }
        }
        return null;
    }

    /** plain - the initial response of PLAIN: authzid empty, NUL, user, NUL, password. */
    static String plain(Credentials c) {
        return b64("\0" + c.user() + "\0" + c.password());
    }

    /** cramMd5 - the response to a CRAM-MD5 challenge (base64 in, base64 out). */
    static String cramMd5(Credentials c, String challenge64) {
        try {
            byte[] challenge = Base64.getDecoder().decode(challenge64.trim());
            Mac mac = Mac.getInstance("HmacMD5");
            mac.init(new SecretKeySpec(c.password().getBytes(StandardCharsets.UTF_8), "HmacMD5"));
            return b64(c.user() + " " + HexFormat.of().formatHex(mac.doFinal(challenge)));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return "*";   // RFC 4954 section 4: cancel the exchange
        }
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
