package org.postern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * PackageCyclesTest - no two packages of a module depend on each other, directly or
 * through others.
 *
 * <h2>DESCRIPTION</h2>
 * Runs the JDK's jdeps ({@code -verbose:package}) on a module's compiled classes, builds
 * the graph of its org.postern packages and fails, naming the packages, when a strongly
 * connected set of more than one package exists (Tarjan). The arrows of DESIGN.md hold
 * between modules by construction (Maven refuses a cycle); inside a module only this test
 * keeps them one way: qmgr uses flush and service, cleanup uses qmgr, flush and service,
 * and service, the configuration in force, uses none of them.
 *
 * <p>An edge that is known to close a cycle and cannot be removed yet is listed in
 * {@link #KNOWN} with the reason; the test fails as well when a known edge has gone, so
 * that the list only shrinks.
 *
 * <h2>BUGS</h2>
 * jdeps sees the class files: a dependency through a compile-time constant alone (a
 * {@code static final} String or int, inlined by javac) is invisible to it. The modules
 * lib, ra-api, ra-smtp and jpa are checked when their classes have been built (the reactor
 * build does; under CI a module that is not built fails the test).
 */
class PackageCyclesTest {

    /** edges that close a cycle today, with the change that removes them (none left) */
    static final Map<String, String> KNOWN = Map.of();

    @Test
    void ejbHasNoPackageCycles() {
        assertNoCycles(Path.of("target/classes"));
    }

    @Test
    void jpaHasNoPackageCycles() {
        assertNoCycles(built("jpa"));
    }

    @Test
    void libHasNoPackageCycles() {
        assertNoCycles(built("lib"));
    }

    @Test
    void raApiHasNoPackageCycles() {
        assertNoCycles(built("ra-api"));
    }

    @Test
    void raSmtpHasNoPackageCycles() {
        assertNoCycles(built("ra-smtp"));
    }

    /**
     * built - the classes of another module; the reactor compiles every module before ejb's
     * tests. Outside CI a build of ejb alone may lack them and the check is skipped; under
     * CI (CI=true) a missing module fails the test.
     */
    private static Path built(String module) {
        Path classes = Path.of("..", module, "target", "classes");
        if (!Files.isDirectory(classes) && "true".equals(System.getenv("CI"))) {
            throw new AssertionError(module + " is not built: " + classes.toAbsolutePath());
        }
        assumeTrue(Files.isDirectory(classes), module + " not built");
        return classes;
    }

    @Test
    void aCycleIsFoundAndNamed() {
        Map<String, Set<String>> graph = Map.of(
                "a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a", "d"), "d", Set.of(), "e", Set.of("e"));
        assertEquals(List.of(Set.of("a", "b", "c")), cycles(graph).stream().map(Set::copyOf).toList());
        assertEquals(List.of(), cycles(Map.of("a", Set.of("b"), "b", Set.of())));
    }

    /** assertNoCycles - fail with every cycle of the classes' packages, after the KNOWN edges are taken out. */
    private static void assertNoCycles(Path classes) {
        Map<String, Set<String>> graph = packageGraph(classes);
        List<String> gone = new ArrayList<>();
        for (String edge : KNOWN.keySet()) {
            String[] ends = edge.split(" -> ");
            if (graph.containsKey(ends[0]) && !graph.get(ends[0]).remove(ends[1])) {
                gone.add(edge);
            }
        }
        List<Set<String>> cycles = cycles(graph);
        assertTrue(cycles.isEmpty(), () -> "package cycles in " + classes + ": " + describe(cycles, graph));
        assertTrue(gone.isEmpty(), () -> "known edges that no longer exist, remove them from KNOWN: " + gone);
    }

    /** packageGraph - package -> packages it uses, for the org.postern packages of these classes, by jdeps. */
    static Map<String, Set<String>> packageGraph(Path classes) {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps")
                .orElseThrow(() -> new IllegalStateException("no jdeps in this JDK"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:package", "-filter:package",
                classes.toString());
        assertEquals(0, rc, () -> "jdeps failed: " + err);
        Map<String, Set<String>> graph = new TreeMap<>();
        for (String line : out.toString().split("\n")) {
            // "   org.postern.flush     -> org.postern.qmgr     classes"; header lines start unindented
            if (!line.startsWith(" ")) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[1].equals("->") && f[0].startsWith("org.postern")) {
                graph.computeIfAbsent(f[0], k -> new TreeSet<>());
                if (f[2].startsWith("org.postern") && !f[0].equals(f[2])) {
                    graph.get(f[0]).add(f[2]);
                }
            }
        }
        // only packages of these classes: a package of another module cannot close a cycle here
        graph.values().forEach(uses -> uses.retainAll(graph.keySet()));
        assertTrue(!graph.isEmpty(), () -> "jdeps found no org.postern package in " + classes + ": " + out);
        return graph;
    }

    /** cycles - the strongly connected sets of more than one package (Tarjan's algorithm). */
    static List<Set<String>> cycles(Map<String, Set<String>> graph) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<Set<String>> found = new ArrayList<>();
        for (String v : new TreeSet<>(graph.keySet())) {
            if (!index.containsKey(v)) {
                connect(v, graph, index, low, stack, onStack, found);
            }
        }
        return found;
    }

    private static void connect(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
                                Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                                List<Set<String>> found) {
        index.put(v, index.size());
        low.put(v, index.get(v));
        stack.push(v);
        onStack.add(v);
        for (String w : new TreeSet<>(graph.getOrDefault(v, Set.of()))) {
            if (!index.containsKey(w)) {
                connect(w, graph, index, low, stack, onStack, found);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> component = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            if (component.size() > 1) {
                found.add(component);
            }
        }
    }

    /** describe - each cycle with the edges inside it, so that the message says what to cut. */
    private static String describe(List<Set<String>> cycles, Map<String, Set<String>> graph) {
        StringBuilder b = new StringBuilder();
        for (Set<String> c : cycles) {
            b.append("\n  ").append(c).append(':');
            for (String p : c) {
                for (String q : graph.get(p)) {
                    if (c.contains(q)) {
                        b.append("\n    ").append(p).append(" -> ").append(q);
                    }
                }
            }
        }
        return b.toString();
    }
}
