package org.postern.web;

import jakarta.ejb.EJB;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.util.logging.Logger;
import org.postern.admin.QueueAdmin;

/**
 * RawMessageServlet - /raw?id=QUEUE_ID: the stored message as a download (message/rfc822,
 * QUEUE_ID.eml), a chunk at a time, for operators and administrators; each download is in
 * the audit log.
 */
@WebServlet("/raw")
public class RawMessageServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger AUDIT = Logger.getLogger("org.postern.audit");

    @EJB
    private QueueAdmin admin;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!request.isUserInRole("operator") && !request.isUserInRole("admin")) {
            response.sendError(HttpServletResponse.SC_FORBIDDEN, "the raw message is for operators and administrators");
            return;
        }
        String id = request.getParameter("id");
        int chunks = id != null && id.matches("[0-9A-F]{16}") ? admin.chunks(id) : -1;
        if (chunks < 0) {
            response.sendError(HttpServletResponse.SC_NOT_FOUND, "no such message");
            return;
        }
        AUDIT.info("PSTN6103: audit: console user=" + request.getUserPrincipal().getName() + " action=download queue_id="
                + id);
        response.setContentType("message/rfc822");
        response.setHeader("Content-Disposition", "attachment; filename=\"" + id + ".eml\"");
        OutputStream out = response.getOutputStream();
        for (int seq = 0; seq < chunks; seq++) {
            byte[] data = admin.chunk(id, seq);
            if (data == null) {
                break;
            }
            out.write(data);
        }
    }
}
