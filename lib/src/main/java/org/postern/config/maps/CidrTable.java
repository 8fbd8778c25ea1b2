package org.postern.config.maps;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.postern.config.ConfigException;
import org.postern.config.LogicalLines;
import org.postern.config.NetworkList;

/**
 * CidrTable - the cidr:/path table of cidr_table(5): "network/prefix result" lines,
 * searched in file order, the first network that contains the address wins. Used for
 * check_client_access and the like; a key that is not an address matches nothing.
 */
final class CidrTable implements LookupTable {
    private final String spec;
    private final List<NetworkList> networks;
    private final List<String> results;

    private CidrTable(String spec, List<NetworkList> networks, List<String> results) {
        this.spec = spec;
        this.networks = networks;
        this.results = results;
    }

    static LookupTable open(String spec, String name) {
        if (name.isEmpty()) {
            throw new ConfigException(spec, 0, "need \"cidr:/path/to/file\"");
        }
        try {
            return parse(spec, name, new String(Files.readAllBytes(Path.of(name)), StandardCharsets.UTF_8));
        } catch (IOException | InvalidPathException | SecurityException e) {
            throw new ConfigException(spec, 0, "open database " + name + ": " + e, e);
        }
    }

    /** parse - the lines of a cidr table; a bad network names its file and line. */
    static CidrTable parse(String spec, String fileName, String text) {
        List<NetworkList> networks = new ArrayList<>();
        List<String> results = new ArrayList<>();
        for (LogicalLines.Line line : LogicalLines.read(text, fileName)) {
            String s = line.text().strip();
            int space = 0;
            while (space < s.length() && !Character.isWhitespace(s.charAt(space))) {
                space++;
            }
            if (space == s.length()) {
                throw new ConfigException(fileName, line.number(), "no result after network \"" + s + "\"");
            }
            try {
                networks.add(NetworkList.parse(List.of(s.substring(0, space)), fileName));
            } catch (ConfigException e) {
                throw new ConfigException(fileName, line.number(), e.getMessage(), e);
            }
            results.add(s.substring(space).strip());
        }
        return new CidrTable(spec, List.copyOf(networks), List.copyOf(results));
    }

    @Override
    public Optional<String> lookup(String key) {
        for (int i = 0; i < networks.size(); i++) {
            if (networks.get(i).test(key)) {
                return Optional.of(results.get(i));
            }
        }
        return Optional.empty();
    }

    @Override
    public String spec() {
        return spec;
    }
}
