package org.postern.admin;

import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.logging.Logger;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;

/** MBeans - registering Postern's MXBeans in the server's MBean server, and removing them. */
final class MBeans {
    private static final Logger LOG = Logger.getLogger("org.postern.admin");

    private MBeans() {
    }

    /**
     * register - impl as the MXBean of that interface under name; null when it could not
     * be registered (logged). The MBean server takes one object as an MXBean under one
     * name only, so impl is registered through a view of its own for each interface.
     */
    static <T> ObjectName register(String name, T impl, Class<T> mxbean) {
        try {
            ObjectName n = new ObjectName(name);
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            if (server.isRegistered(n)) {
                server.unregisterMBean(n);
            }
            server.registerMBean(new StandardMBean(view(impl, mxbean), mxbean, true), n);
            return n;
        } catch (JMException e) {
            // Postern works without it; administrators lose the commands and JMX, and are told so
            LOG.severe("PSTN6001: cannot register " + name + " (the commands and JMX will not work): " + e);
            return null;
        }
    }

    /** view - an object of its own that implements only mxbean, by calling impl. */
    private static <T> T view(T impl, Class<T> mxbean) {
        return mxbean.cast(Proxy.newProxyInstance(mxbean.getClassLoader(), new Class<?>[] {mxbean}, (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "equals" -> proxy == args[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    default -> mxbean.getSimpleName() + " of " + impl.getClass().getSimpleName();
                };
            }
            try {
                return method.invoke(impl, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }));
    }

    /** unregister - remove the MXBean registered under name (null: nothing). */
    static void unregister(ObjectName name) {
        if (name == null) {
            return;
        }
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
        } catch (JMException e) {
            LOG.warning("PSTN6002: cannot unregister " + name + ": " + e);
        }
    }
}
