package org.postern.cleanup;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.postern.config.Config;

/** virtual(5) as cleanup applies it to envelope recipients. */
class VirtualAliasesTest {

    private static VirtualAliases aliases(String map, String... more) {
        return VirtualAliases.of(Config.parse("myhostname = mx.example.com\nmyorigin = example.com\n"
                + "virtual_alias_maps = inline:{ " + map + " }\n" + String.join("\n", more), "main.cf"));
    }

    @Test
    void anAddressBecomesItsListAndEachIsExpandedAgain() {
        VirtualAliases a = aliases("{ sales@example.org = alice@example.org, team@example.org }, "
                + "{ team@example.org = bob@example.net, carol@example.net }");
        assertEquals(List.of("alice@example.org", "bob@example.net", "carol@example.net"),
                a.expand("sales@example.org"));
        assertEquals(List.of("dave@example.org"), a.expand("dave@example.org"));
    }

    @Test
    void catchAllDomainRewriteLocalPartsAndSelfReference() {
        VirtualAliases a = aliases("@old.example=@new.example, { postmaster@new.example = postmaster@new.example, root }, "
                + "{ info@example.org = info@example.org, archive@example.org }");
        // @domain -> @otherdomain keeps the user
        assertEquals(List.of("jane@new.example"), a.expand("jane@old.example"));
        // a bare name gets @$myorigin; an address that maps to itself is delivered as it is
        assertEquals(List.of("info@example.org", "archive@example.org"), a.expand("info@example.org"));
        assertEquals(List.of("postmaster@new.example", "root@example.com"), a.expand("postmaster@old.example"));
    }

    @Test
    void userOnlyKeysApplyToLocalDomainsOnly() {
        VirtualAliases a = aliases("abuse=security@example.org");
        assertEquals(List.of("security@example.org"), a.expand("abuse@mx.example.com"));
        assertEquals(List.of("abuse@elsewhere.example"), a.expand("abuse@elsewhere.example"));
    }

    @Test
    void loopsAndExplosionsAreBounded() {
        VirtualAliases loop = aliases("a@x.example=b@x.example, b@x.example=a@x.example");
        // a -> b -> a: the loop ends at the address seen again, which is delivered as it is
        assertEquals(List.of("a@x.example"), loop.expand("a@x.example"));
        VirtualAliases wide = aliases("{ all@x.example = u1@x.example, u2@x.example, u3@x.example, u4@x.example }",
                "virtual_alias_expansion_limit = 2");
        assertEquals(2, wide.expand("all@x.example").size());
        VirtualAliases deep = aliases("d0@x.example=d1@x.example, d1@x.example=d2@x.example, d2@x.example=d3@x.example",
                "virtual_alias_recursion_limit = 1");
        assertEquals(List.of("d1@x.example"), deep.expand("d0@x.example"));
    }

    @Test
    void withoutMapsNothingChanges() {
        VirtualAliases none = VirtualAliases.of(Config.parse("", "main.cf"));
        assertEquals(List.of("x@y.example"), none.expand("x@y.example"));
    }
}
