package org.postern.admin;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.ejb.ConcurrencyManagement;
import jakarta.ejb.ConcurrencyManagementType;
import jakarta.ejb.EJB;
import jakarta.ejb.LocalBean;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import javax.management.ObjectName;
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLocator;
import org.postern.mail.QueueShape;
import org.postern.qmgr.DeadDestinations;
import org.postern.queue.QueueState;
import org.postern.service.ConfigService;
import org.postern.smtp.api.SmtpClientConnectionFactory;
import org.postern.smtpd.api.SmtpdControl;

/**
 * ServerControl - the configuration, the smtpd listeners and the delivery side over JMX:
 * registers {@code org.postern:type=Configuration} ({@link ConfigurationControlMXBean}),
 * {@code org.postern:type=Smtpd} ({@link SmtpdStatisticsMXBean}) and
 * {@code org.postern:type=Delivery} ({@link DeliveryStatisticsMXBean}) while Postern is
 * deployed; the console and the JSON API call the same methods. A reload or a change of
 * main.cf is logged with who asked for it by the caller (the audit log of the console and
 * the API), and by the configuration service in the mail log as Postfix's master logs it.
 */
@Singleton
@Startup
@LocalBean // the console and the API use the class; the MXBean interfaces are for JMX
@ConcurrencyManagement(ConcurrencyManagementType.BEAN)
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class ServerControl implements ConfigurationControlMXBean, SmtpdStatisticsMXBean, DeliveryStatisticsMXBean {
    private static final Logger LOG = Logger.getLogger("org.postern.admin");
    public static final String CONFIGURATION = "org.postern:type=Configuration";
    public static final String SMTPD = "org.postern:type=Smtpd";
    public static final String DELIVERY = "org.postern:type=Delivery";

    @EJB
    private ConfigService config;

    @EJB
    private org.postern.qmgr.ClusterMembership cluster;

    @EJB
    private org.postern.qmgr.ClusterNodes clusterNodes;

    @EJB
    private org.postern.qmgr.ClusterDeadDestinations clusterDead;

    @EJB
    private QueueAdmin admin;

    @Resource(lookup = "java:/postern/SmtpClient")
    private SmtpClientConnectionFactory connections;

    @Resource(lookup = "java:jboss/datasources/PosternDS")
    private javax.sql.DataSource database;

    private final List<ObjectName> names = new ArrayList<>();

    @PostConstruct
    void register() {
        names.add(MBeans.register(CONFIGURATION, this, ConfigurationControlMXBean.class));
        names.add(MBeans.register(SMTPD, this, SmtpdStatisticsMXBean.class));
        names.add(MBeans.register(DELIVERY, this, DeliveryStatisticsMXBean.class));
    }

    @PreDestroy
    void unregister() {
        names.forEach(MBeans::unregister);
    }

    // ------------------------------------------------------------ configuration

    @Override
    public String getConfigDirectory() {
        return ConfigLocator.configDir().toAbsolutePath().toString();
    }

    @Override
    public String getLoaded() {
        Instant t = config.loaded();
        return t == null ? "" : t.toString();
    }

    @Override
    public Map<String, String> getParameters() {
        Config c = config.current();
        Map<String, String> out = new LinkedHashMap<>();
        for (String n : c.explicitNames()) {
            out.put(n, c.unexpanded(n));
        }
        return out;
    }

    @Override
    public String[] getWarnings() {
        return config.current().warnings().toArray(String[]::new);
    }

    @Override
    public String[] getPending() {
        try {
            // read as a reload reads it: knowing master.cf's delivery services (no warnings for their names)
            java.nio.file.Path dir = ConfigLocator.configDir();
            Config next = Config.load(dir, org.postern.config.ServiceParameters.of(org.postern.config.MasterCf.load(dir)));
            return Config.differences(config.current(), next).toArray(String[]::new);
        } catch (ConfigException | IllegalArgumentException e) {
            return new String[] {"refused: " + e.getMessage()};
        }
    }

    @Override
    public String get(String name) {
        Config c = config.current();
        try {
            return c.text(name);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("unknown parameter: " + name);
        }
    }

    @Override
    public String[] set(String name, String value) {
        Map<String, String> one = new LinkedHashMap<>();
        one.put(name, value);
        return set(one);
    }

    /**
     * set - postconf -e for each entry (a null value removes the parameter), then one
     * reload; all are applied or none (main.cf keeps its old text when the reload refuses).
     */
    public String[] set(Map<String, String> settings) {
        Map<String, String> clean = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : settings.entrySet()) {
            String name = e.getKey();
            String value = e.getValue();
            if (name == null || !name.matches("[A-Za-z0-9_]+")) {
                throw new IllegalArgumentException("invalid parameter name: \"" + name + "\"");
            }
            if (value != null && (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0)) {
                throw new IllegalArgumentException(name + ": a value is one line");
            }
            clean.put(name, value == null ? null : value.strip());
        }
        if (clean.isEmpty()) {
            throw new IllegalArgumentException("no parameter to set");
        }
        try {
            return lines(config.set(clean));
        } catch (RuntimeException e) {
            throw refused(e);
        }
    }

    /**
     * reload - postfix reload: main.cf, master.cf and the tables read again here; then every
     * other node of the cluster is asked to reload at its next heartbeat (ClusterMembership).
     */
    @Override
    public String[] reload() {
        String[] changed;
        try {
            changed = lines(config.reload());
        } catch (RuntimeException e) {
            throw refused(e);
        }
        try {
            int others = cluster.reloadOthers();
            if (others > 0) {
                String[] more = java.util.Arrays.copyOf(changed, changed.length + 1);
                more[changed.length] = "reload requested of " + others + " other node(s) of the cluster";
                return more;
            }
        } catch (RuntimeException e) {
            LOG.warning("PSTN6106: reloaded here, but cannot ask the other nodes to reload: " + e);
        }
        return changed;
    }

    /**
     * refused - a refused configuration (ConfigException, which the container passes on
     * wrapped in an EJBException) as an IllegalArgumentException with the file, line and
     * reason, a class every JMX client knows; any other failure as it is.
     */
    private static RuntimeException refused(RuntimeException e) {
        Throwable t = e;
        while (t instanceof jakarta.ejb.EJBException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof ConfigException || t instanceof IllegalArgumentException) {
            return new IllegalArgumentException(t.getMessage());
        }
        return e;
    }

    private static String[] lines(ConfigService.Reloaded r) {
        List<String> out = new ArrayList<>(r.changes());
        r.warnings().forEach(w -> out.add("warning: " + w));
        return out.toArray(String[]::new);
    }

    // ------------------------------------------------------------ lookup tables

    /** TABLE - a file-based lookup table in a main.cf value: type:/absolute/path */
    private static final java.util.regex.Pattern TABLE = java.util.regex.Pattern.compile(
            "(?<![\\w:])(texthash|hash|btree|lmdb|cdb|dbm|sdbm|cidr):(/[^\\s,{}]+)");

    /**
     * getTables - the lookup table files of the configuration in force (transport_maps,
     * the access maps of the restrictions, relay_domains, ...), each with its type and the
     * parameters that name it: file to "type: parameter, parameter". Those in the
     * configuration directory can be read and replaced ({@link #readTable},
     * {@link #writeTable}).
     */
    public Map<String, String> getTables() {
        Config c = config.current();
        Map<String, String> types = new java.util.TreeMap<>();
        Map<String, List<String>> users = new java.util.TreeMap<>();
        for (String n : c.explicitNames()) {
            java.util.regex.Matcher m = TABLE.matcher(c.text(n));
            while (m.find()) {
                types.putIfAbsent(m.group(2), m.group(1));
                List<String> u = users.computeIfAbsent(m.group(2), k -> new ArrayList<>());
                if (!u.contains(n)) {
                    u.add(n);
                }
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        users.forEach((file, params) -> out.put(file, types.get(file) + ": " + String.join(", ", params)));
        return out;
    }

    /** readTable - the text of a lookup table file that the configuration in force names. */
    public String readTable(String file) {
        tableType(file);
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of(file));
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage());
        }
    }

    /**
     * writeTable - replace a lookup table file that the configuration in force names, then
     * reload. The text is checked first as the table's type reads it; when the text or the
     * reload is refused, the file keeps its old text and the exception says why. Postern
     * reads the text file itself (no postmap step), so the reload is all a change needs.
     */
    public String[] writeTable(String file, String text) {
        String type = tableType(file);
        java.nio.file.Path path = java.nio.file.Path.of(file);
        String body = text.endsWith("\n") || text.isEmpty() ? text : text + "\n";
        java.nio.file.Path tmp = path.resolveSibling("." + path.getFileName() + ".postern-new");
        String old;
        try {
            old = java.nio.file.Files.readString(path);
            java.nio.file.Files.writeString(tmp, body);
            try {
                org.postern.config.maps.LookupTables.open(type + ":" + tmp);
            } catch (ConfigException e) {
                throw new IllegalArgumentException(e.getMessage().replace(tmp.toString(), file) + " (" + file
                        + " is unchanged)");
            }
            try {
                java.nio.file.Files.setPosixFilePermissions(tmp, java.nio.file.Files.getPosixFilePermissions(path));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system
            }
            java.nio.file.Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(file + ": cannot write: " + e.getMessage());
        } finally {
            try {
                java.nio.file.Files.deleteIfExists(tmp);
            } catch (java.io.IOException e) {
                LOG.warning("PSTN6013: cannot remove " + tmp + ": " + e.getMessage());
            }
        }
        try {
            return lines(config.reload());
        } catch (RuntimeException e) {
            try {
                java.nio.file.Files.writeString(path, old);
            } catch (java.io.IOException io) {
                LOG.severe("PSTN6014: cannot restore " + file + " after a refused reload: " + io.getMessage());
            }
            RuntimeException r = refused(e);
            throw r instanceof IllegalArgumentException ? new IllegalArgumentException(r.getMessage() + " ("
                    + file + " is unchanged)") : r;
        }
    }

    /**
     * tableType - the type of a table file the configuration in force names and that lies
     * in the configuration directory (symbolic links resolved); IllegalArgumentException
     * for any other file, so that neither the console nor JMX reads or writes a file
     * elsewhere even when main.cf names one.
     */
    private String tableType(String file) {
        String users = file == null ? null : getTables().get(file);
        if (users == null) {
            throw new IllegalArgumentException("not a lookup table of the configuration in force: " + file);
        }
        java.nio.file.Path dir = ConfigLocator.configDir();
        try {
            if (!java.nio.file.Path.of(file).toRealPath().startsWith(dir.toRealPath())) {
                throw new IllegalArgumentException(file + " is outside " + dir.toAbsolutePath()
                        + ": tables elsewhere are edited on the host, then postfix reload");
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
        return users.substring(0, users.indexOf(':'));
    }

    // ------------------------------------------------------------ smtpd

    @Override
    public List<Service> getServices() {
        SmtpdControl s = config.smtpd();
        List<Service> out = new ArrayList<>();
        if (s != null) {
            for (SmtpdControl.ServiceState st : s.services()) {
                out.add(new Service(st.name(), st.listening(), st.sessions(), st.connections()));
            }
        }
        return out;
    }

    @Override
    public int getSessions() {
        return getServices().stream().mapToInt(Service::sessions).sum();
    }

    @Override
    public Map<String, Long> getRejects() {
        SmtpdControl s = config.smtpd();
        return s == null ? Map.of() : s.rejects();
    }

    // ------------------------------------------------------------ health

    /** Check - one health check: its name, whether it passes, and what it saw. */
    public record Check(String name, boolean up, String detail) {
    }

    /** liveness - Postern is deployed and has a configuration in force. */
    public List<Check> liveness() {
        return List.of(new Check("postern-configuration", config.current() != null,
                "configuration read " + getLoaded()));
    }

    /**
     * readiness - Postern can take mail: every smtpd service of master.cf is listening,
     * the queue's database answers within 2 seconds, and the file systems of the spool
     * and of the server's data keep queue_minfree and 1.5 times message_size_limit free
     * (the condition under which smtpd answers MAIL with 452 4.3.1).
     */
    public List<Check> readiness() {
        List<Check> out = new ArrayList<>();
        List<Service> services = getServices();
        long listening = services.stream().filter(s -> !s.listening().isEmpty()).count();
        out.add(new Check("smtpd-listeners", !services.isEmpty() && listening == services.size(),
                listening + " of " + services.size() + " smtpd services listening"));
        long t0 = System.nanoTime();
        boolean db;
        String dbDetail;
        try (java.sql.Connection c = database.getConnection()) {
            db = c.isValid(2);
            dbDetail = db ? "answered in " + (System.nanoTime() - t0) / 1_000_000 + " ms" : "no answer within 2 s";
        } catch (java.sql.SQLException | RuntimeException e) {
            db = false;
            dbDetail = "cannot connect: " + e.getMessage();
        }
        out.add(new Check("queue-database", db, dbDetail));
        Config c = config.current();
        long minfree = c.get(org.postern.config.Parameters.QUEUE_MINFREE);
        long sizeLimit = c.get(org.postern.config.Parameters.MESSAGE_SIZE_LIMIT);
        boolean space = true;
        StringBuilder detail = new StringBuilder();
        for (String dir : new String[] {System.getProperty("jboss.server.temp.dir"), System.getProperty("jboss.server.data.dir")}) {
            if (dir == null) {
                continue;
            }
            long free = new java.io.File(dir).getUsableSpace();
            boolean ok = free > minfree && free / 1.5 > sizeLimit;
            space &= ok;
            detail.append(detail.length() > 0 ? "; " : "").append(free / (1024 * 1024)).append(" MB free")
                    .append(ok ? "" : " (not enough: queue_minfree " + minfree + ", 1.5 x message_size_limit)");
        }
        out.add(new Check("queue-minfree", space, detail.toString()));
        return out;
    }

    // ------------------------------------------------------------ delivery

    /** lastHour - messages accepted and recipients sent, deferred, bounced per minute over the last hour. */
    public List<org.postern.service.Activity.Minute> lastHour() {
        return org.postern.service.Activity.shared().lastHour();
    }

    @Override
    public Map<String, Integer> getBusy() {
        return connections == null ? Map.of() : connections.busy();
    }

    @Override
    public Map<String, Integer> getDeferred() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (QueueShape.Row r : admin.shape(QueueState.DEFERRED)) {
            if (!"TOTAL".equals(r.domain())) {
                out.put(r.domain(), (int) r.counts()[0]);
            }
        }
        return out;
    }

    @Override
    public List<Dead> getDeadDestinations() {
        List<Dead> out = new ArrayList<>();
        for (DeadDestinations.DeadEntry d : DeadDestinations.shared().snapshot(Instant.now())) {
            out.add(new Dead(d.destination(), d.dsn(), d.reason(), d.until().toString()));
        }
        return out;
    }

    @Override
    public List<Node> getClusterNodes() {
        Instant since = Instant.now().minus(config.current().get(org.postern.config.Parameters.CLUSTER_NODE_TIMEOUT));
        List<Node> out = new ArrayList<>();
        for (org.postern.queue.ClusterNode n : clusterNodes.all()) {
            out.add(new Node(n.getName(), n.getStarted().toString(), n.getHeartbeat().toString(),
                    !n.getHeartbeat().isBefore(since)));
        }
        return out;
    }

    @Override
    public int flushDead() {
        int n = DeadDestinations.shared().snapshot(Instant.now()).size();
        DeadDestinations.shared().clear();
        clusterDead.flush();
        LOG.info(() -> "PSTN6010: dead destination cache flushed (" + n + " destinations)");
        return n;
    }
}
