package org.postern.submit;

import jakarta.jms.BytesMessage;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSException;
import jakarta.jms.MapMessage;
import jakarta.jms.Message;
import jakarta.jms.ObjectMessage;
import jakarta.jms.Queue;
import jakarta.jms.StreamMessage;
import jakarta.jms.TextMessage;
import java.util.Collections;

/**
 * DeadLetters - a refused submission copied to the dead-letter queue postern.submit.dead,
 * with the reason.
 *
 * <h2>DESCRIPTION</h2>
 * The copy has the body of the original (bytes, text, map or stream), its properties, its
 * JMSCorrelationID and JMSType, and three properties more: {@value #ERROR} (the reply, as
 * smtpd would give it: "552 5.3.4 Message size exceeds fixed limit"), {@value #STATUS}
 * (its enhanced status code, 5.3.4) and {@value #ORIGINAL_ID} (the JMSMessageID of the
 * original). It is sent persistent, synchronously: when {@link #send} returns the broker
 * has it, and only then is the original acknowledged (the caller returns from onMessage).
 *
 * <h2>BUGS</h2>
 * The body of an ObjectMessage is not copied: reading it means deserializing what an
 * untrusted producer sent. Its copy is an empty Message with the properties, and
 * {@value #ERROR} says so. A crash between the send and the acknowledgement leaves two
 * copies in the dead-letter queue (the original is delivered again and refused again).
 */
final class DeadLetters {
    /** the reply on a dead letter */
    static final String ERROR = "postern_error";
    /** the enhanced status code on a dead letter */
    static final String STATUS = "postern_status";
    /** the JMSMessageID of the refused message, on its dead letter */
    static final String ORIGINAL_ID = "postern_original_message_id";

    private DeadLetters() {
    }

    /** send - copy the message to the dead-letter queue with the reason; returns when the broker has it. */
    static void send(JMSContext ctx, Queue dead, Message original, Rejection reason) throws JMSException {
        Message copy = copy(ctx, original);
        for (Object n : Collections.list(original.getPropertyNames())) {
            String name = (String) n;
            // JMSX properties are the provider's, "_" ones the broker's own (duplicate ids, routing)
            if (!name.startsWith("JMSX") && !name.startsWith("_")) {
                copy.setObjectProperty(name, original.getObjectProperty(name));
            }
        }
        copy.setJMSCorrelationID(original.getJMSCorrelationID());
        copy.setJMSType(original.getJMSType());
        String error = reason.reply();
        if (original instanceof ObjectMessage) {
            error += " (the ObjectMessage body is not copied)";
        }
        copy.setStringProperty(ERROR, error);
        copy.setStringProperty(STATUS, reason.status());
        copy.setStringProperty(ORIGINAL_ID, original.getJMSMessageID());
        ctx.createProducer().setDeliveryMode(DeliveryMode.PERSISTENT).send(dead, copy);
    }

    /* copy - a new message of the same kind with the same body (not for ObjectMessage) */
    private static Message copy(JMSContext ctx, Message m) throws JMSException {
        if (m instanceof BytesMessage b) {
            b.reset();
            byte[] body = new byte[(int) b.getBodyLength()];
            b.readBytes(body);
            BytesMessage c = ctx.createBytesMessage();
            c.writeBytes(body);
            return c;
        }
        if (m instanceof TextMessage t) {
            return ctx.createTextMessage(t.getText());
        }
        if (m instanceof MapMessage map) {
            MapMessage c = ctx.createMapMessage();
            for (Object n : Collections.list(map.getMapNames())) {
                c.setObject((String) n, map.getObject((String) n));
            }
            return c;
        }
        if (m instanceof StreamMessage s) {
            s.reset();
            StreamMessage c = ctx.createStreamMessage();
            try {
                while (true) {
                    c.writeObject(s.readObject());
                }
            } catch (jakarta.jms.MessageEOFException end) {
                return c;
            }
        }
        return ctx.createMessage();
    }
}
