package org.postern.web;

import jakarta.faces.context.FacesContext;
import jakarta.inject.Named;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import org.postern.config.ConfigLocator;
import org.postern.config.Parameter;
import org.postern.config.Parameters;

/**
 * ServerView - the console's server page: the main.cf in force as postconf -n shows it,
 * each setting beside its default (values of parameters whose name holds "password" are
 * not shown), what a reload would change, the smtpd services with their sessions and the
 * rejects per restriction, the destinations held for dead, and the tail of the mail log,
 * narrowed to the lines that contain a text (a queue id, an address). An administrator
 * sets a parameter (postconf -e, then reload; refused with the reason, main.cf unchanged,
 * when the server refuses the result) or reloads; both are checked against the role on
 * the server and written to the audit log.
 */
@Named
@jakarta.faces.view.ViewScoped
public class ServerView implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /** the most of the mail log read from its end */
    static final int TAIL_BYTES = 512 * 1024;
    /** the most lines shown */
    static final int TAIL_LINES = 300;

    /** Setting - one main.cf setting: its name, its value as written, and the default. */
    public record Setting(String name, String value, String defaultValue) {
    }


    @jakarta.ejb.EJB
    private org.postern.admin.ServerControl control;

    private String name;
    private String value;

    /** secret - a parameter whose value the console and the JSON API do not show (its name holds "password"). */
    public static boolean secret(String name) {
        return name.toLowerCase(Locale.ROOT).contains("password");
    }

    public String getConfigDir() {
        return ConfigLocator.configDir().toString();
    }

    /** settings - what the main.cf in force sets, sorted by name (postconf -n). */
    public List<Setting> getSettings() {
        List<Setting> out = new ArrayList<>();
        java.util.Map<String, String> inForce = control.getParameters();
        for (String name : new TreeSet<>(inForce.keySet())) {
            Parameter<?> p = Parameters.all().get(name);
            out.add(new Setting(name, secret(name) ? "(not shown)" : inForce.get(name),
                    p == null ? "(not used by Postern)" : p.defaultValue()));
        }
        return out;
    }

    /** loaded - when the configuration in force was read. */
    public String getLoaded() {
        return control.getLoaded();
    }

    /** pending - what a reload would change (main.cf edited since), or why it would be refused. */
    public List<String> getPending() {
        return List.of(control.getPending()).stream().map(l -> secretLine(l)).toList();
    }

    private static String secretLine(String line) {
        int colon = line.indexOf(": ", "main.cf: ".length());
        String n = line.startsWith("main.cf: ") ? line.substring("main.cf: ".length(),
                colon > 0 ? colon : line.length()).split(" ")[0] : "";
        return secret(n) ? "main.cf: " + n + " changed (value not shown)" : line;
    }

    /** services - the smtpd services in force. */
    public List<org.postern.admin.SmtpdStatisticsMXBean.Service> getServices() {
        return control.getServices();
    }

    /** rejects - the rejects per restriction since the server started. */
    public List<java.util.Map.Entry<String, Long>> getRejects() {
        return new ArrayList<>(control.getRejects().entrySet());
    }

    /** dead - the destinations held for dead now. */
    public List<org.postern.admin.DeliveryStatisticsMXBean.Dead> getDead() {
        return control.getDeadDestinations();
    }

    /** canAdminister - the user may change the configuration (admin). */
    public boolean isCanAdminister() {
        return FacesContext.getCurrentInstance().getExternalContext().isUserInRole("admin");
    }

    /** reload - postfix reload, for an administrator. */
    public void reload() {
        administer("reload", "", "Reloaded.", control::reload);
    }

    /** set - postconf -e name=value, then reload, for an administrator. */
    public void set() {
        String n = name == null ? "" : name.strip();
        administer("set", "parameter=" + n + " ", "Set " + n + " and reloaded.",
                () -> control.set(n, value == null ? "" : value));
    }

    /**
     * administer - a change of the configuration that ends in a reload: only for an
     * administrator, written to the audit log whether it was made or refused, and its
     * changes (or the reason of the refusal) shown on the page.
     */
    private void administer(String action, String what, String done, java.util.function.Supplier<String[]> change) {
        if (!isCanAdminister()) {
            ConsoleAudit.refused(action, what.strip());
            message(jakarta.faces.application.FacesMessage.SEVERITY_ERROR, "Only an administrator may change the configuration.");
            return;
        }
        try {
            String[] changes = change.get();
            audit(action, what + "changes=" + changes.length);
            report(done, changes);
        } catch (jakarta.ejb.EJBException e) {
            audit(action, what + "refused");
            message(jakarta.faces.application.FacesMessage.SEVERITY_ERROR, "Refused: " + reason(e));
        }
    }

    private static String reason(jakarta.ejb.EJBException e) {
        Throwable t = e.getCause() != null ? e.getCause() : e;
        return String.valueOf(t.getMessage());
    }

    private static void report(String head, String[] changes) {
        message(jakarta.faces.application.FacesMessage.SEVERITY_INFO, head);
        for (String c : changes) {
            message(jakarta.faces.application.FacesMessage.SEVERITY_INFO, secretLine(c));
        }
    }

    private static void message(jakarta.faces.application.FacesMessage.Severity severity, String text) {
        FacesContext.getCurrentInstance().addMessage(null, new jakarta.faces.application.FacesMessage(severity, text, null));
    }

    private static void audit(String action, String what) {
        ConsoleAudit.log(action, what);
    }

    /**
     * Table - a lookup table file main.cf names: its path, type and the parameters that use
     * it; secret when one of them is a password's (smtp_sasl_password_maps).
     */
    public record Table(String file, String use) {
        public boolean secret() {
            return secretTable(use);
        }
    }

    /**
     * secretTable - a table of passwords (one of the parameters that name it, "type:
     * parameter, parameter", holds "password"): its text is for administrators only, as the
     * values of such parameters are for nobody.
     */
    public static boolean secretTable(String use) {
        int colon = use.indexOf(": ");
        for (String n : use.substring(colon + 2).split(", ")) {
            if (secret(n)) {
                return true;
            }
        }
        return false;
    }

    private String tableFile;
    private String tableText;

    /** tables - the lookup table files of the configuration in force. */
    public List<Table> getTables() {
        List<Table> out = new ArrayList<>();
        control.getTables().forEach((f, u) -> out.add(new Table(f, u)));
        return out;
    }

    /** openTable - show the table's text in the editor. */
    public void openTable(String file) {
        String use = control.getTables().get(file);
        if (use != null && secretTable(use) && !isCanAdminister()) {
            ConsoleAudit.refused("show-table", "file=" + file);
            message(jakarta.faces.application.FacesMessage.SEVERITY_ERROR,
                    "Only an administrator may read a table of passwords.");
            return;
        }
        tableFile = file;
        try {
            tableText = control.readTable(tableFile);
        } catch (jakarta.ejb.EJBException e) {
            tableText = null;
            message(jakarta.faces.application.FacesMessage.SEVERITY_ERROR, reason(e));
        }
    }

    /** saveTable - replace the table's file (checked first) and reload, for an administrator. */
    public void saveTable() {
        String file = tableFile;
        String text = tableText == null ? "" : tableText.replace("\r\n", "\n");
        administer("table", "file=" + file + " ", "Saved " + file + " and reloaded.", () -> control.writeTable(file, text));
    }

    public String getTableFile() {
        return tableFile;
    }

    public void setTableFile(String tableFile) {
        this.tableFile = tableFile;
    }

    public String getTableText() {
        return tableText;
    }

    public void setTableText(String tableText) {
        this.tableText = tableText;
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getValue() {
        return value;
    }

    public void setValue(String value) {
        this.value = value;
    }

    /** filter - the text the log lines must contain (request parameter q), or empty. */
    public String getFilter() {
        String q = FacesContext.getCurrentInstance().getExternalContext().getRequestParameterMap().get("q");
        return q == null ? "" : q.strip();
    }

    /** logTail - the last lines of the mail log that contain the filter, oldest first. */
    public List<String> getLogTail() throws IOException {
        Path log = Path.of(System.getProperty("jboss.server.log.dir", "."), "mail.log");
        if (!Files.isReadable(log)) {
            return List.of("(no mail log at " + log + ")");
        }
        byte[] tail;
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long start = Math.max(0, f.length() - TAIL_BYTES);
            tail = new byte[(int) (f.length() - start)];
            f.seek(start);
            f.readFully(tail);
        }
        String[] lines = new String(tail, StandardCharsets.UTF_8).split("\n");
        String q = getFilter();
        List<String> out = new ArrayList<>();
        // the first line may be cut: it is left out unless the whole file was read
        for (int i = tail.length < TAIL_BYTES ? 0 : 1; i < lines.length; i++) {
            if (!lines[i].isBlank() && (q.isEmpty() || lines[i].contains(q))) {
                out.add(lines[i]);
            }
        }
        return out.size() > TAIL_LINES ? out.subList(out.size() - TAIL_LINES, out.size()) : out;
    }
}
