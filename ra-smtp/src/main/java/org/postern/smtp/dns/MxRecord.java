package org.postern.smtp.dns;

/**
 * MxRecord - one mail exchanger.
 *
 * @param preference the MX preference, lower first
 * @param host       the exchanger's name without the trailing dot; "" for the root (a null MX, RFC 7505)
 */
public record MxRecord(int preference, String host) {

    /** isNull - true for the "." exchanger of a null MX. */
    public boolean isNull() {
        return host.isEmpty() || host.equals(".");
    }
}
