package org.postern.tools;

import java.io.IOException;
import java.util.HashMap;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.management.JMException;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Server - the running Postern, reached as jconsole reaches WildFly: JMX over the
 * management port ({@code service:jmx:remote+http://HOST:PORT}, by default
 * 127.0.0.1:9990, or {@code POSTERN_MANAGEMENT=host:port}, for a server started with a
 * port offset). On the server's own host no password is asked: WildFly's local
 * authentication (as for jboss-cli.sh) proves that the caller can read the server's
 * files. The client classes come from WildFly's bin/client/jboss-cli-client.jar.
 */
final class Server implements AutoCloseable {
    /** EX_UNAVAILABLE (sysexits.h), as Postfix's commands exit when the mail system is down */
    static final int EX_UNAVAILABLE = 69;
    /** EX_USAGE */
    static final int EX_USAGE = 64;
    /** EX_SOFTWARE: the server failed the request */
    static final int EX_SOFTWARE = 70;

    private static final String QUEUE = "org.postern:type=Queue";
    /** kept so the level set on it stays */
    private static final Logger ROOT = Logger.getLogger("");

    private final JMXConnector connector;
    private final MBeanServerConnection connection;
    private final String program;

    private Server(String program, JMXConnector connector) throws IOException {
        this.program = program;
        this.connector = connector;
        this.connection = connector.getMBeanServerConnection();
    }

    /** address - host:port of the management interface. */
    static String address() {
        String a = System.getenv("POSTERN_MANAGEMENT");
        return a == null || a.isBlank() ? "127.0.0.1:9990" : a.trim();
    }

    /** quiet - library logging on stderr only from this level up: a command prints its own messages. */
    static void quiet(Level level) {
        ROOT.setLevel(level);
        for (Handler h : ROOT.getHandlers()) {
            h.setLevel(level);
        }
    }

    /** connect - to the server, or Fatal (EX_UNAVAILABLE) when it does not answer. */
    static Server connect(String program) {
        // the remoting client announces its versions at INFO on stderr: not for a command's output
        quiet(Level.WARNING);
        String address = address();
        try {
            JMXServiceURL url = new JMXServiceURL("service:jmx:remote+http://" + address);
            return new Server(program, JMXConnectorFactory.connect(url, new HashMap<>()));
        } catch (IOException | RuntimeException e) {
            throw new Fatal(EX_UNAVAILABLE, "Cannot connect to Postern at " + address
                    + " (is the server running? POSTERN_MANAGEMENT=host:port names another): " + reason(e));
        }
    }

    /** queue - invoke an operation of the queue MXBean. */
    Object queue(String operation, Object[] args, String[] signature) {
        return invoke(QUEUE, operation, args, signature);
    }

    /** invoke - an operation of one of Postern's MXBeans; a refusal is Fatal with the server's reason. */
    Object invoke(String mbean, String operation, Object[] args, String[] signature) {
        try {
            return connection.invoke(new ObjectName(mbean), operation, args, signature);
        } catch (javax.management.InstanceNotFoundException e) {
            throw new Fatal(EX_UNAVAILABLE, "Postern is not deployed on the server at " + address()
                    + " (no " + mbean + ")");
        } catch (RuntimeMBeanException e) {
            throw new Fatal(EX_SOFTWARE, program + " request failed: " + reason(e.getCause()));
        } catch (JMException | IOException e) {
            throw new Fatal(EX_UNAVAILABLE, program + " request failed: " + reason(e));
        }
    }

    /** attribute - an attribute of any MBean of the server. */
    Object attribute(ObjectName mbean, String attribute) {
        try {
            return connection.getAttribute(mbean, attribute);
        } catch (JMException | IOException e) {
            throw new Fatal(EX_UNAVAILABLE, program + " request failed: " + reason(e));
        }
    }

    private static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }

    @Override
    public void close() {
        try {
            connector.close();
        } catch (IOException e) {
            // nothing left to do with it
        }
    }

    /** Fatal - a command ends with this message and exit status, as Postfix's msg_fatal_status. */
    static final class Fatal extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;

        Fatal(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** run - the command's body; a Fatal prints "program: fatal: message" and exits with its status. */
    static void run(String program, Body body) {
        int status;
        try {
            status = body.run();
        } catch (Fatal f) {
            System.out.flush();
            System.err.println(program + ": fatal: " + f.getMessage());
            status = f.status;
        }
        System.out.flush();
        System.exit(status);
    }

    /** Body - a command's work; returns the exit status. */
    interface Body {
        int run();
    }
}
