package org.postern.web.api;

import jakarta.ejb.EJBException;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Answers - what the JSON resources share: the error answer {"error": "..."}, the call of
 * a bean whose refusal is a 400 and whose failure is a 503, the JSON body every POST must
 * carry, and the audit log (logger org.postern.audit: who, what; the server log has when).
 */
final class Answers {
    private static final Logger AUDIT = Logger.getLogger("org.postern.audit");

    private Answers() {
    }

    /** requireBody - a POST without a JSON body is refused: a request of another web site cannot send one without CORS. */
    static void requireBody(JsonObject body) {
        if (body == null) {
            throw bad("a JSON body is required ({} will do)");
        }
    }

    /** audit - one line of the audit log: the user, the action and what it did. */
    static void audit(SecurityContext security, String action, String what) {
        String who = security.getUserPrincipal() != null ? security.getUserPrincipal().getName() : "?";
        AUDIT.info("PSTN6101: audit: user=" + who + " action=" + action + " " + what);
    }

    static WebApplicationException bad(String message) {
        return answer(Response.Status.BAD_REQUEST, message);
    }

    /** answer - a JSON error answer: {"error": message}. */
    static WebApplicationException answer(Response.Status status, String message) {
        JsonObject error = Json.createObjectBuilder().add("error", message).build();
        return new WebApplicationException(Response.status(status).entity(error)
                .type(MediaType.APPLICATION_JSON).build());
    }

    /**
     * call - an operation of a bean; its failure is a 400 when the input was refused
     * (IllegalArgumentException), else a 503 with the reason.
     */
    static <T> T call(Supplier<T> operation) {
        try {
            return operation.get();
        } catch (EJBException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof IllegalArgumentException) {
                throw bad(cause.getMessage());
            }
            throw answer(Response.Status.SERVICE_UNAVAILABLE, String.valueOf(cause.getMessage()));
        }
    }
}
