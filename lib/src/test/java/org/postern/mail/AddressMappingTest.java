package org.postern.mail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.postern.config.ConfigException;

class AddressMappingTest {

    private static AddressMapping mapping(String table, String delimiter, boolean propagate) {
        return AddressMapping.open("smtp_generic_maps", List.of("inline:{" + table + "}"),
                List.of("host.local", "localhost"), "origin.local", List.of("192.0.2.1"), delimiter, propagate);
    }

    private static String map(AddressMapping m, String address) {
        return m.map(address).orElse("(none)");
    }

    @Test
    void fullAddressThenLocalPartForLocalDomainsThenAtDomain() {
        AddressMapping m = mapping("alice@host.local=alice.smith@example.com, bob=robert@example.com, "
                + "@host.local=@example.com, @other.example=catchall@example.com", "", false);
        assertEquals("alice.smith@example.com", map(m, "alice@host.local"));
        // "user" applies to myorigin, mydestination and [own address] only
        assertEquals("robert@example.com", map(m, "bob@host.local"));
        assertEquals("robert@example.com", map(m, "bob@origin.local"));
        assertEquals("robert@example.com", map(m, "bob@[192.0.2.1]"));
        assertEquals("(none)", map(m, "bob@remote.example"));
        // @domain: the same user in the other domain
        assertEquals("carol@example.com", map(m, "carol@host.local"));
        assertEquals("catchall@example.com", map(m, "dave@other.example"));
        assertEquals("(none)", map(m, "erin@remote.example"));
    }

    @Test
    void fullAddressWinsOverLocalPartAndLocalPartOverAtDomain() {
        AddressMapping m = mapping("alice@host.local=first@example.com, alice=second@example.com, "
                + "@host.local=@example.com", "", false);
        assertEquals("first@example.com", map(m, "alice@host.local"));
        assertEquals("second@example.com", map(m, "alice@origin.local"));
    }

    @Test
    void keysAreCaseInsensitiveAndTheNullSenderIsNeverMapped() {
        AddressMapping m = mapping("alice@host.local=alice.smith@example.com, @host.local=nobody@example.com", "", false);
        assertEquals("alice.smith@example.com", map(m, "Alice@HOST.local"));
        assertEquals(Optional.empty(), m.map(""));
    }

    @Test
    void extensionIsLookedUpAsItIsThenWithout() {
        AddressMapping m = mapping("alice+list@host.local=lists@example.com, alice@host.local=alice.smith@example.com, "
                + "bob=robert@example.com, @host.local=@example.com", "+", false);
        assertEquals("lists@example.com", map(m, "alice+list@host.local"));
        // found without the extension; propagate_unmatched_extensions lacks generic: not put back
        assertEquals("alice.smith@example.com", map(m, "alice+news@host.local"));
        assertEquals("robert@example.com", map(m, "bob+x@host.local"));
        // @domain keeps the whole local part
        assertEquals("carol+x@example.com", map(m, "carol+x@host.local"));
    }

    @Test
    void unmatchedExtensionPropagatedWithGeneric() {
        AddressMapping m = mapping("alice@host.local=alice.smith@example.com, bob@host.local=@example.com", "+-", true);
        assertEquals("alice.smith+news@example.com", map(m, "alice+news@host.local"));
        assertEquals("alice.smith-news@example.com", map(m, "alice-news@host.local"));
        assertEquals("bob+x@example.com", map(m, "bob+x@host.local"));
        // no extension for postmaster or owner-*/*-request
        assertEquals("(none)", map(m, "owner-alice@host.local"));
    }

    @Test
    void resultWithoutDomainGetsMyoriginAndOnlyTheFirstOfAList() {
        AddressMapping m = mapping("alice@host.local=alice, { bob@host.local = bob@a.example, bob@b.example }", "", false);
        assertEquals("alice@origin.local", map(m, "alice@host.local"));
        assertEquals("bob@a.example", map(m, "bob@host.local"));
    }

    @Test
    void quotedLocalPartsAreLookedUpQuotedAndResultsUnquoted() {
        AddressMapping m = mapping("{ \"first last\"@host.local = \"split me\"@example.com }", "", false);
        assertEquals("split me@example.com", map(m, "first last@host.local"));
        assertEquals("\"split me\"@example.com", AddressMapping.quoteLocal("split me@example.com"));
        assertEquals("a.b@example.com", AddressMapping.quoteLocal("a.b@example.com"));
    }

    @Test
    void tableThatCannotBeOpenedFailsAtOpenWithTheParameterName() {
        ConfigException e = assertThrows(ConfigException.class, () -> AddressMapping.open("lmtp_generic_maps",
                List.of("texthash:/nonexistent/generic"), List.of(), "origin.local", List.of(), "", false));
        assertTrue(e.getMessage().contains("lmtp_generic_maps"), e.getMessage());
        assertThrows(ConfigException.class, () -> AddressMapping.open("smtp_generic_maps",
                List.of("regexp:/etc/postfix/generic"), List.of(), "origin.local", List.of(), "", false));
    }

    @Test
    void equalityIsIdentityAndADeserializedCopyOpensItsTablesAgain() throws Exception {
        AddressMapping a = mapping("alice@host.local=alice.smith@example.com", "", false);
        AddressMapping b = mapping("alice@host.local=alice.smith@example.com", "", false);
        assertNotEquals(a, b);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(a);
        }
        AddressMapping copy;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (AddressMapping) in.readObject();
        }
        assertEquals("alice.smith@example.com", map(copy, "alice@host.local"));
    }
}
