"""An independent check of LeetChat's Web Push (server/tests/api/push.rs).

Decrypts a push body with http_ece (RFC 8188/8291, aes128gcm) and verifies
its VAPID header (RFC 8292) with `cryptography`: nothing here shares code
with the Rust crates that made them. Input: a JSON file with body,
privateKey, auth (base64url), authorization (the header) and audience.
Prints JSON {plaintext, claims, publicKey}; exits non-zero on any mismatch.
"""

import base64
import json
import sys
import time

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        given = json.load(f)

    # RFC 8291: the receiver's ECDH key and auth secret decrypt the body.
    private = ec.derive_private_key(int.from_bytes(b64(given["privateKey"]), "big"), ec.SECP256R1())
    plaintext = http_ece.decrypt(
        b64(given["body"]),
        private_key=private,
        auth_secret=b64(given["auth"]),
        version="aes128gcm",
    )

    # RFC 8292: "vapid t=<JWT>, k=<public key>", the JWT signed with ES256.
    header = given["authorization"]
    if not header.startswith("vapid "):
        sys.exit(f"not a vapid Authorization header: {header!r}")
    params = dict(p.strip().split("=", 1) for p in header[len("vapid ") :].split(","))
    token, key = params["t"], params["k"]
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64(key))
    head_b64, claims_b64, sig_b64 = token.split(".")
    head = json.loads(b64(head_b64))
    if head.get("alg") != "ES256":
        sys.exit(f"the JWT is not ES256: {head}")
    sig = b64(sig_b64)
    if len(sig) != 64:
        sys.exit(f"an ES256 JWT signature is 64 bytes, got {len(sig)}")
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        public.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        sys.exit("the VAPID signature does not verify with k")
    claims = json.loads(b64(claims_b64))
    if claims.get("aud") != given["audience"]:
        sys.exit(f"aud {claims.get('aud')!r} is not the push service's origin {given['audience']!r}")
    now = time.time()
    if not now < claims["exp"] <= now + 24 * 3600:
        sys.exit(f"exp {claims['exp']} is not within 24 h from now")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        sys.exit(f"sub {claims.get('sub')!r} is neither mailto: nor https:")

    json.dump({"plaintext": plaintext.decode("utf-8"), "claims": claims, "publicKey": key}, sys.stdout)


if __name__ == "__main__":
    main()
