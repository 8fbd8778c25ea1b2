#!/usr/bin/env python3
"""reliability_report.py - the reliability table of the last test run (issue 13).

Reads what the last `mvn verify` and bench/fuzz.sh left in the tree:
  - the JUnit XML reports (*/target/surefire-reports/TEST-*.xml and
    ear/target/failsafe-reports/TEST-*.xml) of the reliability suite's classes (AREAS below);
  - the RELIABILITY lines the crash and outage tests print
    ("RELIABILITY case=<name> acknowledged=<n> lost=<n> duplicates=<n>"), from the reports'
    captured output;
  - target/fuzz/summary.txt, written by bench/fuzz.sh.
Prints one table: per area the cases tried, passed, failed, skipped; then acknowledged
messages, lost (must be 0), duplicates, fuzzing executions and crashes. With --markdown the
same as Markdown (for docs/RELIABILITY.md). Exit status 1 when a case failed, a case was
skipped, a message was lost, or a fuzz target crashed (0, with a note, when no case of the
suite ran).
"""
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

# area -> test classes (simple names; a trailing * matches a prefix or suffix pattern)
AREAS = [
    ("fuzzing: regression inputs and seeds", ["*FuzzTest"]),
    ("hostile sessions", ["HostileIT", "SmtpdStartTlsSessionTest", "SmtpdAuthTest", "SmtpdLimitsTest",
                          "PostfixSmugglingInteropTest"]),
    ("hostile content", ["SmtpHostileContentTest", "SmtpMimeDowngradeTest"]),
    ("peer, DNS and disk failures", ["SmtpSinkFaultTest", "SmtpDnsFailureTest", "SmtpdDiskFullTest",
                                     "SpoolSpaceTest", "MetricsIT"]),
    ("kill -9, database outage, durability", ["CrashIT", "PostgresCrashIT", "DatabaseOutageIT",
                                              "DurabilityIT"]),
    ("JMS broker: external, kill -9", ["ExternalBrokerIT"]),
    ("cluster: two nodes, kill -9 of one", ["ClusterIT", "ClusterSlotsTest"]),
    ("console, REST, JMX access", ["ConsoleSecurityIT", "SameOriginFilterTest", "RestIT", "AuthIT"]),
]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINE = re.compile(r"^RELIABILITY case=(\S+) acknowledged=(\d+) lost=(\d+) duplicates=(\d+)\s*$", re.M)


def area_of(cls):
    simple = cls.rsplit(".", 1)[-1]
    for area, names in AREAS:
        for n in names:
            if n == simple or (n.startswith("*") and simple.endswith(n[1:])):
                return area
    return None


def main():
    markdown = "--markdown" in sys.argv
    reports = sorted(glob.glob(os.path.join(ROOT, "*", "target", "surefire-reports", "TEST-*.xml"))
                     + glob.glob(os.path.join(ROOT, "ear", "target", "failsafe-reports", "TEST-*.xml")))
    counts = {area: [0, 0, 0, 0] for area, _ in AREAS}  # tried, passed, failed, skipped
    failed_cases = []
    outputs = []
    for path in reports:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        for case in root.iter("testcase"):
            area = area_of(case.get("classname", ""))
            if area is None:
                continue
            c = counts[area]
            c[0] += 1
            if case.find("failure") is not None or case.find("error") is not None:
                c[2] += 1
                failed_cases.append(case.get("classname").rsplit(".", 1)[-1] + "." + case.get("name"))
            elif case.find("skipped") is not None:
                c[3] += 1
            else:
                c[1] += 1
            for tag in ("system-out",):
                for el in case.iter(tag):
                    outputs.append(el.text or "")
        for el in root.iter("system-out"):
            outputs.append(el.text or "")
    for path in glob.glob(os.path.join(ROOT, "ear", "target", "failsafe-reports", "*-output.txt")) \
            + glob.glob(os.path.join(ROOT, "*", "target", "surefire-reports", "*-output.txt")):
        with open(path, encoding="utf-8", errors="replace") as f:
            outputs.append(f.read())
    runs = {}
    for text in outputs:
        for m in LINE.finditer(text):
            runs[m.group(1)] = tuple(int(x) for x in m.group(2, 3, 4))

    fuzz = {}
    summary = os.path.join(ROOT, "target", "fuzz", "summary.txt")
    if os.path.exists(summary):
        with open(summary) as f:
            for kv in f.read().split():
                k, _, v = kv.partition("=")
                fuzz[k] = v

    tried = sum(c[0] for c in counts.values())
    passed = sum(c[1] for c in counts.values())
    failed = sum(c[2] for c in counts.values())
    skipped = sum(c[3] for c in counts.values())
    acked = sum(r[0] for r in runs.values())
    lost = sum(r[1] for r in runs.values())
    dups = sum(r[2] for r in runs.values())

    rows = [(area, *counts[area]) for area, _ in AREAS] + [("total", tried, passed, failed, skipped)]
    if markdown:
        print("| area | cases tried | passed | failed | skipped |")
        print("|---|---:|---:|---:|---:|")
        for r in rows:
            print("| %s | %d | %d | %d | %d |" % r)
        print()
        print("| crash and outage run | acknowledged | lost | delivered twice |")
        print("|---|---:|---:|---:|")
        for name, (a, l, d) in sorted(runs.items()):
            print("| %s | %d | %d | %d |" % (name, a, l, d))
        print("| total | %d | %d | %d |" % (acked, lost, dups))
        print()
        if fuzz:
            print("Fuzzing: %s targets, %s executions, %s crashes, %s s." % (
                fuzz.get("targets"), fuzz.get("executions"), fuzz.get("crashes"), fuzz.get("seconds")))
    else:
        print("%-42s %7s %7s %7s %7s" % ("reliability suite: area", "tried", "passed", "failed", "skipped"))
        for r in rows:
            print("%-42s %7d %7d %7d %7d" % r)
        print()
        for name, (a, l, d) in sorted(runs.items()):
            print("%-42s acknowledged %6d  lost %3d  delivered twice %3d" % (name, a, l, d))
        print("%-42s acknowledged %6d  lost %3d  delivered twice %3d" % ("total", acked, lost, dups))
        if fuzz:
            print("%-42s %s targets, %s executions, %s crashes (%s s)" % (
                "fuzzing", fuzz.get("targets"), fuzz.get("executions"), fuzz.get("crashes"), fuzz.get("seconds")))
        else:
            print("%-42s not run (target/fuzz/summary.txt missing)" % "fuzzing")
        for c in failed_cases:
            print("FAILED: " + c)

    if tried == 0 and not runs:
        print("reliability: no case of the reliability suite ran (reports missing)")
        return 0
    bad = failed or skipped or lost or (fuzz and fuzz.get("crashes", "0") != "0")
    if not markdown:
        print("reliability: " + ("FAILED" if bad else "ok") + " (lost must be 0, no case may fail or skip)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
