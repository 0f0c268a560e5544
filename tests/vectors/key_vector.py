"""Computes the committed SASS key test vector independently of the Rust code.

Run: python3 tests/vectors/key_vector.py > src/core/key_vector.txt
The Rust test `core::key::tests::test_vector` must produce the same key.

The claims are the JSON object below, written compactly with its members in
this order (the order of the Rust claims' wire struct; defaults left out).
`src/core/key_vector_sorted.txt` is a key of the first encoding (members sorted
by name, and a key id without the expiry), kept to show that such keys are
refused, with a reason, rather than misread.
"""
import base64, hashlib, hmac, json

secret = bytes(range(32))  # k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8
claims = {
    "project": "demo",
    "template": "SECU_3268740E1C82464B9BC350D868F966CB",
    # The id: the expiry as 4 big-endian bytes, then 12 random bytes.
    "key_id": (1795323661 + 1200).to_bytes(4, "big").hex() + "07" * 12,
    "issued_at": 1795323661,
    "expires_at": 1795323661 + 1200,
    "permissions": ["OBJECTS_LIST", "FILE_UPLOAD"],
    "upload": {"max": 10, "dir_scope": ["/uploads/*"]},
    "restrictions": {"whitelist_countries": ["FR"]},
}
b64 = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
payload = b64(json.dumps(claims, separators=(",", ":")).encode())
signed = f"SASS__v2__k1__{payload}"
print(f"{signed}__{b64(hmac.new(secret, signed.encode(), hashlib.sha256).digest())}")
