package org.postern.web;

import jakarta.enterprise.context.RequestScoped;
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
import org.postern.config.Config;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLocator;
import org.postern.config.Parameter;
import org.postern.config.Parameters;

/**
 * ServerView - the console's server page: main.cf as postconf -n shows it, each setting
 * beside its default (values of parameters whose name holds "password" are not shown),
 * and the tail of the mail log, narrowed to the lines that contain a text (a queue id, an
 * address). It reads the files the server reads; it changes nothing.
 */
@Named
@RequestScoped
public class ServerView {
    /** the most of the mail log read from its end */
    static final int TAIL_BYTES = 512 * 1024;
    /** the most lines shown */
    static final int TAIL_LINES = 300;

    /** Setting - one main.cf setting: its name, its value as written, and the default. */
    public record Setting(String name, String value, String defaultValue) {
    }

    private String error;

    public String getConfigDir() {
        return ConfigLocator.configDir().toString();
    }

    /** settings - what main.cf sets, sorted by name (postconf -n). */
    public List<Setting> getSettings() {
        List<Setting> out = new ArrayList<>();
        Config config;
        try {
            config = Config.load(ConfigLocator.configDir());
        } catch (ConfigException e) {
            error = e.getMessage();
            return out;
        }
        for (String name : new TreeSet<>(config.explicitNames())) {
            Parameter<?> p = Parameters.all().get(name);
            boolean secret = name.toLowerCase(Locale.ROOT).contains("password");
            out.add(new Setting(name, secret ? "(not shown)" : config.unexpanded(name),
                    p == null ? "(not used by Postern)" : p.defaultValue()));
        }
        return out;
    }

    public String getError() {
        return error;
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
