# A receiving MTA for SmtpQuirksInteropTest: aiosmtpd with the greeting the test asks for
# ("pix": nothing but asterisks, as a Cisco PIX mailguard shows it; "plain": a normal one).
# For each message it writes one line to OUT: the greeting command used (HELO or EHLO), the
# MAIL FROM parameters, and the seconds between the last RCPT and the end of DATA.
# Usage: aiosmtpd_quirks.py PORT pix|plain OUT
import asyncio, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

port, mode, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        session.last_rcpt = time.monotonic()
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        took = time.monotonic() - session.last_rcpt
        with open(out, "a") as f:
            f.write("%s %s %.2f\n" % ("EHLO" if session.extended_smtp else "HELO",
                                     ",".join(envelope.mail_options) or "-", took))
        return "250 2.0.0 Ok: queued"

class QuirkySMTP(SMTP):
    def __init__(self, handler, **kw):
        if mode == "pix":
            kw["hostname"] = "********"
            kw["ident"] = "****"
        super().__init__(handler, **kw)

class QuirkyController(Controller):
    def factory(self):
        return QuirkySMTP(self.handler, **self.SMTP_kwargs)

c = QuirkyController(Handler(), hostname="127.0.0.1", port=port)
c.start()
print("ready", flush=True)
try:
    asyncio.get_event_loop().run_forever() if False else time.sleep(3600)
finally:
    c.stop()
