#!/usr/bin/env python3
"""A throwaway stand-in for the Filerobot v4 API, for tests/pysdk only.

It serves the routes the PyPI `filerobot` 0.0.25 SDK calls and logs every
request it gets, as one JSON object a line: the method, the raw request target
(path and query exactly as sent), the query pairs, the headers with the casing
and order they arrived in, and the body (for multipart: each part's headers,
name, filename, content type, size and text; for JSON: the parsed body).

Profiles:
  full     Filerobot-like answers: {"status":"success","file":{...}}, "files":[...].
  minimal  the least each call of the SDK needs to succeed (see FINDINGS.md):
           empty 200 bodies where the SDK reads nothing, `{}` where it only
           calls response.json(), and {"file":{"uuid":...}} for the upload.

A key that is missing or equal to "wrong-key" gets 401 on every route.
`Mock.faults` (used by selftest.py) forces given answers on given routes.

Run alone: python3 mock_server.py [--port 8787] [--profile full|minimal] [--log FILE]
"""
import argparse
import email.parser
import json
import re
import sys
import threading
import uuid as uuidlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ROUTES = [
    ("GET", re.compile(r"^/([^/]+)/v4/meta/model/fields$"), "meta_fields"),
    ("POST", re.compile(r"^/([^/]+)/v4/upload$"), "upload"),
    ("GET", re.compile(r"^/([^/]+)/v4/files$"), "list"),
    ("GET", re.compile(r"^/([^/]+)/v4/files/([^/]+)$"), "inspect"),
    ("PATCH", re.compile(r"^/([^/]+)/v4/files/([^/]+)$"), "rename"),
    ("DELETE", re.compile(r"^/([^/]+)/v4/files/([^/]+)$"), "delete"),
]


def describe_body(content_type, body):
    """What a request body holds, in a form fit for a JSON log line."""
    if not body:
        return None
    if content_type.startswith("multipart/"):
        msg = email.parser.BytesParser().parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
        parts = []
        for part in msg.get_payload() if msg.is_multipart() else []:
            data = part.get_payload(decode=True) or b""
            parts.append({
                "headers": [[k, v] for k, v in part.items()],
                "name": part.get_param("name", header="content-disposition"),
                "filename": part.get_filename(),
                "content_type": part.get("Content-Type"),  # None when the part has none
                "size": len(data),
                "text": data.decode("utf-8", "replace")[:200],
            })
        return {"multipart": parts, "boundary": msg.get_boundary(),
                "well_formed": not msg.defects and body.rstrip(b"\r\n").endswith(b"--")}
    try:
        return {"json": json.loads(body), "raw": body.decode("utf-8", "replace")[:500]}
    except ValueError:
        return {"raw": body.decode("utf-8", "replace")[:500], "size": len(body)}


