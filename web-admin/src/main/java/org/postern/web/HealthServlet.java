package org.postern.web;

import jakarta.ejb.EJB;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.postern.admin.ServerControl;

/**
 * HealthServlet - liveness and readiness for load balancers and orchestrators, without a
 * login, in MicroProfile Health's format ({"status": "UP", "checks": [...]}; 200 when
 * every check passes, 503 otherwise):
 *
 * <ul>
 * <li>/postern/health/live - Postern is deployed and has a configuration;</li>
 * <li>/postern/health/ready - every smtpd service listens, the queue's database answers,
 * queue_minfree holds;</li>
 * <li>/postern/health - both.</li>
 * </ul>
 *
 * <p>They are here and not in WildFly's /health on the management port because WildFly
 * does not run MicroProfile Health checks of an EAR's subdeployments. They show check
 * names, counts and free space, never an address or a path.
 */
@WebServlet(urlPatterns = {"/health", "/health/*"})
public class HealthServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @EJB
    private ServerControl control;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String which = request.getPathInfo() == null ? "" : request.getPathInfo();
        List<ServerControl.Check> checks;
        try {
            checks = switch (which) {
                case "/live" -> control.liveness();
                case "/ready" -> control.readiness();
                case "", "/" -> {
                    List<ServerControl.Check> all = new java.util.ArrayList<>(control.liveness());
                    all.addAll(control.readiness());
                    yield all;
                }
                default -> null;
            };
        } catch (RuntimeException e) {
            checks = List.of(new ServerControl.Check("postern", false, "cannot check: " + e.getClass().getSimpleName()));
        }
        if (checks == null) {
            response.sendError(HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        boolean up = checks.stream().allMatch(ServerControl.Check::up);
        JsonArrayBuilder list = Json.createArrayBuilder();
        for (ServerControl.Check c : checks) {
            list.add(Json.createObjectBuilder().add("name", c.name()).add("status", c.up() ? "UP" : "DOWN")
                    .add("data", Json.createObjectBuilder().add("detail", c.detail())));
        }
        response.setStatus(up ? HttpServletResponse.SC_OK : HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.getWriter().write(Json.createObjectBuilder().add("status", up ? "UP" : "DOWN").add("checks", list)
                .build().toString());
    }
}
