package org.postern.submit;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.Resource;
import jakarta.ejb.ActivationConfigProperty;
import jakarta.ejb.EJB;
import jakarta.ejb.MessageDriven;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.jms.BytesMessage;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSException;
import jakarta.jms.JMSRuntimeException;
import jakarta.jms.Message;
import jakarta.jms.MessageFormatException;
import jakarta.jms.MessageListener;
import jakarta.jms.Queue;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.io.ByteArrayInputStream;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Logger;
import org.postern.cleanup.CleanupService;
import org.postern.cleanup.QueueAccept;
import org.postern.cleanup.QueueSync;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.Parameters;
import org.postern.qmgr.DeliveryRequests;
import org.postern.queue.QueuedMessage;
import org.postern.service.ConfigService;
import org.postern.service.MailLog;
import org.postern.smtpd.api.EnqueueException;
import org.postern.smtpd.api.Envelope;
import org.postern.smtpd.api.QueueIds;

/**
 * SubmitEndpoint - mail submitted by applications on the JMS queue postern.submit
 * (Postern's pickup(8) for a corporate message bus).
 *
 * <h2>DESCRIPTION</h2>
 * An application puts a BytesMessage on postern.submit (JNDI
 * java:/jms/queue/postern/submit): the RFC 5322 message as the body, the envelope as
 * string properties: postern_sender, postern_recipients, and optionally postern_notify,
 * postern_orcpt, postern_ret, postern_envid ({@link Submission} has their syntax, README.md
 * "Submitting mail over JMS" an example). The endpoint checks the message as smtpd checks
 * SMTP mail (message_size_limit, jms_recipient_limit, address and DSN syntax),
 * applies jms_sender_restrictions ({@link SenderPolicy}), and queues it through the very
 * accept path of smtpd ({@link QueueAccept}): the same group commit, shared with the
 * node's smtpd sessions, so it is committed and synced to disk before this bean returns.
 *
 * <p>Acknowledgement: the bean runs without a transaction (NOT_SUPPORTED), so the
 * resource adapter acknowledges the JMS message when {@link #onMessage} returns, which is
 * after the mail is on disk. The outcomes:
 * <ul>
 * <li>queued: logged "QUEUEID: client=jms[postern.submit], jms_message_id=ID:...", then
 * as any mail: cleanup's message-id=, qmgr's from=&lt;...&gt;, size=, nrcpt= (queue active),
 * the delivery agents' lines;</li>
 * <li>refused for good (malformed, too large, a sender the policy refuses): copied to the
 * dead-letter queue postern.submit.dead with the reason in postern_error and
 * postern_status ({@link DeadLetters}), logged "NOQUEUE: reject: JMS from
 * postern.submit[ID:...]: REPLY; from=&lt;...&gt; proto=JMS", and acknowledged; nothing is
 * queued;</li>
 * <li>a failure that may pass (the database unreachable, a sync that failed, a
 * configuration error in jms_sender_restrictions, the dead-letter queue unreachable):
 * logged, and onMessage throws, so that the broker delivers the message again after the
 * redelivery delay of postern.submit's address-setting (configure-jms.cli: 1 s, doubled
 * each time up to 5 min, 300 attempts, about a day). Such a message never goes to the
 * dead-letter queue for the failure itself; only when the broker gives up after the last
 * attempt does it move it there, without postern_error.</li>
 * </ul>
 *
 * <p>Duplicates: a crash between the commit and the acknowledgement makes the broker
 * deliver the message again, with JMSRedelivered set. The queue id of a submission is
 * derived from its JMSTimestamp and JMSMessageID ({@link QueueIds#derived}), so a
 * redelivered message whose first copy is still in the queue finds that copy under its own
 * id (same sender and size) and is acknowledged without being queued twice ("duplicate"
 * in the log). The guarantee is at least once: a copy that was already delivered and
 * removed, or a message without JMSTimestamp (the producer disabled it), is queued again.
 * A different message that happens to get the same id (same millisecond, 1 in 2^20) is
 * told apart by sender and size and gets a fresh id.
 *
 * <h2>CONFIGURATION PARAMETERS</h2>
 * message_size_limit (10240000), jms_recipient_limit ($smtpd_recipient_limit),
 * jms_sender_restrictions (empty), myhostname and mail_name (the Received: header), and
 * those of QueueAccept. The queues and their redelivery are configure-jms.cli's; this
 * bean takes at most 16 messages at a time (maxSession).
 *
 * <h2>SECURITY</h2>
 * Who may send to postern.submit is the broker's business (its roles; on the embedded
 * broker the ApplicationRealm role guest). Everything in a submission is data: addresses
 * are parsed, the body is checked and stored, never interpreted; an ObjectMessage is never
 * deserialized.
 *
 * <h2>BUGS</h2>
 * No reply is sent to JMSReplyTo: the application learns the queue id from the log only.
 * Lines are not chopped at line_length_limit. Each redelivery after a passing failure logs,
 * besides PSTN7001, the container's and the resource adapter's errors with a stack trace
 * (WFLYEJB0034, AMQ154004): throwing is the only way a bean without a transaction can
 * have its message delivered again. The dead-letter copy and the acknowledgement are not
 * one transaction: a crash between them leaves two copies in the dead-letter queue.
 *
 * <h2>SEE ALSO</h2>
 * Submission, SenderPolicy, DeadLetters, QueueAccept, SmtpdEndpoint, pickup(8)
 */
