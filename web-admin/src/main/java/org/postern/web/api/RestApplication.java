package org.postern.web.api;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;

/**
 * RestApplication - the JSON API under /postern/api/: the queue (counts, listing, hold,
 * release, requeue, delete, flush; {@link QueueResource}) and the server (configuration,
 * reload, listeners, delivery; {@link ServerResource}) with the console's roles. Its
 * description is /postern/api/openapi.yaml.
 */
@ApplicationPath("/api")
public class RestApplication extends Application {
}
