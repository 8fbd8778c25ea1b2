package org.postern.smtp;

import java.io.IOException;
import java.util.List;

/** SmtpTestServers - gives tests in other packages a {@link FakeSmtpServer} without exposing it. */
public final class SmtpTestServers {

    private SmtpTestServers() {
    }

    /** Handle - a running fake SMTP server. */
    public static final class Handle implements AutoCloseable {
        private final FakeSmtpServer server;

        Handle(FakeSmtpServer server) {
            this.server = server;
        }

        public int port() throws IOException {
            return server.port();
        }

        public int connections() {
            return server.connections.get();
        }

        public List<String> commands(String prefix) {
            return server.commands(prefix);
        }

        /** closeAfterData - drop the connection after the final dot, without a reply. */
        public void closeAfterData() {
            server.on(".", FakeSmtpServer.CLOSE);
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    public static Handle start() throws IOException {
        return new Handle(new FakeSmtpServer(false));
    }
}
