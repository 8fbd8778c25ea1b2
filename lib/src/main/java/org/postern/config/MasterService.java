package org.postern.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * MasterService - one service line of master.cf.
 *
 * <p>The fields are those of Postfix: {@code service type private unpriv chroot wakeup
 * maxproc command [args]}. Postern keeps the flags as written ({@code y}, {@code n} or
 * {@code -}) for display; it runs no processes of its own, so only the service name,
 * type, command, arguments and {@code -o} overrides have an effect, and for a delivery
 * service (smtp, lmtp) the maxproc column, which bounds its parallel deliveries
 * ({@link #processLimit}). For an {@code inet}
 * service the name is the listen address: {@code 127.0.0.1:2525}, {@code [::1]:2525},
 * {@code 2525} (all addresses) or a service name ({@code smtp} 25, {@code submission}
 * 587, {@code smtps}/{@code submissions} 465, {@code lmtp} 24).
 */
public final class MasterService {
    private final String service;
    private final String type;
    private final String privateFlag;
    private final String unprivFlag;
    private final String chrootFlag;
    private final String wakeup;
    private final String maxproc;
    private final String command;
    private final List<String> args;
    private final Map<String, String> overrides;
    private final String origin;
    private final String bindHost;
    private final int port;

    MasterService(String service, String type, String privateFlag, String unprivFlag, String chrootFlag,
                  String wakeup, String maxproc, String command, List<String> args,
                  Map<String, String> overrides, String origin, String bindHost, int port) {
        this.service = Objects.requireNonNull(service);
        this.type = Objects.requireNonNull(type);
        this.privateFlag = privateFlag;
        this.unprivFlag = unprivFlag;
        this.chrootFlag = chrootFlag;
        this.wakeup = wakeup;
        this.maxproc = maxproc;
        this.command = Objects.requireNonNull(command);
        this.args = List.copyOf(args);
        this.overrides = Collections.unmodifiableMap(new LinkedHashMap<>(overrides));
        this.origin = origin;
        this.bindHost = bindHost;
        this.port = port;
    }

    /** name - the service name as written (for inet: the listen address). */
    public String name() {
        return service;
    }

    /** type - inet, unix, unix-dgram, fifo or pass. */
    public String type() {
        return type;
    }

    /** privateFlag - the "private" field as written (y, n or -). */
    public String privateFlag() {
        return privateFlag;
    }

    /** unprivFlag - the "unpriv" field as written. */
    public String unprivFlag() {
        return unprivFlag;
    }

    /** chrootFlag - the "chroot" field as written. */
    public String chrootFlag() {
        return chrootFlag;
    }

    /** wakeup - the "wakeup" field as written. */
    public String wakeup() {
        return wakeup;
    }

    /** maxproc - the "maxproc" field as written. */
    public String maxproc() {
        return maxproc;
    }

    /**
     * processLimit - the maxproc column as a number: {@code -} is default_process_limit of
     * the configuration; 0 means no limit (master(5)).
     */
    public int processLimit(Config mainCf) {
        return maxproc.equals("-") ? mainCf.get(Parameters.DEFAULT_PROCESS_LIMIT) : Integer.parseInt(maxproc);
    }

    /** command - the command name, such as smtpd. */
    public String command() {
        return command;
    }

    /** args - the command arguments other than the -o overrides, braces removed. */
    public List<String> args() {
        return args;
    }

    /** overrides - the -o name=value settings, in order; a later one replaces an earlier one. */
    public Map<String, String> overrides() {
        return overrides;
    }

    /** origin - file and line of the service, for messages. */
    public String origin() {
        return origin;
    }

    /** bindHost - for inet: the address to listen on, or empty for all addresses. */
    public Optional<String> bindHost() {
        return Optional.ofNullable(bindHost);
    }

    /** port - for inet: the TCP port; otherwise -1. */
    public int port() {
        return port;
    }

    /** isInet - true for a TCP service. */
    public boolean isInet() {
        return "inet".equals(type);
    }

    /** settings - the main.cf configuration with this service's -o overrides applied. */
    public Config settings(Config mainCf) {
        return overrides.isEmpty() ? mainCf : mainCf.withOverrides(overrides, origin);
    }

    @Override
    public String toString() {
        return service + " " + type + " " + privateFlag + " " + unprivFlag + " " + chrootFlag + " "
                + wakeup + " " + maxproc + " " + command + (args.isEmpty() ? "" : " " + String.join(" ", args))
                + (overrides.isEmpty() ? "" : " " + overrides);
    }
}
