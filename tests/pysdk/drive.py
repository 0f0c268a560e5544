#!/usr/bin/env python3
"""Drives the real PyPI `filerobot` 0.0.25 SDK, unmodified, against a local server.

    python drive.py --base http://127.0.0.1:8787 --project demo --key SASS__...
    (or BASE=... PROJECT=... KEY=... python drive.py)

The SDK hard-codes `https://api.filerobot.com/{token}/...` in f-strings and sends
with `requests` (module-level requests.get/post/patch/delete, and one
requests.Session with its own retrying HTTPAdapter). The SDK's source is left as
installed. This script wraps `requests.adapters.HTTPAdapter.send`, the last
step before the socket: each request is built by requests exactly as it would
be for Filerobot (URL, query, headers, multipart body), then only its
scheme-and-host prefix is swapped for --base. A request to any other host is
refused, so nothing leaves the machine.

In order: check_and_set_filerobot_credentials, upload_file_multipart (a small
text file into --folder), list_files, inspect_file (the uploaded uuid),
rename_file, delete_file. Each call prints one JSON line: the call, its
arguments, what the SDK returned, and the HTTP exchanges it made. The first
failure prints a line with "ok": false, a message on stderr, and exits 1.

A failure is an exception from the SDK, or what the SDK itself returns as one
(upload_file_multipart returns a dict with "Error" instead of raising). Unless
--sdk-only is given, the driver also demands what a compatible server should
answer: 2xx on every exchange, no {"status": "error"}, rename_file -> 200, the
uploaded uuid in list_files' `files[].uuid` and in inspect_file's `file.uuid`.
"""
import argparse
import json
import os
import sys
import tempfile
import uuid as uuidlib
from urllib.parse import urlsplit

PREFIX = "https://api.filerobot.com/"


def install_rewrite(base, exchanges):
    """Send every request the SDK builds for PREFIX to `base` instead."""
    import requests.adapters

    original_send = requests.adapters.HTTPAdapter.send

    def send(self, request, *args, **kwargs):
        if not request.url.startswith(PREFIX):
            raise RuntimeError(f"drive.py: refusing a request outside {PREFIX}: {request.url}")
        request.url = base + "/" + request.url[len(PREFIX):]
        response = original_send(self, request, *args, **kwargs)
        split = urlsplit(request.url)
        exchanges.append({"method": request.method,
                          "target": split.path + ("?" + split.query if split.query else ""),
                          "status": response.status_code})
        return response

    requests.adapters.HTTPAdapter.send = send


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default=os.environ.get("BASE"),
                    help="server to send the SDK's requests to, e.g. http://127.0.0.1:8787 (env BASE)")
    ap.add_argument("--project", default=os.environ.get("PROJECT"), help="the SDK's filerobot_token (env PROJECT)")
    ap.add_argument("--key", default=os.environ.get("KEY"), help="the SDK's filerobot_key, a SASS key (env KEY)")
    ap.add_argument("--folder", default=os.environ.get("FOLDER", "pysdk"),
                    help="upload folder as the SDK takes it, without the leading slash it adds itself "
                         "(env FOLDER, default pysdk)")
    ap.add_argument("--meta", help="JSON object passed as upload_file_multipart(metadata=...)")
    ap.add_argument("--sdk-only", action="store_true",
                    help="fail only where the SDK itself fails; skip the driver's stricter checks")
    args = ap.parse_args()
    for name in ("base", "project", "key"):
        if not getattr(args, name):
            ap.error(f"--{name} (or env {name.upper()}) is required")
    base = args.base.rstrip("/")

    # The SDK's requests pick proxies from the environment for api.filerobot.com;
    # the rewritten request must go straight to --base.
    for var in list(os.environ):
        if var.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            del os.environ[var]

    exchanges = []
    install_rewrite(base, exchanges)
    import filerobot  # the real SDK, as installed from PyPI

    sdk = filerobot.Filerobot(args.project, args.key)
    strict = not args.sdk_only
    done = []

    def fail(call, message, **extra):
        print(json.dumps({"call": call, "ok": False, "error": message, **extra,
                          "http": list(exchanges)}, default=str), flush=True)
        print(f"drive.py: {call} failed: {message}", file=sys.stderr)
        print(f"drive.py: {len(done)} calls succeeded before it: {', '.join(done) or 'none'}", file=sys.stderr)
        sys.exit(1)

    def call(name, fn, *fargs, check=None, **fkwargs):
        exchanges.clear()
        shown = list(fargs) + [f"{k}={v!r}" for k, v in fkwargs.items()]
        try:
            result = fn(*fargs, **fkwargs)
        except Exception as e:  # noqa: BLE001 - every SDK failure is reported the same way
            fail(name, f"{type(e).__module__}.{type(e).__qualname__}: {e}", args=shown)
        if isinstance(result, dict) and "Error" in result:
            fail(name, f"the SDK returned an error: {result['Error']}", args=shown, result=result)
        if strict:
            problems = [f"HTTP {x['status']} for {x['method']} {x['target']}"
                        for x in exchanges if not 200 <= x["status"] < 300]
            if isinstance(result, dict) and result.get("status") == "error":
                problems.append(f"status error in the body: {result.get('code')} {result.get('msg')}")
            if check and not problems:
                try:
                    problems += check(result)
                except Exception as e:  # noqa: BLE001 - an answer of the wrong shape
                    problems.append(f"unexpected answer: {e!r}")
            if problems:
                fail(name, "; ".join(problems), args=shown, result=result)
        print(json.dumps({"call": name, "ok": True, "args": shown, "result": result,
                          "http": list(exchanges)}, default=str), flush=True)
        done.append(name)
        return result

    tag = uuidlib.uuid4().hex[:8]
    workdir = tempfile.mkdtemp(prefix="pysdk-")
    local = os.path.join(workdir, f"pysdk-{tag}.txt")
    with open(local, "w") as f:
        f.write(f"hello from the filerobot python sdk ({tag})\n")
    name = os.path.basename(local)
    renamed = f"pysdk-{tag}-renamed.txt"
    meta = json.loads(args.meta) if args.meta else None

    call("check_and_set_filerobot_credentials", sdk.check_and_set_filerobot_credentials)
    # name_file must be given: without it the SDK returns its "not uploaded" error
    # dict even on a 200. With it, the SDK reads file.uuid and PATCHes that name.
    up = call("upload_file_multipart", sdk.upload_file_multipart, local,
              upload_filerobot_folder=args.folder, name_file=name, metadata=meta,
              check=lambda r: [] if isinstance((r.get("file") or {}).get("uuid"), str)
              else ["no file.uuid in the answer"])
    uid = up["file"]["uuid"]  # the SDK itself read this key, so it is there
    call("list_files", sdk.list_files, args.folder,
         check=lambda r: [] if uid in [f.get("uuid") for f in (r.get("files") or [])]
         else [f"uploaded uuid {uid} not in files[].uuid"])
    call("inspect_file", sdk.inspect_file, uid,
         check=lambda r: [] if (r.get("file") or {}).get("uuid") == uid
         else [f"file.uuid is not {uid}"])
    call("rename_file", sdk.rename_file, uid, renamed,
         check=lambda r: [] if r == 200 else [f"rename_file returned {r}, not 200"])
    call("delete_file", sdk.delete_file, uid)
    os.remove(local)
    os.rmdir(workdir)
    print(f"drive.py: all {len(done)} calls succeeded", file=sys.stderr)


if __name__ == "__main__":
    main()
