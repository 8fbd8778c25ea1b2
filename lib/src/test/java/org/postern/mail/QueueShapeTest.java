package org.postern.mail;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class QueueShapeTest {
    private static final long NOW = 1_000_000_000L;

    @Test
    void headingsAreQshapesDoublingBuckets() {
        assertEquals(List.of("T", "5", "10", "20", "40", "80", "160", "320", "640", "1280", "1280+"),
                QueueShape.defaults().headings());
        assertEquals(List.of("T", "5", "10", "15", "15+"), new QueueShape(true, false, 4, 5, 5).headings());
    }

    @Test
    void addressesCountPerDomainAndAge() {
        QueueShape s = QueueShape.defaults();
        s.add("a@Example.COM", NOW - 60, NOW);          // 1 minute: first bucket
        s.add("b@example.com", NOW - 7 * 60, NOW);      // 7 minutes: [5, 10)
        s.add("c@other.example", NOW - 100 * 3600, NOW); // 100 hours: the last bucket
        s.add("", NOW, NOW);                             // the null sender (qshape -s)
        List<QueueShape.Row> rows = s.rows();
        assertEquals("TOTAL", rows.get(0).domain());
        assertArrayEquals(new long[] {4, 2, 1, 0, 0, 0, 0, 0, 0, 0, 1}, rows.get(0).counts());
        assertEquals("example.com", rows.get(1).domain());
        assertArrayEquals(new long[] {2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}, rows.get(1).counts());
        assertEquals(List.of("TOTAL", "example.com", "MAILER-DAEMON", "other.example"),
                rows.stream().map(QueueShape.Row::domain).toList());
    }

    @Test
    void parentDomainsNeedEnoughSubdomains() {
        QueueShape s = new QueueShape(false, true, 10, 5, 2);
        s.add("x@a.example.com", NOW, NOW);
        s.add("x@b.example.com", NOW, NOW);
        s.add("x@c.other.net", NOW, NOW);
        List<String> domains = s.rows().stream().map(QueueShape.Row::domain).toList();
        assertEquals(List.of("TOTAL", ".example.com", "c.other.net", "a.example.com", "b.example.com"), domains);
    }

    @Test
    void textHasQshapesColumns() {
        QueueShape s = QueueShape.defaults();
        s.add("a@example.com", NOW, NOW);
        String[] lines = s.text(80).split("\n");
        // the counts take 41 columns of 80 (3 each, 4 from 160 on, 5 and 6 for the last two): the domain 39
        assertEquals(" ".repeat(39) + "  T  5 10 20 40 80 160 320 640 1280 1280+", lines[0]);
        assertEquals(" ".repeat(34) + "TOTAL  1  1  0  0  0  0   0   0   0    0     0", lines[1]);
        assertEquals(" ".repeat(28) + "example.com  1  1  0  0  0  0   0   0   0    0     0", lines[2]);
    }
}
