package org.postern.it.probe;

import jakarta.ejb.ActivationConfigProperty;
import jakarta.ejb.MessageDriven;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageListener;
import jakarta.jms.TextMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * EventProbe - the tests' subscriber of the delivery events topic, deployed beside Postern
 * in the EAR of DeliveryIT: a plain JMS consumer (an MDB on WildFly's messaging resource
 * adapter) that writes each event it receives as one line of {@link #FILE} in the server's
 * data directory: the receipt time in milliseconds, the JMS properties content_type,
 * ce_id, ce_type, postern_status, postern_queue_id, then the body, separated by tabs.
 */
@MessageDriven(activationConfig = {
        @ActivationConfigProperty(propertyName = "destinationLookup", propertyValue = "java:/jms/topic/postern/events"),
        @ActivationConfigProperty(propertyName = "destinationType", propertyValue = "jakarta.jms.Topic"),
        @ActivationConfigProperty(propertyName = "maxSession", propertyValue = "1")})
public class EventProbe implements MessageListener {
    /** the file, in jboss.server.data.dir */
    public static final String FILE = "event-probe.log";

    @Override
    public void onMessage(Message m) {
        try {
            String line = System.currentTimeMillis() + "\t" + m.getStringProperty("content_type") + "\t"
                    + m.getStringProperty("ce_id") + "\t" + m.getStringProperty("ce_type") + "\t"
                    + m.getStringProperty("postern_status") + "\t" + m.getStringProperty("postern_queue_id") + "\t"
                    + ((TextMessage) m).getText() + "\n";
            synchronized (EventProbe.class) {
                Files.writeString(Path.of(System.getProperty("jboss.server.data.dir"), FILE), line,
                        StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
        } catch (JMSException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
