package org.postern.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Commands - running a command as an administrator does: the server's bin/ commands
 * (postqueue, postsuper, postconf, sendmail, ...) against the test server, or any other
 * program (Postfix's own commands), with standard input, output, error and exit status.
 */
final class Commands {
    /** the test server's management interface (port offset 100) */
    static final String MANAGEMENT = "127.0.0.1:10090";

    record Result(int status, String out, String err) {
    }

    private Commands() {
    }

    /** bin - a command installed in the provisioned server's bin/. */
    static String bin(String name) {
        return Path.of(System.getProperty("jboss.home"), "bin", name).toString();
    }

    /** server - bin/NAME ARGS with the test server's management port; stdin may be null. */
    static Result server(String stdin, String name, String... args) throws Exception {
        return at(MANAGEMENT, stdin, name, args);
    }

    /** at - the same against another management address (a server that is not there). */
    static Result at(String management, String stdin, String name, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(bin(name));
        cmd.addAll(List.of(args));
        return run(Map.of("POSTERN_MANAGEMENT", management), stdin, cmd);
    }

    /** run - any command, with these environment variables added (and the tests' java as JAVA_HOME). */
    static Result run(Map<String, String> env, String stdin, List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("cmd", ".out");
        Path err = Files.createTempFile("cmd", ".err");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            try (var in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(command + " did not end in 120 s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
