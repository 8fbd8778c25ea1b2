package org.postern.it;

import java.util.Arrays;
import java.util.HashMap;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * JmxProbe - a JMX client as jconsole is one: its own JVM with WildFly's
 * bin/client/jboss-cli-client.jar (what bin/jconsole.sh adds), a remote+http connection
 * to the management port, and nothing of Postern's on its class path. Each argument is
 * {@code get:MBEAN:ATTRIBUTE} or {@code call:MBEAN:OPERATION[:STRING_ARG...]}; each
 * prints one line {@code argument=value} (arrays joined by ", "), or
 * {@code argument=!ExceptionClass: message} when the server refused it.
 */
public final class JmxProbe {
    private JmxProbe() {
    }

    public static void main(String[] args) throws Exception {
        JMXServiceURL url = new JMXServiceURL("service:jmx:remote+http://" + args[0]);
        try (JMXConnector c = JMXConnectorFactory.connect(url, new HashMap<>())) {
            MBeanServerConnection server = c.getMBeanServerConnection();
            for (String a : Arrays.copyOfRange(args, 1, args.length)) {
                String[] p = a.split(":", -1);
                ObjectName name = new ObjectName(p[1] + ":" + p[2]);
                Object value;
                try {
                    if (p[0].equals("get")) {
                        value = server.getAttribute(name, p[3]);
                    } else {
                        String[] params = Arrays.copyOfRange(p, 4, p.length);
                        String[] signature = new String[params.length];
                        Arrays.fill(signature, String.class.getName());
                        value = server.invoke(name, p[3], params, signature);
                    }
                } catch (Exception e) {
                    Throwable t = e;
                    while (t.getCause() != null) {
                        t = t.getCause();
                    }
                    value = "!" + t.getClass().getName() + ": " + t.getMessage();
                }
                System.out.println(a + "=" + show(value));
            }
        }
    }

    private static String show(Object v) {
        if (v instanceof Object[] a) {
            return String.join(", ", Arrays.stream(a).map(JmxProbe::show).toList());
        }
        if (v instanceof javax.management.openmbean.CompositeData d) {
            StringBuilder b = new StringBuilder("{");
            for (String k : d.getCompositeType().keySet()) {
                b.append(b.length() > 1 ? ", " : "").append(k).append('=').append(show(d.get(k)));
            }
            return b.append('}').toString();
        }
        if (v instanceof javax.management.openmbean.TabularData t) {
            StringBuilder b = new StringBuilder("{");
            for (Object row : t.values()) {
                javax.management.openmbean.CompositeData d = (javax.management.openmbean.CompositeData) row;
                b.append(b.length() > 1 ? ", " : "").append(show(d.get("key"))).append('=').append(show(d.get("value")));
            }
            return b.append('}').toString();
        }
        return String.valueOf(v);
    }
}
