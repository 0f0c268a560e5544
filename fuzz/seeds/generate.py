#!/usr/bin/env python3
"""Writes the committed seed corpus: fuzz/seeds/<target>/*.

Run from anywhere: python3 fuzz/seeds/generate.py. The seeds are plain
files (committed too); this script says where each one comes from, so that
they can be made again when an input format changes.

- key: the committed key vectors (src/core/key_vector.txt and
  key_vector_sorted.txt) and the claims of tests/vectors/key_vector.py.
- path_scope: requests from the README and the e2e tests, in the target's
  text form ("!" then lines: METHOD URL, upload scopes, listing scopes, move
  destination, Content-Length, stored files).
- template: the templates of the README, demo/template.json and the unit
  tests, each with a merge patch and attenuation requests (NUL-separated).
- Each finding of fuzz/README.md has a seed (finding-*), which guards
  against its return on every run.
- multipart: the bodies in captured/, recorded from real clients (headless
  Chromium 156: the Filerobot widget's XHR form, a fetch form and a plain
  HTML form post; curl 7.88; python-requests 2.34, as the Filerobot SDK
  uses it; node 20's fetch), and JSON upload bodies from the README.
"""
import base64
import hashlib
import hmac
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent


def write(target, name, data):
    d = HERE / target
    d.mkdir(exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def b64(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def issued_id(expires_at, n=7):
    """KeyId::issued: the expiry (at most 2**32 - 1) as 4 big-endian bytes,
    then 12 random bytes (here n, 12 times)."""
    return f"{min(expires_at, 2**32 - 1):08x}" + f"{n:02x}" * 12


def compact(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


# --- key ---------------------------------------------------------------------
vector = (REPO / "src/core/key_vector.txt").read_text().strip()
sorted_vector = (REPO / "src/core/key_vector_sorted.txt").read_text().strip()
claims = {
    "project": "demo",
    "template": "SECU_3268740E1C82464B9BC350D868F966CB",
    "key_id": issued_id(1795323661 + 1200),
    "issued_at": 1795323661,
    "expires_at": 1795323661 + 1200,
    "permissions": ["OBJECTS_LIST", "FILE_UPLOAD"],
    "upload": {"max": 10, "dir_scope": ["/uploads/*"]},
    "restrictions": {"whitelist_countries": ["FR"]},
}
full = {
    "project": "demo",
    "key_id": issued_id(1795324261, 1),
    "generation": 2,
    "issued_at": 1795323661,
    "expires_at": 1795324261,
    "lineage": [issued_id(1795324261, 9),
                {"key_id": issued_id(1795324261, 8), "upload_max": 40, "listing_max": 60}],
    "permissions": ["FILE_UPLOAD", "OBJECTS_LIST", "CONFIG_CHANGE"],
    "upload": {"limit_per_min": 10, "limit_per_source_ip": 5, "max": 20,
               "dir_scope": ["/up/*"], "max_file_size": 1000},
    "restrictions": {"whitelist_ip_ranges": ["10.0.0.0/8", "2001:db8::/32"],
                     "whitelist_countries": ["FR", "DE"]},
    "listing": {"dir_scope": ["/up/*", "/pub"], "max": 30},
    "allowed_origins": ["https://a.example"],
}
secret = bytes(range(32))
signed = f"SASS__v2__k1__{b64(compact(claims).encode())}"
assert f"{signed}__{b64(hmac.new(secret, signed.encode(), hashlib.sha256).digest())}" == vector

write("key", "vector-as-text", b"\x00" + vector.encode())
write("key", "vector-sorted-as-text", b"\x00" + sorted_vector.encode())
write("key", "vector-unedited", b"\x01")
write("key", "vector-last-char-replaced", b"\x01" + bytes([0x80, 0, ord("B")]))
write("key", "vector-claims-json", b"\x02" + compact(claims).encode())
write("key", "vector-claims-json-sorted", b"\x02" + json.dumps(claims, sort_keys=True, separators=(",", ":")).encode())
write("key", "full-claims-json", b"\x02" + compact(full).encode())
write("key", "unknown-claim-json", b"\x02" + compact({**claims, "x": 1}).encode())
write("key", "vector-payload-text", b"\x03" + b64(compact(claims).encode()).encode())
write("key", "padded-payload-text", b"\x03" + base64.urlsafe_b64encode(compact(full).encode()))
write("key", "full-claims-own-id", b"\x05" + compact({**full, "key_id": "00" * 16}).encode())
write("key", "id-without-expiry", b"\x02" + compact({**claims, "key_id": "07" * 16}).encode())
write("key", "old-version", b"\x00SASS__v1.05__abc__def")
write("key", "wrong-kid", b"\x00" + vector.replace("__k1__", "__k9__").encode())
# Finding F3 (fuzz/README.md): a far expiry and a counter (refused now: no
# key id carries it), and the farthest expiry a key id carries.
far = {"project": "demo", "key_id": issued_id(2**64 // 1000), "issued_at": 1795323661,
       "expires_at": 2**64 // 1000, "permissions": ["FILE_UPLOAD"], "upload": {"max": 1}}
write("key", "finding-f3-far-expiry", b"\x02" + compact(far).encode())
farthest = {**far, "key_id": issued_id(2**32 - 1), "expires_at": 2**32 - 1}
write("key", "finding-f3-farthest-expiry", b"\x02" + compact(farthest).encode())

# --- path_scope --------------------------------------------------------------
requests = {
    "put-object": "PUT /demo/v5/objects/uploads/photo%20one.jpg\n/uploads/*\n/*\n\n3000\n",
    "put-no-length": "PUT /demo/v5/objects/uploads/a.jpg\n/uploads/*\n/*\n\n\n",
    "upload-widget": "POST /demo/v4/files?folder=/uploads\n/uploads/*\n/*\n\n\n",
    "upload-sdk": "POST /demo/v4/upload?folder=/pysdk\n/pysdk/*\n/*\n\n\n",
    "upload-private": "POST /demo/v4/files?folder=/private\n/uploads/*\n/*\n\n\n",
    "files-recursive": "GET /demo/v5/files?folder=/uploads&recursive=1&sort=created_at:desc&limit=5&q=Cat\n"
                       "/uploads/*\n/uploads/* /pub\n\n\n/a.jpg\n/sub/b.jpg\n/sub/deeper/c.txt\n/sub/cat.png",
    "folders-root": "GET /demo/v5/folders?folder=%2F&recursive=true\n/*\n/up/* /pub\n\n\n/up/a/x\n/pub/y\n/private/z\n/upx/w",
    "stats-v4": "GET /demo/v4/files/stats?dir=/up\n/*\n/up/*\n\n\n",
    "list-object-api": "GET /demo/v5/list?folder=/up&cursor=abc&limit=10\n/*\n/up\n\n\n",
    "list-twice": "GET /demo/v5/list?folder=/up&dir=/x\n/*\n/*\n\n\n",
    "move": "POST /demo/v5/objects/up/a.txt/move\n/up/*\n/up/* /b\n/b/a.txt\n\n",
    "rename": "POST /demo/v5/objects/up/a.txt/move\n/up/*\n/up/*\n/up/b.txt\n\n",
    "set-meta": "PUT /demo/v5/objects/up/a.txt/meta\n/*\n/up/*\n\n\n",
    "fetch-encoded-dots": "GET /demo/v5/objects/up/%2e%2e/private/x\n/*\n/up/*\n\n\n",
    "fetch-double-encoded": "GET /demo/v5/objects/up/%252e%252e/x\n/*\n/up/*\n\n\n",
    "delete-encoded-slash": "DELETE /demo/v5/objects/up/a%2Fb\n/*\n/up/*\n\n\n",
    "head-semicolon": "HEAD /demo/v5/objects/up;x/a.txt\n/*\n/*\n\n\n",
    "fetch-sibling-prefix": "GET /demo/v5/objects/uploads2/a.txt\n/*\n/uploads/*\n\n\n",
    "fetch-unicode": "GET /demo/v5/objects/%C3%BCn%C3%AF/%F0%9F%90%88.png?x=1#frag\n/*\n/*\n\n\n",
    "fetch-backslash": "GET /demo/v5/objects/up/a%5Cb\n/*\n/*\n\n\n",
    "fetch-fullwidth-dots": "GET /demo/v5/objects/up/%EF%BC%8E%EF%BC%8E/x\n/*\n/up/*\n\n\n",
    "move-to-percent": "POST /demo/v5/objects/up/a.txt/move\n/up/*\n/up/*\n/up/100%25\n\n",
    "move-to-escape": "POST /demo/v5/objects/up/a.txt/move\n/up/*\n/up/*\n/up/%2e%2e/b\n\n",
    "put-too-long": "PUT /demo/v5/objects/" + "a" * 992 + "\n/*\n/*\n\n1\n",
    "list-limit-0": "GET /demo/v5/list?folder=/up&limit=0\n/*\n/*\n\n\n",
    # Finding F1 (fuzz/README.md): an upload of a file named meta or move.
    "finding-f1-upload-named-meta": "PUT /demo/v5/objects/up/%6Deta\n/up/*\n/*\n\n5\n",
    "finding-f1-upload-named-move": "PUT /demo/v5/objects/up/%6Dove\n/up/*\n/*\n\n5\n",
    # Finding F4 (fuzz/README.md): a character NFKC turns into a slash or ..
    "finding-f4-nfkc-slash": "PUT /demo/v5/objects/%E2%84%81/up/meta\n/*\n/*\n/\n\n",
    "finding-f4-nfkc-two-dots": "GET /demo/v5/objects/up/%EF%B8%B0/a.txt\n/*\n/up/*\n\n\n",
}
for name, text in requests.items():
    write("path_scope", name, "!" + text)

# --- template ----------------------------------------------------------------
doc_example = {
    "upload": {"limit_per_min": 5, "max": 6, "limit_per_source_ip": 12,
               "dir_scope": ["/hello", "/test/*"], "max_file_size": 1048576},
    "restrictions": {"whitelist_ip_ranges": ["80.12.95.227"], "whitelist_countries": ["FR"]},
    "key_validity": {"expire_duration": 600},
    "listing": {"dir_scope": ["/hello"], "max": 3},
    "permissions": ["FILE_UPLOAD"],
}
demo = json.loads((REPO / "demo/template.json").read_text())
for server_field in ["id", "created_at", "updated_at", "created_at_unix", "updated_at_unix",
                     "generation"]:
    demo.pop(server_field, None)
parent = {
    "permissions": ["FILE_UPLOAD", "OBJECTS_LIST", "CONFIG_CHANGE"],
    "upload": {"dir_scope": ["/up/*"], "limit_per_min": 10, "limit_per_source_ip": 5, "max": 20,
               "max_file_size": 1000},
    "restrictions": {"whitelist_ip_ranges": ["10.0.0.0/8"], "whitelist_countries": ["FR", "DE"]},
    "listing": {"dir_scope": ["/up/*"], "max": 30},
    "allowed_origins": ["https://a.example", "https://b.example"],
    "key_validity": {"expiration_duration": 600},
}
narrower = {
    "permissions": ["FILE_UPLOAD"],
    "upload": {"dir_scope": ["/up/a"], "max": 3, "limit_per_min": 1, "limit_per_source_ip": 1,
               "max_file_size": 10},
    "restrictions": {"whitelist_ip_ranges": ["10.1.0.0/16"], "whitelist_countries": ["FR"]},
    "listing": {"directory_scope": ["/up/a/*"], "max": 1},
    "key_validity": {"expire_duration": 60},
}
aliases = {
    "upload": {"limit_per_ip_source": 3},
    "key_validity": {"expiration_duration": 60},
    "listing": {"directory_scope": ["/a/*"]},
    "permissions": ["DIR_MOV"],
}


def template_seed(name, *docs):
    write("template", name, b"\x00" + b"\x00".join(compact(d).encode() for d in docs))


template_seed("doc-example", doc_example, {"active": False}, {"permissions": ["FILE_UPLOAD"]})
template_seed("demo", demo, {"upload": {"max": None}}, {"upload": {"dir_scope": ["/uploads/a"]}})
template_seed("attenuation-chain", parent, {"listing": {"directory_scope": ["/up/*"]}}, narrower,
              {"upload": {"max": 1}}, {})
template_seed("aliases", aliases, {"upload": {"limit_per_ip_source": None}}, {"key_validity": {"expire_duration": 30}})
template_seed("broader-requests", parent, {"description": "x" * 10},
              {"upload": {"dir_scope": ["/*"]}}, {"restrictions": {"whitelist_ip_ranges": None}})
template_seed("empty", {}, {}, {}, {})
template_seed("read-only-field", {"id": "SECU_00000000000000000000000000000000"})
template_seed("bad-scope", {"upload": {"dir_scope": ["/a/../b"]}})
template_seed("narrowing-patch", parent, {"upload": {"max": 5}, "key_validity": {"expiration_duration": 60}},
              {"upload": {"max": 1}})
template_seed("widening-patch", narrower, {"upload": {"max": None}, "permissions": ["FILE_UPLOAD", "OBJECTS_LIST"]})

# --- multipart -------------------------------------------------------------------
# [mode][chunk][max] content-type \n body. Mode 0: folder /up; mode 11: folder /.
# max indexes fuzz_targets/multipart.rs SIZES: 5 = 4096 bytes, 6 = 10 MiB, 1 = 3 bytes.
for path in sorted((HERE / "captured").glob("*.http")):
    raw = path.read_bytes()
    write("multipart", f"{path.stem}-up", bytes([0, 64, 6]) + raw)
    write("multipart", f"{path.stem}-root-chunk7", bytes([11, 7, 5]) + raw)
write("multipart", "widget-too-large", bytes([0, 255, 1]) + (HERE / "captured/widget.http").read_bytes())
json_uploads = {
    "base64": {"name": "a.png", "data": " aGVsbG8= ", "postactions": "decode_base64",
               "type": "image/png", "meta": {"k": 1}, "tags": {"lang": "en", "new_tags": ["cat"]}},
    "urls": {"files_urls": [{"url": "https://x.example/p/q.jpg"},
                            {"url": "https://y.example/r", "name": "n.jpg", "meta": {"a": 1}}], "dir": "/up"},
    "url-encoded-name": {"files_urls": [{"url": "https://h.example/p/cat%20one.jpg?x=1"}]},
}
for name, body in json_uploads.items():
    write("multipart", f"json-{name}", bytes([3, 6]) + compact(body).encode())
for name, ct in {
    "chrome": "multipart/form-data; boundary=----WebKitFormBoundaryD1SaAWRXaRNlHWTw",
    "quoted": 'multipart/form-data; boundary="a b;c"',
    "none": "multipart/form-data",
    "json": "application/json",
    # Finding F2 (fuzz/README.md): an empty boundary.
    "finding-f2-empty": "multipart/form-data; boundary=",
}.items():
    write("multipart", f"boundary-{name}", b"\x04" + ct.encode())
