package org.postern.admin;

import java.beans.ConstructorProperties;

/** RecipientEntry - a recipient still to be delivered and why it waits (empty: not tried yet). */
public final class RecipientEntry implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final String address;
    private final String delayReason;

    @ConstructorProperties({"address", "delayReason"})
    public RecipientEntry(String address, String delayReason) {
        this.address = address;
        this.delayReason = delayReason;
    }

    public String getAddress() { return address; }
    public String getDelayReason() { return delayReason; }
}
