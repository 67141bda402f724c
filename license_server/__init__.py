"""winbox-license-server: the account server ``/system license renew`` talks to.

It keeps accounts (salted, hashed passwords), registers a router's system ID
to an account on its first renewal with a 60-day trial of the level asked
for, and answers every renewal with a license key it signs with its Ed25519
key.  The routers check that signature with the public key they are given
(``license-server-key``).  See docs/license.md.
"""

__version__ = "0.1.0"
