package org.postern.smtp.jca;

import jakarta.resource.spi.ManagedConnectionMetaData;

/** SmtpClientManagedConnectionMetaData - describes the peer product of a managed connection. */
final class SmtpClientManagedConnectionMetaData implements ManagedConnectionMetaData {

    private final String relay;

    SmtpClientManagedConnectionMetaData(String relay) {
        this.relay = relay;
    }

    @Override
    public String getEISProductName() {
        return "SMTP/LMTP server " + relay;
    }

    @Override
    public String getEISProductVersion() {
        return "unknown";
    }

    @Override
    public int getMaxConnections() {
        return 0;   // no limit of ours; smtp_destination_concurrency_limit is the queue manager's
    }

    @Override
    public String getUserName() {
        return "";
    }
}
