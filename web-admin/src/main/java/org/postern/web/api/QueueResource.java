package org.postern.web.api;

import jakarta.annotation.security.RolesAllowed;
import jakarta.ejb.EJB;
import jakarta.enterprise.context.RequestScoped;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import static org.postern.web.api.Answers.answer;
import static org.postern.web.api.Answers.bad;
import static org.postern.web.api.Answers.call;
import static org.postern.web.api.Answers.requireBody;
import jakarta.ws.rs.core.SecurityContext;
import java.util.ArrayList;
import java.util.List;
import org.postern.admin.QueueControlMXBean;
import org.postern.admin.QueueEntry;
import org.postern.admin.RecipientEntry;

/**
 * QueueResource - the mail queue over JSON, what postqueue and postsuper do:
 *
 * <ul>
 * <li>GET /api/queue - the number of messages in each queue (viewer);</li>
 * <li>GET /api/queue/{queue}?after=ID&amp;limit=N - a page of one queue (hold, incoming,
 * active, deferred, corrupt) in queue id order, each message with postqueue -j's fields
 * (viewer);</li>
 * <li>POST /api/queue/{delete|hold|release|requeue|expire} with {"queue_ids": [...],
 * "queues": [...]} - postsuper -d, -h, -H, -r, -e; "ALL" as an id means every message of
 * the queues (operator);</li>
 * <li>POST /api/queue/flush, /api/queue/flush/{site}, /api/queue/deliver/{id} - postqueue
 * -f, -s site, -i id (operator).</li>
 * </ul>
 *
 * <p>Every POST takes a JSON body (an empty object where there is nothing to say): a
 * request of another web site cannot send that without the browser asking first (CORS),
 * so a logged-in console user's browser cannot be made to act on mail.
 *
 * <p>Every change is written to the audit log (logger org.postern.audit: who, what, how
 * many; the server log has when) and, per message, to the mail log as postsuper writes
 * it. Bad input is a 400 with {"error": "..."}.
 */
@Path("/queue")
@Produces(MediaType.APPLICATION_JSON)
@RequestScoped
public class QueueResource {
    private static final List<String> QUEUES = List.of("hold", "incoming", "active", "deferred", "corrupt");
    private static final int MAX_PAGE = 500;

    @EJB
    private QueueControlMXBean queue;

    @Context
    private SecurityContext security;

    @GET
    @RolesAllowed({"viewer", "operator", "admin"})
    public JsonObject counts() {
        long[] c = queue.counts();
        JsonObjectBuilder b = Json.createObjectBuilder();
        for (int i = 0; i < QUEUES.size(); i++) {
            b.add(QUEUES.get(i), c[i]);
        }
        return b.build();
    }

    @GET
    @Path("{queue: hold|incoming|active|deferred|corrupt}")
    @RolesAllowed({"viewer", "operator", "admin"})
    public JsonArray list(@PathParam("queue") String name, @QueryParam("after") @DefaultValue("") String after,
                          @QueryParam("limit") @DefaultValue("100") int limit) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw bad("limit must be 1 to " + MAX_PAGE + ": " + limit);
        }
        JsonArrayBuilder out = Json.createArrayBuilder();
        for (QueueEntry e : queue.list(name, after, limit)) {
            out.add(json(e));
        }
        return out.build();
    }

    /** json - postqueue -j's object for one message. */
    static JsonObject json(QueueEntry e) {
        JsonArrayBuilder rcpts = Json.createArrayBuilder();
        for (RecipientEntry r : e.getRecipients()) {
            JsonObjectBuilder rb = Json.createObjectBuilder().add("address", r.getAddress());
            if (!r.getDelayReason().isEmpty()) {
                rb.add("delay_reason", r.getDelayReason());
            }
            rcpts.add(rb);
        }
        return Json.createObjectBuilder()
                .add("queue_name", e.getQueueName())
                .add("queue_id", e.getQueueId())
                .add("arrival_time", e.getArrivalTime())
                .add("message_size", e.getMessageSize())
                .add("forced_expire", e.isForcedExpire())
                .add("sender", e.getSender())
                .add("recipients", rcpts)
                .build();
    }

    @POST
    @Path("{action: delete|hold|release|requeue|expire}")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({"operator", "admin"})
    public JsonObject act(@PathParam("action") String action, JsonObject body) {
        if (body == null) {
            throw bad("a JSON body {\"queue_ids\": [...], \"queues\": [...]} is required");
        }
        String[] ids = strings(body, "queue_ids");
        String[] queues = strings(body, "queues");
        if (ids.length == 0) {
            throw bad("queue_ids is empty: name queue ids, or \"ALL\"");
        }
        for (String q : queues) {
            if (!QUEUES.contains(q) && !q.equals("maildrop")) {
                throw bad("unknown queue: " + q);
            }
        }
        int n = call(() -> switch (action) {
            case "delete" -> queue.delete(ids, queues);
            case "hold" -> queue.hold(ids, queues);
            case "release" -> queue.release(ids, queues);
            case "expire" -> queue.expire(ids, queues);
            default -> queue.requeue(ids, queues);
        });
        audit(action, "queue_ids=" + List.of(ids) + " queues=" + List.of(queues) + " count=" + n);
        return Json.createObjectBuilder().add("action", action).add("count", n).build();
    }

    @POST
    @Path("flush")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({"operator", "admin"})
    public JsonObject flush(JsonObject body) {
        requireBody(body);
        int n = call(queue::flush);
        audit("flush", "woken=" + n);
        return Json.createObjectBuilder().add("action", "flush").add("woken", n).build();
    }

    @POST
    @Path("flush/{site}")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({"operator", "admin"})
    public JsonObject flushSite(@PathParam("site") String site, JsonObject body) {
        requireBody(body);
        boolean ok = call(() -> queue.flushSite(site));
        audit("flush", "site=" + site + " eligible=" + ok);
        if (!ok) {
            throw answer(Response.Status.NOT_FOUND, "Flush service is not configured for destination \"" + site + "\"");
        }
        return Json.createObjectBuilder().add("action", "flush").add("site", site).build();
    }

    @POST
    @Path("deliver/{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({"operator", "admin"})
    public JsonObject deliver(@PathParam("id") String id, JsonObject body) {
        requireBody(body);
        boolean ok = call(() -> queue.deliver(id));
        audit("deliver", "queue_id=" + id + " due=" + ok);
        if (!ok) {
            throw answer(Response.Status.NOT_FOUND, id + ": not in the incoming, active or deferred queue");
        }
        return Json.createObjectBuilder().add("action", "deliver").add("queue_id", id).build();
    }

    private void audit(String action, String what) {
        Answers.audit(security, action, what);
    }

    private static String[] strings(JsonObject body, String key) {
        JsonValue v = body.get(key);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return new String[0];
        }
        if (v.getValueType() != JsonValue.ValueType.ARRAY) {
            throw bad(key + " must be an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonValue e : v.asJsonArray()) {
            if (!(e instanceof JsonString s)) {
                throw bad(key + " must be an array of strings");
            }
            out.add(s.getString());
        }
        return out.toArray(new String[0]);
    }
}
