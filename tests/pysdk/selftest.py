#!/usr/bin/env python3
"""Checks drive.py and the findings in FINDINGS.md against mock_server.py.

Each case starts a fresh mock on a free port, runs drive.py (and so the real
SDK) in a child process against it, and checks the driver's outcome and what
the mock received. Run it with the venv's python (run.sh does).

    python selftest.py [--dump FILE]   # --dump: the request log of the full run
"""
import json
import os
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mock_server import Mock, make_server  # noqa: E402

PROJECT, KEY = "demo", "SASS__selftest"
FILE_ID = r"/v4/files/[^/]+$"


def run(profile="full", faults=(), args=(), key=KEY, port=None):
    """Runs drive.py against a fresh mock: (exit code, JSON lines, stderr, mock)."""
    mock = Mock(profile)
    mock.faults = [dict(f) for f in faults]
    server = make_server(mock)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{port or server.server_port}"
        proc = subprocess.run(
            [sys.executable, os.path.join(HERE, "drive.py"), "--base", base,
             "--project", PROJECT, "--key", key, *args],
            capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    return proc.returncode, lines, proc.stderr, mock


def failed_at(lines, call, error_part):
    last = lines[-1]
    assert last["call"] == call and not last["ok"], f"expected {call} to fail, got {last}"
    assert error_part in last["error"], f"{error_part!r} not in {last['error']!r}"


def header_names(entry):
    return [k for k, _ in entry["headers"]]


def case_full():
    meta = {"title": "hello"}
    rc, lines, err, mock = run(args=["--meta", json.dumps(meta)])
    assert rc == 0, err
    assert [x["call"] for x in lines] == [
        "check_and_set_filerobot_credentials", "upload_file_multipart", "list_files",
        "inspect_file", "rename_file", "delete_file"]
    log = mock.log
    assert [(e["method"], e["path"].split("/v4/")[1].split("/")[0]) for e in log] == [
        ("GET", "meta"), ("POST", "upload"), ("PATCH", "files"), ("GET", "files"),
        ("GET", "files"), ("PATCH", "files"), ("DELETE", "files")], [e["target"] for e in log]
    for e in log:
        assert e["path"].startswith(f"/{PROJECT}/v4/"), e["target"]
        # the exact header name on the wire, and no other key header
        assert [v for k, v in e["headers"] if k == "X-filerobot-Key"] == [KEY], e["headers"]
        assert sum(k.lower() == "x-filerobot-key" for k in header_names(e)) == 1
        ctype = dict(e["headers"]).get("Content-Type", "")
        if e["method"] == "POST":
            assert ctype.startswith("multipart/form-data; boundary="), ctype
        else:
            assert ctype == "application/json", (e["method"], ctype)
    get_meta, upload, patch1, listing, inspect, patch2, delete = log
    assert get_meta["target"] == f"/{PROJECT}/v4/meta/model/fields" and get_meta["body"] is None
    assert upload["target"] == f"/{PROJECT}/v4/upload?folder=/pysdk"
    name = lines[1]["result"]["file"]["name"]
    parts = upload["body"]["multipart"]
    assert upload["body"]["well_formed"]
    assert [(p["name"], p["filename"], p["content_type"]) for p in parts] == [
        (name, name, None), (f"meta[{name}]", None, None)], parts
    assert parts[0]["text"].startswith("hello from the filerobot python sdk")
    assert parts[1]["text"] == json.dumps(meta)
    assert patch1["body"]["json"] == {"name": name}  # upload renames to name_file
    assert listing["target"] == (f"/{PROJECT}/v4/files?folder=/pysdk"
                                 "&recursive=0&limit=1000&offset=0&order=updated_at,asc")
    uid = lines[1]["result"]["file"]["uuid"]
    assert inspect["target"] == f"/{PROJECT}/v4/files/{uid}" and inspect["body"] is None
    assert patch2["body"]["raw"] == json.dumps({"name": f"{name[:-4]}-renamed.txt"})
    assert delete["body"] is None and dict(delete["headers"])["Content-Length"] == "0"
    return mock.log


def case_no_meta():
    rc, lines, err, mock = run()
    assert rc == 0, err
    assert [p["name"] for p in mock.log[1]["body"]["multipart"]] == [lines[1]["result"]["file"]["name"]]


def case_minimal_answers_satisfy_sdk():
    rc, lines, err, mock = run("minimal", args=["--sdk-only"])
    assert rc == 0, err
    assert lines[1]["result"] == {"file": {"uuid": lines[3]["args"][0]}}


def case_minimal_answers_fail_driver_checks():
    rc, lines, err, _ = run("minimal")
    assert rc == 1
    failed_at(lines, "list_files", "not in files[].uuid")


def case_wrong_key():
    rc, lines, err, mock = run(key="wrong-key")
    assert rc == 1
    failed_at(lines, "check_and_set_filerobot_credentials", "filerobot.WrongCredentialsError")
    assert len(mock.log) == 1  # no retry on an HTTP error status


def case_credentials_retry_429_with_retry_after():
    # Only this call's own adapter retries: Retry(connect=3) keeps urllib3's
    # total=10 and honours Retry-After on 413/429/503 (GET is retryable).
    fault = {"method": "GET", "path": "/meta/model/fields$", "status": 429,
             "headers": {"Retry-After": "1"}, "body": {}, "times": 2}
    rc, lines, err, mock = run(faults=[fault])
    assert rc == 0, err
    assert [e["response"]["status"] for e in mock.log[:3]] == [429, 429, 200]
    assert lines[0]["http"] == [{"method": "GET", "target": f"/{PROJECT}/v4/meta/model/fields",
                                 "status": 200}]  # one send() from requests' point of view
    fault = {"method": "GET", "path": "/v4/files$", "status": 429,
             "headers": {"Retry-After": "1"}, "body": {}, "times": 1}
    rc, lines, err, mock = run(faults=[fault], args=["--sdk-only"])
    assert rc == 0 and lines[2]["http"][0]["status"] == 429  # other calls: no retry


def case_credentials_need_exactly_200():
    rc, lines, _, _ = run(faults=[{"method": "GET", "path": "/meta/model/fields$", "status": 204}])
    failed_at(lines, "check_and_set_filerobot_credentials", "WrongCredentialsError")


def case_upload_201_is_a_failure():
    rc, lines, _, _ = run(faults=[{"method": "POST", "path": "/upload$", "status": 201,
                                   "body": {"status": "success", "file": {"uuid": "x"}}}])
    failed_at(lines, "upload_file_multipart", "The requested file not uploaded!")
    assert lines[-1]["result"]["response"] == {"status": "success", "file": {"uuid": "x"}}


def case_upload_reads_file_not_files():
    rc, lines, _, _ = run(faults=[{"method": "POST", "path": "/upload$", "status": 200,
                                   "body": {"status": "success", "files": [{"uuid": "x"}]}}])
    failed_at(lines, "upload_file_multipart", "builtins.KeyError: 'file'")


def case_rename_in_upload_retries_until_200():
    rc, lines, _, _ = run(faults=[{"method": "PATCH", "path": FILE_ID, "status": 204}])
    up = lines[1]
    assert up["ok"] and [x["method"] for x in up["http"]] == ["POST"] + ["PATCH"] * 4, up["http"]
    failed_at(lines, "rename_file", "rename_file returned 204, not 200")


def case_rename_409_in_upload_raises():
    rc, lines, _, _ = run(faults=[{"method": "PATCH", "path": FILE_ID, "status": 409}])
    failed_at(lines, "upload_file_multipart", "filerobot.FileNameExistError")


def case_list_404():
    rc, lines, _, _ = run(faults=[{"method": "GET", "path": "/v4/files$", "status": 404, "body": {}}])
    failed_at(lines, "list_files", "filerobot.FolderNotFoundError")


def case_list_error_body_is_returned_by_sdk():
    fault = {"method": "GET", "path": "/v4/files$", "status": 403,
             "body": {"status": "error", "code": "FORBIDDEN", "msg": "no"}}
    rc, lines, err, _ = run(faults=[fault], args=["--sdk-only"])
    assert rc == 0, err  # the SDK hands the error body back as the result
    assert lines[2]["result"]["code"] == "FORBIDDEN"
    rc, lines, _, _ = run(faults=[fault])
    failed_at(lines, "list_files", "HTTP 403")


def case_inspect_404():
    rc, lines, _, _ = run(faults=[{"method": "GET", "path": FILE_ID, "status": 404, "body": {}}])
    failed_at(lines, "inspect_file", "filerobot.FileNotFoundError")


def case_delete_needs_a_json_body():
    rc, lines, _, _ = run(faults=[{"method": "DELETE", "path": FILE_ID, "status": 204}])
    failed_at(lines, "delete_file", "JSONDecodeError")


def case_connection_refused():
    rc, lines, _, _ = run(port=1)
    failed_at(lines, "check_and_set_filerobot_credentials", "requests.exceptions.ConnectionError")


def main():
    dump = sys.argv[sys.argv.index("--dump") + 1] if "--dump" in sys.argv else None
    cases = [(n[5:], f) for n, f in globals().items() if n.startswith("case_")]
    passed = failed = 0
    for name, fn in cases:
        try:
            out = fn()
            if dump and name == "full":
                with open(dump, "w") as f:
                    f.writelines(json.dumps(e) + "\n" for e in out)
            passed += 1
            print(f"ok   {name}", flush=True)
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
    print(f"pysdk: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
