package org.postern.web.api;

import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;

/** ApiDescription - GET /api/openapi.yaml: the API's OpenAPI 3 description, for any console user. */
@Path("/openapi.yaml")
@RequestScoped
public class ApiDescription {

    @GET
    @Produces("application/yaml")
    @RolesAllowed({"viewer", "operator", "admin"})
    public Response openapi() throws IOException {
        try (InputStream in = ApiDescription.class.getResourceAsStream("/openapi.yaml")) {
            return Response.ok(in.readAllBytes()).build();
        }
    }
}
