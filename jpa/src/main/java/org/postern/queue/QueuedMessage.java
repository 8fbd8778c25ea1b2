package org.postern.queue;

import jakarta.persistence.CascadeType;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Index;
import jakarta.persistence.OneToMany;
import jakarta.persistence.OrderBy;
import jakarta.persistence.Table;
import jakarta.persistence.Version;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * QueuedMessage - the envelope of one message in the queue (Postfix's queue file minus
 * the content, which is in {@link ContentChunk} rows).
 *
 * <p>The row, its recipients and its content are written in one transaction by the smtpd
 * endpoint; the client sees 250 only after that commit. The lease (leaseUntil) marks a
 * message that a queue manager is delivering right now, so that a second delivery
 * request for it (a retry, a sweep, a duplicate JMS message) is dropped.
 */
@Entity
@Table(name = "queue_message", indexes = {
        @Index(name = "queue_message_due", columnList = "state, next_attempt")})
public class QueuedMessage {

    @Id
    @Column(name = "queue_id", length = 32)
    private String queueId;

    @Column(name = "sender", length = 1024, nullable = false)
    private String sender;

    // VARCHAR on every database, as the PostgreSQL migration has it: Hibernate would make
    // it H2's native ENUM type, and after a restart on an existing H2 file queries that
    // compare it with a list of values failed with a data conversion error
    @Enumerated(EnumType.STRING)
    @Column(name = "state", length = 16, nullable = false, columnDefinition = "VARCHAR(16)")
    private QueueState state;

    @Column(name = "arrival", nullable = false)
    private Instant arrival;

    @Column(name = "size_bytes", nullable = false)
    private long size;

    @Column(name = "client_name", length = 255)
    private String clientName;

    @Column(name = "client_address", length = 64)
    private String clientAddress;

    /** the client's TCP port; null when unknown (mail queued before schema V6, local mail) */
    @Column(name = "client_port")
    private Integer clientPort;

    @Column(name = "helo", length = 255)
    private String helo;

    @Column(name = "protocol", length = 16)
    private String protocol;

    @Column(name = "service", length = 128)
    private String service;

    /** RFC 3461 ENVID, RET and the BODY= parameter of MAIL FROM */
    @Column(name = "envid", length = 255)
    private String envid;

    @Column(name = "ret", length = 8)
    private String ret;

    @Column(name = "body_type", length = 16)
    private String bodyType;

    @Column(name = "content_chunks", nullable = false)
    private int contentChunks;

    /** earliest time a recipient is due; null when nothing is due (all done, or held) */
    @Column(name = "next_attempt")
    private Instant nextAttempt;

    /** a queue manager holds the message until then */
    @Column(name = "lease_until")
    private Instant leaseUntil;

    /** the node (jboss.node.name) whose queue manager holds the lease */
    @Column(name = "lease_owner", length = 128)
    private String leaseOwner;

    @Column(name = "active_since")
    private Instant activeSince;

    /**
     * a flush (ETRN, sendmail -q) asked for the next round: it ignores defer_transports;
     * null means false (a column added by migration V3, so nullable)
     */
    @Column(name = "flush_requested")
    private Boolean flushRequested;

    /** postsuper -e/-f: returned to the sender at the next delivery round (null means false) */
    @Column(name = "forced_expire")
    private Boolean forcedExpire;

    @Version
    @Column(name = "version", nullable = false)
    private long version;

    @OneToMany(mappedBy = "message", cascade = CascadeType.ALL, orphanRemoval = true)
    @OrderBy("position")
    private List<QueuedRecipient> recipients = new ArrayList<>();

    protected QueuedMessage() {
    }

    public QueuedMessage(String queueId, String sender, Instant arrival) {
        this.queueId = queueId;
        this.sender = sender;
        this.arrival = arrival;
        this.state = QueueState.INCOMING;
        this.nextAttempt = arrival;
    }

    /** addRecipient - append a recipient in RCPT order. */
    public QueuedRecipient addRecipient(String address, String orcpt, String notify) {
        QueuedRecipient r = new QueuedRecipient(this, recipients.size(), address, orcpt, notify);
        recipients.add(r);
        return r;
    }

    public String getQueueId() { return queueId; }
    public String getSender() { return sender; }
    public QueueState getState() { return state; }
    public void setState(QueueState state) { this.state = state; }
    public Instant getArrival() { return arrival; }
    public long getSize() { return size; }
    public void setSize(long size) { this.size = size; }
    public String getClientName() { return clientName; }
    public String getClientAddress() { return clientAddress; }
    public void setClient(String name, String address) { this.clientName = name; this.clientAddress = address; }
    public Integer getClientPort() { return clientPort; }
    public void setClientPort(Integer port) { this.clientPort = port; }
    public String getHelo() { return helo; }
    public void setHelo(String helo) { this.helo = helo; }
    public String getProtocol() { return protocol; }
    public void setProtocol(String protocol) { this.protocol = protocol; }
    public String getService() { return service; }
    public void setService(String service) { this.service = service; }
    public String getEnvid() { return envid; }
    public void setEnvid(String envid) { this.envid = envid; }
    public String getRet() { return ret; }
    public void setRet(String ret) { this.ret = ret; }
    public String getBodyType() { return bodyType; }
    public void setBodyType(String bodyType) { this.bodyType = bodyType; }
    public int getContentChunks() { return contentChunks; }
    public void setContentChunks(int contentChunks) { this.contentChunks = contentChunks; }
    public Instant getNextAttempt() { return nextAttempt; }
    public void setNextAttempt(Instant nextAttempt) { this.nextAttempt = nextAttempt; }
    public Instant getLeaseUntil() { return leaseUntil; }
    public void setLeaseUntil(Instant leaseUntil) { this.leaseUntil = leaseUntil; }
    public String getLeaseOwner() { return leaseOwner; }
    public void setLeaseOwner(String leaseOwner) { this.leaseOwner = leaseOwner; }
    public Instant getActiveSince() { return activeSince; }
    public void setActiveSince(Instant activeSince) { this.activeSince = activeSince; }
    public boolean isFlushRequested() { return Boolean.TRUE.equals(flushRequested); }
    public void setFlushRequested(boolean flushRequested) { this.flushRequested = flushRequested; }
    public boolean isForcedExpire() { return Boolean.TRUE.equals(forcedExpire); }
    public void setForcedExpire(boolean forcedExpire) { this.forcedExpire = forcedExpire; }
    public List<QueuedRecipient> getRecipients() { return recipients; }
    public long getVersion() { return version; }
}
