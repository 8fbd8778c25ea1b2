#!/usr/bin/env python3
"""idle.py - idle SMTP sessions and a burst of greetings.

  idle.py hold PORT N SECONDS   opens N sessions (at most 500 connecting at once), reads each
      greeting, then holds them all silently until killed. After SECONDS at most for the
      opening it prints "held N greeted G failed F in T s" and flushes.
  idle.py greet PORT N [PREFIX] N clients connect at once; prints "greeted G of N in T s = R/s"
      (the time until the last greeting), each client then sends QUIT. With PREFIX (e.g.
      127.0.9) client i connects from PREFIX.(i+1), N distinct loopback addresses, so that
      the server looks up N different client names.
"""
import asyncio, sys, time


async def hold(port, n, seconds):
    conns, stats = [], {'greeted': 0, 'failed': 0}
    gate = asyncio.Semaphore(500)

    async def one():
        async with gate:
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', port), 10)
                conns.append(w)
                line = await asyncio.wait_for(r.readline(), 10)
                if line.startswith(b'220'):
                    stats['greeted'] += 1
                else:
                    stats['failed'] += 1
            except Exception:
                stats['failed'] += 1

    t0 = time.time()
    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await asyncio.wait(tasks, timeout=seconds)
    print('held %d greeted %d failed %d in %.1f s' % (len(conns), stats['greeted'], stats['failed'],
                                                      time.time() - t0), flush=True)
    await asyncio.sleep(1e9)


async def greet(port, n, prefix=None):
    ok = 0

    async def one(i):
        nonlocal ok
        try:
            src = ('%s.%d' % (prefix, i % 254 + 1), 0) if prefix else None
            r, w = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', port, local_addr=src), 30)
            line = await asyncio.wait_for(r.readline(), 30)
            if line.startswith(b'220'):
                ok += 1
            t = time.time()
            w.write(b'QUIT\r\n')
            await w.drain()
            w.close()
            return t
        except Exception:
            return None

    t0 = time.time()
    ends = [t for t in await asyncio.gather(*(one(i) for i in range(n))) if t]
    t = (max(ends) if ends else time.time()) - t0
    print('greeted %d of %d in %.3f s = %.0f/s' % (ok, n, t, ok / t if t > 0 else 0))


if __name__ == '__main__':
    a = sys.argv
    if a[1] == 'hold':
        asyncio.run(hold(int(a[2]), int(a[3]), float(a[4])))
    else:
        asyncio.run(greet(int(a[2]), int(a[3]), a[4] if len(a) > 4 else None))
