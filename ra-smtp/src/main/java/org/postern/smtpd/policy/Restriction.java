package org.postern.smtpd.policy;

import org.postern.config.maps.LookupTable;

/**
 * Restriction - one element of an smtpd_*_restrictions list: its kind and, for the
 * check_*_access restrictions, its lookup table, or its argument.
 *
 * <p>Lists are parsed by {@link Restrictions#parseList}.
 *
 * @param kind  the restriction (aliases replaced by the current name)
 * @param table the table of a check_*_access restriction, otherwise null
 * @param arg   the DNS domain of reject_rbl_client and reject_rhsbl_* (with an optional
 *              =address filter), the server of check_policy_service (with its { }
 *              attributes), the seconds of sleep, otherwise null
 */
record Restriction(RestrictionKind kind, LookupTable table, String arg) {

    /** name - the restriction name, lower case. */
    String name() {
        return kind.name();
    }

    @Override
    public String toString() {
        return table != null ? name() + " " + table.spec() : arg != null ? name() + " " + arg : name();
    }
}
