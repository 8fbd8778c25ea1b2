package org.postern.smtpd.policy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;

/**
 * DnsJavaLookup - {@link DnsLookup} on dnsjava's asynchronous resolver: queries go out
 * without a thread waiting for them.
 *
 * <p>The name servers are those of resolv.conf unless the system property
 * {@code postern.dns.servers} (comma separated {@code host:port}, the property the SMTP
 * client's resolver also reads) names others. Each query times out after 5 seconds.
 */
public final class DnsJavaLookup implements DnsLookup {
    private static final Logger LOG = Logger.getLogger("org.postern.smtpd");
    static final String SERVERS_PROPERTY = "postern.dns.servers";

    private final Resolver resolver;

    /** DnsJavaLookup - query these servers ({@code host:port}); empty for resolv.conf. */
    public DnsJavaLookup(List<String> servers, Duration timeout) {
        resolver = org.postern.smtp.dns.DnsJavaResolver.resolver(servers, timeout);
    }

    /** fromSystem - the servers of postern.dns.servers, or resolv.conf. */
    public static DnsJavaLookup fromSystem() {
        String prop = System.getProperty(SERVERS_PROPERTY, "").trim();
        List<String> servers = prop.isEmpty() ? List.of() : List.of(prop.split("\\s*,\\s*"));
        return new DnsJavaLookup(servers, Duration.ofSeconds(5));
    }

    @Override
    public CompletableFuture<Answer> lookup(String name, Type type) {
        Name qname;
        int qtype;
        try {
            if (type == Type.PTR) {
                qname = ReverseMap.fromAddress(InetAddress.getByName(literal(name)));
            } else {
                qname = Name.fromString(name.endsWith(".") ? name : name + ".");
            }
            qtype = org.xbill.DNS.Type.value(type.name());
        } catch (TextParseException | UnknownHostException e) {
            return CompletableFuture.completedFuture(new Answer(Status.NOT_FOUND, List.of()));
        }
        Message query = Message.newQuery(org.xbill.DNS.Record.newRecord(qname, qtype, DClass.IN));
        CompletableFuture<Answer> result = new CompletableFuture<>();
        try {
            resolver.sendAsync(query).whenComplete((response, error) -> {
                if (error != null) {
                    LOG.log(Level.FINE, "PSTN1111: DNS " + type + " " + name + ": " + error);
                    result.complete(Answer.TEMP_FAIL);
                } else {
                    result.complete(answer(response, type));
                }
            });
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "PSTN1111: DNS " + type + " " + name + ": " + e);
            result.complete(Answer.TEMP_FAIL);
        }
        return result;
    }

    /** literal - an address literal, never a name to resolve (PTR queries take addresses only). */
    private static String literal(String address) throws UnknownHostException {
        if (!Hostnames.validHostaddr(address)) {
            throw new UnknownHostException("not an address: " + address);
        }
        return address;
    }

    private static Answer answer(Message response, Type type) {
        int rcode = response.getRcode();
        if (rcode == Rcode.NXDOMAIN) {
            return new Answer(Status.NOT_FOUND, List.of());
        }
        if (rcode != Rcode.NOERROR) {
            return Answer.TEMP_FAIL;
        }
        List<String> values = new ArrayList<>();
        for (org.xbill.DNS.Record r : response.getSection(Section.ANSWER)) {
            if (r instanceof ARecord a && type == Type.A) {
                values.add(a.getAddress().getHostAddress());
            } else if (r instanceof AAAARecord a && type == Type.AAAA) {
                values.add(a.getAddress().getHostAddress());
            } else if (r instanceof MXRecord mx && type == Type.MX) {
                values.add(stripDot(mx.getTarget().toString()));
            } else if (r instanceof PTRRecord ptr && type == Type.PTR) {
                values.add(stripDot(ptr.getTarget().toString()));
            } else if (r instanceof TXTRecord txt && type == Type.TXT) {
                values.add(String.join("", txt.getStrings()));
            }
        }
        return new Answer(values.isEmpty() ? Status.NOT_FOUND : Status.FOUND, values);
    }

    private static String stripDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }
}
