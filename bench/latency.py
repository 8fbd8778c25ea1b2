#!/usr/bin/env python3
"""latency.py - a paced SMTP sender that stamps each message, and a sink that measures.

  latency.py send PORT RATE SECONDS SESSIONS SIZE   paces RATE msg/s for SECONDS over up to
      SESSIONS reused connections; each message carries X-Bench-Sent: <scheduled send time>
      (the schedule, not the moment a connection got free, so that a slow server's backlog
      counts in the latency: no coordinated omission). Prints "sent N errors E late L".
  latency.py sink PORT FILE [lmtp]                  an SMTP (or LMTP) sink answering 250 to
      everything; for each message appends "<arrival - stamp in ms>" to FILE.
  latency.py stats FILE [SKIP]                       prints "n N p50 X p99 Y max Z" in ms
      over the lines after the first SKIP.
"""
import asyncio, sys, time


async def send(port, rate, seconds, sessions, size):
    total = int(rate * seconds)
    queue = asyncio.Queue()
    stats = {'sent': 0, 'errors': 0}
    body = ('x' * 76 + '\r\n') * max(1, size // 78)

    async def worker():
        r = w = None
        async def cmd(line, expect):
            w.write(line.encode() + b'\r\n')
            await w.drain()
            while True:
                reply = await r.readline()
                if not reply:
                    raise ConnectionError('closed')
                if reply[3:4] != b'-':
                    break
            if not reply.startswith(expect):
                raise ConnectionError(reply.decode().strip())
        while True:
            stamp = await queue.get()
            if stamp is None:
                break
            try:
                if w is None:
                    r, w = await asyncio.open_connection('127.0.0.1', port)
                    await r.readline()
                    await cmd('EHLO bench.test', b'250')
                await cmd('MAIL FROM:<bench@example.org>', b'250')
                await cmd('RCPT TO:<sink@lat.test>', b'250')
                await cmd('DATA', b'354')
                msg = ('From: bench@example.org\r\nTo: sink@lat.test\r\nSubject: latency\r\n'
                       'X-Bench-Sent: %.6f\r\n\r\n%s' % (stamp, body))
                w.write(msg.encode() + b'.\r\n')
                await w.drain()
                reply = await r.readline()
                if not reply.startswith(b'250'):
                    raise ConnectionError(reply.decode().strip())
                stats['sent'] += 1
            except Exception as e:
                stats['errors'] += 1
                print('error:', e, file=sys.stderr)
                if w is not None:
                    w.close()
                r = w = None
        if w is not None:
            try:
                await cmd('QUIT', b'221')
            except Exception:
                pass
            w.close()

    workers = [asyncio.create_task(worker()) for _ in range(sessions)]
    start = time.time() + 0.2
    late = 0
    for i in range(total):
        due = start + i / rate
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.1:
            late += 1
        queue.put_nowait(due)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    print('sent %d errors %d late %d in %.1f s' % (stats['sent'], stats['errors'], late, time.time() - start))


async def sink(port, path, lmtp):
    out = open(path, 'a', buffering=1)

    async def session(r, w):
        w.write(b'220 sink.test ESMTP latency sink\r\n')
        rcpts = 0
        try:
            while True:
                line = await r.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb == b'DATA':
                    w.write(b'354 go ahead\r\n')
                    await w.drain()
                    stamp = None
                    while True:
                        l = await r.readline()
                        if not l or l == b'.\r\n':
                            break
                        if stamp is None and l.startswith(b'X-Bench-Sent: '):
                            stamp = float(l[14:])
                    arrived = time.time()
                    if stamp is not None:
                        out.write('%.3f\n' % ((arrived - stamp) * 1000))
                    w.write(b'250 2.0.0 Ok\r\n' * (rcpts if lmtp else 1))
                    rcpts = 0
                elif verb == b'QUIT':
                    w.write(b'221 bye\r\n')
                    await w.drain()
                    break
                elif verb in (b'EHLO', b'LHLO'):
                    w.write(b'250-sink.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n')
                elif verb == b'RCPT':
                    rcpts += 1
                    w.write(b'250 2.1.5 Ok\r\n')
                else:
                    if verb == b'RSET':
                        rcpts = 0
                    w.write(b'250 Ok\r\n')
                await w.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        w.close()

    server = await asyncio.start_server(session, '127.0.0.1', port, backlog=256)
    async with server:
        await server.serve_forever()


def stats(path, skip):
    v = sorted(float(l) for l in list(open(path))[skip:] if l.strip())
    if not v:
        print('n 0 p50 - p99 - max -')
        return
    q = lambda p: v[min(len(v) - 1, int(p * len(v)))]
    print('n %d p50 %.1f p99 %.1f max %.1f' % (len(v), q(0.50), q(0.99), v[-1]))


if __name__ == '__main__':
    a = sys.argv
    if a[1] == 'send':
        asyncio.run(send(int(a[2]), float(a[3]), float(a[4]), int(a[5]), int(a[6])))
    elif a[1] == 'sink':
        asyncio.run(sink(int(a[2]), a[3], len(a) > 4 and a[4] == 'lmtp'))
    elif a[1] == 'stats':
        stats(a[2], int(a[3]) if len(a) > 3 else 0)