@MessageDriven(name = "SubmitEndpoint", activationConfig = {
        @ActivationConfigProperty(propertyName = "destinationType", propertyValue = "jakarta.jms.Queue"),
        @ActivationConfigProperty(propertyName = "destinationLookup", propertyValue = SubmitEndpoint.QUEUE_JNDI),
        @ActivationConfigProperty(propertyName = "maxSession", propertyValue = "16")})
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class SubmitEndpoint implements MessageListener {
    private static final Logger LOG = Logger.getLogger("org.postern.submit");

    /** the JNDI name of the submission queue */
    public static final String QUEUE_JNDI = "java:/jms/queue/postern/submit";
    /** the JNDI name of its dead-letter queue */
    public static final String DEAD_JNDI = "java:/jms/queue/postern/submit/dead";

    @EJB
    private CleanupService cleanup;

    @EJB
    private QueueSync sync;

    @EJB
    private DeliveryRequests requests;

    @EJB
    private ConfigService configService;

    @PersistenceContext(unitName = "postern")
    private EntityManager em;

    @Resource(lookup = "java:/JmsXA")
    private ConnectionFactory factory;

    @Resource(lookup = DEAD_JNDI)
    private Queue dead;

    @jakarta.annotation.Resource

    private jakarta.enterprise.concurrent.ManagedExecutorService executor;


    private QueueAccept accept;

    @PostConstruct
    void init() {
        accept = new QueueAccept(cleanup, sync, requests, configService, executor);
    }

    @Override
    public void onMessage(Message message) {
        String jmsId;
        long timestamp;
        boolean redelivered;
        try {
            jmsId = message.getJMSMessageID();
            timestamp = message.getJMSTimestamp();
            redelivered = message.getJMSRedelivered();
        } catch (JMSException e) {
            throw transient_("?", "unreadable JMS message header: " + e, e);
        }
        Config config = configService.current();
        String queueId = timestamp > 0 && jmsId != null ? QueueIds.derived(timestamp, jmsId) : QueueIds.next();
        Instant arrival = timestamp > 0 ? Instant.ofEpochMilli(timestamp) : Instant.now();
        Map<String, String> properties = new HashMap<>();
        Function<String, String> property = name -> properties.computeIfAbsent(name, n -> read(message, n));
        Submission submission;
        SenderPolicy.Decision decision;
        try {
            submission = read(message, property, queueId, arrival, config);
            if (redelivered) {
                QueuedMessage first = em.find(QueuedMessage.class, queueId);
                if (first != null && first.getSender().equals(submission.envelope().sender())
                        && first.getSize() == submission.envelope().size()) {
                    MailLog.jms(queueId + ": duplicate: jms_message_id=" + jmsId + " is already queued");
                    return;
                }
                if (first != null) {
                    // another message got the same id: this one takes a fresh one
                    submission = read(message, property, QueueIds.next(), arrival, config);
                }
            }
            decision = SenderPolicy.check(config, submission.envelope().sender());
        } catch (Rejection r) {
            reject(message, jmsId, property, r);
            return;
        } catch (BadProperty e) {
            reject(message, jmsId, property, new Rejection(e.getMessage()));
            return;
        } catch (ConfigException e) {
            // as smtpd's "451 4.3.5 Server configuration error": nothing is lost, a fix and a reload cure it
            throw transient_(jmsId, "jms_sender_restrictions: server configuration error: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw transient_(jmsId, "submission not read: " + e, e);
        }
        Envelope env = submission.envelope();
        if (decision.hold() != null || decision.discard() != null) {
            Map<String, String> params = new HashMap<>(env.mailParams());
            if (decision.discard() != null) {
                params.put(Envelope.DISCARD, decision.discard());
            } else {
                params.put(Envelope.HOLD, decision.hold());
            }
            env = new Envelope(env.queueId(), env.sender(), params, env.recipients(), env.clientName(),
                    env.clientAddress(), env.clientPort(), env.helo(), env.protocol(), env.service(), env.arrival(),
                    env.size());
        }
        if (decision.discard() != null) {
            MailLog.jms(env.queueId() + ": discard: JMS from " + Submission.QUEUE + "[" + jmsId + "]: "
                    + decision.discard() + "; from=<" + env.sender() + "> proto=JMS");
            return;
        }
        MailLog.jms(env.queueId() + ": client=jms[" + Submission.QUEUE + "], jms_message_id=" + jmsId);
        try {
            accept.enqueue(env, new ByteArrayInputStream(submission.content()));
        } catch (EnqueueException e) {
            // nothing of it is known to be on disk: the broker delivers it again later
            throw transient_(jmsId, env.queueId() + ": queue file write error: " + e.getMessage(), e);
        }
    }

    /* read - the submission of the message, with the limits of the configuration */
    private static Submission read(Message message, Function<String, String> property, String queueId,
                                   Instant arrival, Config config) throws Rejection {
        long sizeLimit = config.get(Parameters.MESSAGE_SIZE_LIMIT);
        byte[] body = null;
        if (message instanceof BytesMessage b) {
            try {
                long length = b.getBodyLength();
                if (sizeLimit > 0 && length > sizeLimit) {
                    // the body is not read at all
                    throw new Rejection(Submission.SIZE_EXCEEDS);
                }
                if (length > Integer.MAX_VALUE - 8) {
                    // message_size_limit = 0 (none): a body is still read into one array
                    throw new Rejection("552 5.3.4 Message size exceeds file system imposed limit");
                }
                b.reset();
                body = new byte[(int) length];
                b.readBytes(body);
            } catch (JMSException e) {
                throw new IllegalStateException("body not readable: " + e, e);
            }
        }
        return Submission.read(property, body, queueId, arrival, new Submission.Limits(sizeLimit,
                config.get(Parameters.JMS_RECIPIENT_LIMIT), config.get(Parameters.MYHOSTNAME),
                config.get(Parameters.MAIL_NAME)));
    }

    /*
     * read - a property as a string, null when absent; one of a type that has no string
     * form the submission refuses (a MessageFormatException is permanent)
     */
    private static String read(Message message, String name) {
        try {
            return message.propertyExists(name) ? message.getStringProperty(name) : null;
        } catch (MessageFormatException e) {
            throw new BadProperty(name);
        } catch (JMSException e) {
            throw new JMSRuntimeException(e.getMessage(), e.getErrorCode(), e);
        }
    }

    /** BadProperty - a property that cannot be read as a string. */
    private static final class BadProperty extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadProperty(String name) {
            super("554 5.6.0 Error: property " + name + " is not a string");
        }
    }

    /*
     * reject - log the refusal and copy the message to the dead-letter queue; a failure to
     * do so is transient (the message comes again)
     */
    private void reject(Message message, String jmsId, Function<String, String> property, Rejection r) {
        String from;
        try {
            from = Submission.sender(property);
        } catch (Rejection | RuntimeException e) {
            from = null;
        }
        MailLog.jms("NOQUEUE: reject: JMS from " + Submission.QUEUE + "[" + jmsId + "]: " + r.reply() + ";"
                + (from == null ? "" : " from=<" + from + ">") + " proto=JMS");
        try (JMSContext ctx = factory.createContext()) {
            DeadLetters.send(ctx, dead, message, r);
        } catch (JMSException | JMSRuntimeException e) {
            throw transient_(jmsId, "dead-letter queue " + Submission.QUEUE + ".dead not reached: " + e, e);
        }
    }

    /* transient_ - log, and the exception that makes the broker deliver the message again */
    private static RuntimeException transient_(String jmsId, String why, Throwable cause) {
        LOG.warning("PSTN7001: " + jmsId + ": submission not queued, delivered again later: " + why);
        return new IllegalStateException("PSTN7001: " + why, cause);
    }
}
