package org.postern.web;

import jakarta.ejb.EJB;
import jakarta.enterprise.context.RequestScoped;
import jakarta.faces.context.FacesContext;
import jakarta.inject.Named;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.postern.admin.MessageDetail;
import org.postern.admin.QueueAdmin;

/** MessageView - the console's page of one message (message.xhtml?id=QUEUE_ID). */
@Named
@RequestScoped
public class MessageView {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT);

    @EJB
    private QueueAdmin admin;

    private MessageDetail detail;
    private boolean loaded;

    /** detail - the message of the request's id parameter, null when it is not (or no longer) queued. */
    public MessageDetail getDetail() {
        if (!loaded) {
            loaded = true;
            String id = FacesContext.getCurrentInstance().getExternalContext().getRequestParameterMap().get("id");
            detail = id != null && id.matches("[0-9A-F]{16}") ? admin.detail(id) : null;
        }
        return detail;
    }

    /** canDownload - the raw message is for operators and administrators (it is someone's mail). */
    public boolean isCanDownload() {
        var ec = FacesContext.getCurrentInstance().getExternalContext();
        return ec.isUserInRole("operator") || ec.isUserInRole("admin");
    }

    /** time - for the page: see {@link #format}. */
    public String time(Instant t) {
        return format(t);
    }

    /** format - an instant as the console shows times: local, to the second; empty for none. */
    static String format(Instant t) {
        return t == null ? "" : TIME.format(t.atZone(ZoneId.systemDefault()));
    }
}