class Mock:
    def __init__(self, profile="full", log_file=None):
        self.profile = profile
        self.log_file = log_file
        self.log = []          # one dict per request, in arrival order
        self.faults = []       # dicts: method, path (regex), status, body, headers, times (absent: always)
        self.files = {}        # uuid -> file record
        self.lock = threading.Lock()

    # -- answers --------------------------------------------------------------

    def record(self, project, name, folder, size, mime):
        uid = str(uuidlib.uuid4())
        return {
            "uuid": uid, "name": name, "folder": folder, "type": mime,
            "size": {"bytes": size, "pretty": f"{size} B"},
            "url": {"cdn": f"https://{project}.example.invalid{folder.rstrip('/')}/{name}"},
            "meta": {}, "created_at": "2025-01-01 00:00:00", "updated_at": "2025-01-01 00:00:00",
        }

    def answer(self, route, groups, query, body):
        """(status, JSON-able body or bytes) for a routed request."""
        full = self.profile == "full"
        project = groups[0]
        if route == "meta_fields":
            return 200, ({"status": "success", "fields": []} if full else b"")
        if route == "upload":
            folder = "/" + query.get("folder", "").lstrip("/")
            made = []
            for part in (body or {}).get("multipart", []):
                if part["filename"] is not None:
                    made.append(self.record(project, part["filename"], folder, part["size"],
                                            part["content_type"] or "application/octet-stream"))
            for item in (body or {}).get("json", {}).get("files_urls", []):
                made.append(self.record(project, item.get("name") or item["url"].rsplit("/", 1)[-1],
                                        folder, 0, "application/octet-stream"))
            for part in (body or {}).get("multipart", []):
                m = re.fullmatch(r"meta\[(.*)\]", part["name"] or "")
                for rec in made:
                    if m and rec["name"] == m.group(1):
                        rec["meta"] = json.loads(part["text"] or "{}")
            if not made:
                return 400, {"status": "error", "code": "NO_FILE", "msg": "no file in the request"}
            for rec in made:
                self.files[rec["uuid"]] = rec
            if not full:
                return 200, {"file": {"uuid": made[0]["uuid"]}}
            return 200, {"status": "success", "file": made[0], "files": made}
        if route == "list":
            folder = "/" + query.get("folder", "").lstrip("/")
            files = [f for f in self.files.values() if f["folder"] == folder]
            return 200, ({"status": "success", "files": files,
                          "info": {"total_files_count": len(files)}} if full else {})
        rec = self.files.get(groups[1])
        if rec is None:
            return 404, {"status": "error", "code": "FILE_NOT_FOUND", "msg": "no such file"}
        if route == "inspect":
            return 200, ({"status": "success", "file": rec} if full else {})
        if route == "rename":
            name = ((body or {}).get("json") or {}).get("name")
            if not isinstance(name, str) or not name:
                return 400, {"status": "error", "code": "BAD_NAME", "msg": "name is required"}
            if any(f["name"] == name and f["folder"] == rec["folder"] and f is not rec
                   for f in self.files.values()):
                return 409, {"status": "error", "code": "NAME_EXISTS", "msg": "name exists"}
            rec["name"] = name
            return 200, ({"status": "success", "file": rec} if full else b"")
        if route == "delete":
            del self.files[rec["uuid"]]
            return 200, ({"status": "success", "msg": "File deleted"} if full else {})
        raise AssertionError(route)

    def handle(self, method, target, headers, body):
        split = urlsplit(target)
        query_pairs = parse_qsl(split.query, keep_blank_values=True)
        entry = {
            "method": method, "target": target, "path": split.path,
            "query": query_pairs, "headers": [[k, v] for k, v in headers.items()],
            "body": describe_body(headers.get("Content-Type", ""), body),
        }
        with self.lock:
            status, out, *extra = self.dispatch(method, split.path, dict(query_pairs), headers, entry["body"])
            entry["response"] = {"status": status, "body": out if not isinstance(out, bytes)
                                 else out.decode("utf-8", "replace")}
            self.log.append(entry)
            if self.log_file:
                self.log_file.write(json.dumps(entry) + "\n")
                self.log_file.flush()
        return status, out, (extra[0] if extra else {})

    def dispatch(self, method, path, query, headers, body):
        for fault in self.faults:
            if fault["method"] == method and re.search(fault["path"], path) and fault.get("times", 1) != 0:
                if fault.get("times") is not None:
                    fault["times"] -= 1
                return fault["status"], fault.get("body", b""), fault.get("headers", {})
        key = headers.get("X-Filerobot-Key")  # case-insensitive lookup
        for m, pattern, route in ROUTES:
            match = pattern.match(path)
            if match and m == method:
                if not key or key == "wrong-key":
                    return 401, {"status": "error", "code": "UNAUTHORIZED", "msg": "bad key"}
                return self.answer(route, match.groups(), query, body)
        return 404, {"status": "error", "code": "ROUTE_NOT_FOUND", "msg": f"{method} {path}"}


def make_server(mock, port=0):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, out, extra_headers = mock.handle(self.command, self.path, self.headers, body)
            data = out if isinstance(out, bytes) else json.dumps(out).encode()
            self.send_response(status)
            for k, v in extra_headers.items():
                self.send_header(k, v)
            if data and not isinstance(out, bytes):
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        def log_message(self, *args):
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8787)
    ap.add_argument("--profile", choices=["full", "minimal"], default="full")
    ap.add_argument("--log", help="file for the JSON-lines request log (default: stderr)")
    args = ap.parse_args()
    log = open(args.log, "a") if args.log else sys.stderr
    server = make_server(Mock(args.profile, log), args.port)
    print(f"mock Filerobot API ({args.profile}) on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
