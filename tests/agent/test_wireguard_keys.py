"""WireGuard keys: X25519 against RFC 7748's vectors, the reference
document's key pairs and, where installed, ``wg pubkey`` itself."""

import base64
import shutil
import subprocess

import pytest

from winbox_agent import wgkeys

# RFC 7748 section 5.2: (scalar, u-coordinate, output)
RFC_VECTORS = [
    ("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
     "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
    ("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
     "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"),
]

# document 004, WireGuard site to site and RoadWarrior: private -> public
DOC_PAIRS = [
    ("yKt9NJ4e5qlaSgh48WnPCDCEkDmq+VsBTt/DDEBWfEo=", "u7gYAg5tkioJDcm3hyS7pm79eADKPs/ZUGON6/fF3iI="),
    ("KMwxqe/iXAU8Jn9dd1o5pPdHep2blGxNWm9I944/I24=", "v/oIzPyFm1FPHrqhytZgsKjU7mUToQHLrW+Tb5e601M="),
    ("cBPD6JNvbEQr73gJ7NmwepSrSPK3np381AWGvBk/QkU=", "VmGMh+cwPdb8//NOhuf1i1VIThypkMQrKAO9Y55ghG8="),
]


@pytest.mark.parametrize("scalar,u,out", RFC_VECTORS)
def test_rfc7748_function_vectors(scalar, u, out):
    assert wgkeys.x25519(bytes.fromhex(scalar), bytes.fromhex(u)).hex() == out


def test_rfc7748_iterated_thousand_times():
    k = u = wgkeys.BASE_POINT
    for n in range(1, 1001):
        k, u = wgkeys.x25519(k, u), k
        if n == 1:
            assert k.hex() == "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"
    assert k.hex() == "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"


def test_rfc7748_diffie_hellman():
    alice = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    bob = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    alice_pub = wgkeys.x25519(alice, wgkeys.BASE_POINT)
    bob_pub = wgkeys.x25519(bob, wgkeys.BASE_POINT)
    assert alice_pub.hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    assert bob_pub.hex() == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    assert wgkeys.x25519(alice, bob_pub).hex() == shared
    assert wgkeys.x25519(bob, alice_pub).hex() == shared


@pytest.mark.parametrize("private,public", DOC_PAIRS)
def test_document_key_pairs_are_real(private, public):
    assert wgkeys.public_key(private) == public


def test_generated_key_is_clamped_and_different_each_time():
    a, b = wgkeys.generate_private(), wgkeys.generate_private()
    assert a != b
    raw = base64.b64decode(a)
    assert len(raw) == 32 and raw[0] & 7 == 0 and raw[31] & 0x80 == 0 and raw[31] & 0x40
    assert len(base64.b64decode(wgkeys.generate_preshared())) == 32


def test_bad_key_is_refused():
    with pytest.raises(ValueError):
        wgkeys.public_key("not-a-key")
    with pytest.raises(ValueError):
        wgkeys.public_key(base64.b64encode(b"x" * 31).decode())
    assert wgkeys.decode_key("AAAA") is None


def test_agrees_with_wg_pubkey():
    wg = shutil.which("wg")
    if wg is None:
        pytest.skip("wireguard-tools is not installed (apt-get install wireguard-tools)")
    for _ in range(5):
        private = subprocess.run([wg, "genkey"], capture_output=True, text=True, check=True).stdout.strip()
        expected = subprocess.run([wg, "pubkey"], input=private + "\n", capture_output=True, text=True,
                                  check=True).stdout.strip()
        assert wgkeys.public_key(private) == expected
    mine = wgkeys.generate_private()
    expected = subprocess.run([wg, "pubkey"], input=mine + "\n", capture_output=True, text=True,
                              check=True).stdout.strip()
    assert wgkeys.public_key(mine) == expected
