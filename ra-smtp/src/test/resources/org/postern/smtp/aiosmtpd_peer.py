# A receiving MTA for SmtpAiosmtpdInteropTest: aiosmtpd (a peer nobody here wrote) with
# STARTTLS required and AUTH PLAIN/LOGIN required; each message is written to OUTDIR with
# a .meta file telling whether the session was authenticated and encrypted.
# usage: python3 aiosmtpd_peer.py PORT CERT KEY OUTDIR USER PASSWORD
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, outdir, user, password = sys.argv[1:7]


class Store:
    async def handle_DATA(self, server, session, envelope):
        n = len([f for f in os.listdir(outdir) if f.endswith(".eml")])
        with open(os.path.join(outdir, "msg%d.eml" % n), "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(os.path.join(outdir, "msg%d.meta" % n), "w") as f:
            f.write("authenticated=%s tls=%s rcpt=%s\n" % (session.authenticated, session.ssl is not None,
                                                          ",".join(envelope.rcpt_tos)))
        return "250 2.0.0 Ok: queued as AIO%d" % n


def authenticate(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
            and auth_data.password.decode() == password:
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(Store(), hostname="127.0.0.1", port=int(port), server_hostname="mx.tls.test",
                        tls_context=context, require_starttls=True, authenticator=authenticate,
                        auth_required=True)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(1)
