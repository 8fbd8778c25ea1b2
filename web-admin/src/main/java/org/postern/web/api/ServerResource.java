package org.postern.web.api;

import jakarta.annotation.security.RolesAllowed;
import jakarta.ejb.EJB;
import jakarta.enterprise.context.RequestScoped;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.postern.admin.DeliveryStatisticsMXBean;
import org.postern.admin.ServerControl;
import org.postern.admin.SmtpdStatisticsMXBean;
import org.postern.web.ServerView;

import static org.postern.web.api.Answers.answer;
import static org.postern.web.api.Answers.bad;
import static org.postern.web.api.Answers.call;
import static org.postern.web.api.Answers.requireBody;

/**
 * ServerResource - the configuration, the listeners and the delivery side over JSON:
 *
 * <ul>
 * <li>GET /api/server/config - postconf -n of the configuration in force, its directory,
 * when it was read and its warnings (viewer; values of parameters whose name holds
 * "password" are not shown);</li>
 * <li>GET /api/server/config/{name} - one parameter's value in force (viewer);</li>
 * <li>POST /api/server/config with {"set": {"name": "value", ...}} - postconf -e then
 * reload; a null value removes the parameter; refused (400, main.cf unchanged) when the
 * reload refuses it (admin);</li>
 * <li>POST /api/server/reload with {} - postfix reload (admin);</li>
 * <li>GET /api/server/tables - the lookup table files main.cf names (viewer); GET
 * /api/server/tables/content?file=/path - one of them, as text (viewer); POST
 * /api/server/tables with {"file": "/path", "text": "..."} - replace it (checked as its
 * type reads it) and reload; only files in the configuration directory (admin); the text
 * of a table of passwords (smtp_sasl_password_maps) is for admin only (403);</li>
 * <li>GET /api/server/smtpd - the smtpd services, their sessions and the rejects per
 * restriction (viewer);</li>
 * <li>GET /api/server/delivery - deliveries per destination, deferred recipients per
 * domain, dead destinations (viewer); POST /api/server/delivery/flush-dead with {} -
 * forget the dead destinations (operator).</li>
 * </ul>
 */
@Path("/server")
@Produces(MediaType.APPLICATION_JSON)
@RequestScoped
public class ServerResource {
    @EJB
    private ServerControl control;

    @Context
    private SecurityContext security;

    @GET
    @Path("config")
    @RolesAllowed({"viewer", "operator", "admin"})
    public JsonObject config() {
        JsonObjectBuilder params = Json.createObjectBuilder();
        for (Map.Entry<String, String> e : control.getParameters().entrySet()) {
            params.add(e.getKey(), ServerView.secret(e.getKey()) ? "(not shown)" : e.getValue());
        }
        JsonArrayBuilder warnings = Json.createArrayBuilder();
        for (String w : control.getWarnings()) {
            warnings.add(w);
        }
        return Json.createObjectBuilder()
                .add("config_directory", control.getConfigDirectory())
                .add("loaded", control.getLoaded())
                .add("parameters", params)
                .add("warnings", warnings)
                .build();
    }

    @GET
    @Path("config/{name: [A-Za-z0-9_]+}")
    @RolesAllowed({"viewer", "operator", "admin"})
    public JsonObject parameter(@PathParam("name") String name) {
        String value;
        try {
            value = call(() -> control.get(name));
        } catch (jakarta.ws.rs.WebApplicationException e) {
            throw answer(Response.Status.NOT_FOUND, "unknown parameter: " + name);
        }
        return Json.createObjectBuilder().add("name", name)
                .add("value", ServerView.secret(name) ? "(not shown)" : value).build();
    }

    @POST
    @Path("config")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed("admin")
    public JsonObject set(JsonObject body) {
        requireBody(body);
        JsonValue set = body.get("set");
        if (set == null || set.getValueType() != JsonValue.ValueType.OBJECT || set.asJsonObject().isEmpty()) {
            throw bad("a body {\"set\": {\"name\": \"value\", ...}} is required");
        }
        Map<String, String> settings = new LinkedHashMap<>();
        for (Map.Entry<String, JsonValue> e : set.asJsonObject().entrySet()) {
            JsonValue v = e.getValue();
            if (v.getValueType() == JsonValue.ValueType.NULL) {
                settings.put(e.getKey(), null);
            } else if (v instanceof JsonString s) {
                settings.put(e.getKey(), s.getString());
            } else {
                throw bad(e.getKey() + ": a value is a string, or null to remove the parameter");
            }
        }
        String[] changes = call(() -> control.set(settings));
        Answers.audit(security, "set", "parameters=" + settings.keySet());
        return changes(changes);
    }

