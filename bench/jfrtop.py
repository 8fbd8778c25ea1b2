#!/usr/bin/env python3
"""jfrtop.py FILE.jfr [N] - the hot methods of a JFR recording, from its jdk.ExecutionSample
events (via `jfr print --stack-depth 64`): the top N by self samples (the top frame), the
top N by total samples (anywhere on the stack, once per sample), and self samples per
package (the top frame's package, trimmed to 4 components), and Postern's own methods
(org.postern.*) by total samples, which say which of its steps the time is spent under."""
import collections, re, subprocess, sys

path, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25
out = subprocess.run(['jfr', 'print', '--events', 'jdk.ExecutionSample', '--stack-depth', '64', path],
                     capture_output=True, text=True, check=True).stdout
frame = re.compile(r'^\s+(\S.*?)\s+line:')
samples, stack, in_stack = [], [], False
for line in out.splitlines():
    if 'stackTrace = [' in line:
        stack, in_stack = [], True
    elif in_stack and line.strip() == ']':
        samples.append(stack)
        in_stack = False
    elif in_stack:
        m = frame.match(line)
        if m:
            stack.append(m.group(1))
self_, total, pkg, own = collections.Counter(), collections.Counter(), collections.Counter(), collections.Counter()
for s in samples:
    if not s:
        continue
    self_[s[0]] += 1
    for f in set(s):
        total[f] += 1
        if f.startswith('org.postern.'):
            own[f] += 1
    pkg['.'.join(s[0].split('(')[0].split('.')[:-2][:4])] += 1
count = len(samples) or 1
print('%d execution samples' % len(samples))
for title, c in (('self (top frame)', self_), ('total (on the stack)', total), ('self by package', pkg),
                 ("Postern's own methods, total", own)):
    print('\n%s:' % title)
    for k, v in c.most_common(n):
        print('%6.1f%% %6d  %s' % (100.0 * v / count, v, k))
