package org.postern.web;

import jakarta.faces.context.ExternalContext;
import jakarta.faces.context.FacesContext;
import java.util.logging.Logger;

/** ConsoleAudit - one line of the audit log (logger org.postern.audit) for an action of a console user. */
final class ConsoleAudit {
    private static final Logger AUDIT = Logger.getLogger("org.postern.audit");

    private ConsoleAudit() {
    }

    /** log - who (the logged-in user), the action and what it did; the server log has when. */
    static void log(String action, String what) {
        ExternalContext ec = FacesContext.getCurrentInstance().getExternalContext();
        log(ec.getUserPrincipal() != null ? ec.getUserPrincipal().getName() : "?", action, what);
    }

    /** refused - an action the user's role does not allow, asked for anyway (a page or a request made by hand). */
    static void refused(String action, String what) {
        ExternalContext ec = FacesContext.getCurrentInstance().getExternalContext();
        AUDIT.warning("PSTN6105: audit: console user=" + (ec.getUserPrincipal() != null ? ec.getUserPrincipal().getName()
                : "?") + " action=" + action + " " + what + " refused: not allowed to the user's role");
    }

    /** log - the same for an action that ends outside the user's request (a bulk action in the background). */
    static void log(String who, String action, String what) {
        AUDIT.info("PSTN6102: audit: console user=" + who + " action=" + action + " " + what);
    }
}