    @POST
    @Path("reload")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed("admin")
    public JsonObject reload(JsonObject body) {
        requireBody(body);
        String[] changes;
        try {
            changes = call(control::reload);
        } catch (jakarta.ws.rs.WebApplicationException e) {
            Answers.audit(security, "reload", "refused");
            throw e;
        }
        Answers.audit(security, "reload", "changes=" + changes.length);
        return changes(changes);
    }

    private static JsonObject changes(String[] changes) {
        JsonArrayBuilder a = Json.createArrayBuilder();
        for (String c : changes) {
            a.add(c);
        }
        return Json.createObjectBuilder().add("changes", a).build();
    }

    @GET
    @Path("tables")
    @RolesAllowed({"viewer", "operator", "admin"})
    public JsonObject tables() {
        JsonArrayBuilder out = Json.createArrayBuilder();
        for (Map.Entry<String, String> e : control.getTables().entrySet()) {
            String[] typeAndUsers = e.getValue().split(": ", 2);
            out.add(Json.createObjectBuilder().add("file", e.getKey()).add("type", typeAndUsers[0])
                    .add("parameters", Json.createArrayBuilder(java.util.List.of(typeAndUsers[1].split(", ")))));
        }
        return Json.createObjectBuilder().add("tables", out).build();
    }

    @GET
    @Path("tables/content")
    @Produces(MediaType.TEXT_PLAIN)
    @RolesAllowed({"viewer", "operator", "admin"})
    public String table(@jakarta.ws.rs.QueryParam("file") String file) {
        String use = file == null ? null : control.getTables().get(file);
        if (use != null && ServerView.secretTable(use) && !security.isUserInRole("admin")) {
            Answers.audit(security, "table-content", "file=" + file + " refused: a table of passwords is for admin");
            throw answer(Response.Status.FORBIDDEN, "a table of passwords is for administrators: " + file);
        }
        return call(() -> control.readTable(file));
    }

    @POST
    @Path("tables")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed("admin")
    public JsonObject writeTable(JsonObject body) {
        requireBody(body);
        if (!(body.get("file") instanceof JsonString f) || !(body.get("text") instanceof JsonString t)) {
            throw bad("a body {\"file\": \"/path\", \"text\": \"...\"} is required");
        }
        String[] changes = call(() -> control.writeTable(f.getString(), t.getString()));
        Answers.audit(security, "table", "file=" + f.getString());
        return changes(changes);
    }

    @GET
    @Path("smtpd")
    @RolesAllowed({"viewer", "operator", "admin"})
    public JsonObject smtpd() {
        JsonArrayBuilder services = Json.createArrayBuilder();
        for (SmtpdStatisticsMXBean.Service s : control.getServices()) {
            services.add(Json.createObjectBuilder().add("name", s.name())
                    .add("listening", Json.createArrayBuilder(s.listening()))
                    .add("sessions", s.sessions()).add("connections", s.connections()));
        }
        JsonObjectBuilder rejects = Json.createObjectBuilder();
        control.getRejects().forEach(rejects::add);
        return Json.createObjectBuilder().add("services", services).add("sessions", control.getSessions())
                .add("rejects", rejects).build();
    }

    @GET
    @Path("delivery")
    @RolesAllowed({"viewer", "operator", "admin"})
    public JsonObject delivery() {
        JsonObjectBuilder busy = Json.createObjectBuilder();
        control.getBusy().forEach(busy::add);
        JsonObjectBuilder deferred = Json.createObjectBuilder();
        control.getDeferred().forEach(deferred::add);
        JsonArrayBuilder dead = Json.createArrayBuilder();
        for (DeliveryStatisticsMXBean.Dead d : control.getDeadDestinations()) {
            dead.add(Json.createObjectBuilder().add("destination", d.destination()).add("dsn", d.dsn())
                    .add("reason", d.reason()).add("until", d.until()));
        }
        return Json.createObjectBuilder().add("busy", busy).add("deferred", deferred).add("dead", dead).build();
    }

    @POST
    @Path("delivery/flush-dead")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({"operator", "admin"})
    public JsonObject flushDead(JsonObject body) {
        requireBody(body);
        int n = call(control::flushDead);
        Answers.audit(security, "flush-dead", "destinations=" + n);
        return Json.createObjectBuilder().add("action", "flush-dead").add("destinations", n).build();
    }
}
