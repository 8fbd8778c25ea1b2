package org.postern.smtp.jca;

import jakarta.resource.spi.ConnectionRequestInfo;

import org.postern.smtp.api.NextHop;
import org.postern.smtp.api.SmtpClientSettings;

/**
 * SmtpClientRequestInfo - what a connection request asks for: a next hop with client
 * settings. Equal request infos may share a pooled (cached) session; this is the key of
 * Postfix's connection cache, the destination, plus the settings the session was made with.
 */
public record SmtpClientRequestInfo(NextHop hop, SmtpClientSettings settings) implements ConnectionRequestInfo {
}
