"""What the OpenAPI document says in words but JSON Schema cannot express.

schemathesis generates "positive" cases from the document's schemas and
fails the run if the worker refuses one of them. A few rules of the API span
more than one value, or count bytes where JSON Schema counts characters; the
document states them in its descriptions (and the README), and `filter_case`
leaves out the generated cases that break them, so that a positive case is
one the README calls valid:

- A whole number is written without a fraction (5, not 5.0): JSON Schema's
  `integer` takes 5.0 too, and the worker refuses it (as the README says).
- A path is at most 992 bytes (UTF-8), a scope's directory too, and a file
  name at most 255 bytes; an upload's folder and file name together make a
  path (the document's `maxLength`s count characters).
- A file's meta is at most 2 KiB as JSON (`PUT …/meta` calls).
- An IP range has no host bits set (10.0.0.0/8, not 10.1.2.3/8), and an
  IPv4-mapped range is /96 or longer.
- An upload holds at most 100 tags in all languages together.
- An upload to a path that holds a file replaces that file, and its id goes
  with it: a later call by that id is 404. schemathesis's
  ensure_resource_availability check knows only DELETE as a way for a created
  resource to go away, so each positive upload goes into a folder of its own
  (the generated folder, below `/st<n>`), where no other generated call
  replaces what it stored.
- An upload by URL fetches its URLs, and stores each file under its name
  (given, or the URL's last segment), which must differ: its positive cases
  fetch from the run's own file server (ST_FILES_URL, started by run.mjs)
  instead of the hosts generated at random, which do not exist.

`filter_case` never leaves out a case that the document's own limits already
make invalid, and `map_case` changes only positive uploads (their folder and
URLs, both still valid). Nothing here touches a response or a check: every
check runs on every case that is sent.
"""
import ipaddress
import itertools
import json
import os
from urllib.parse import unquote

import schemathesis

MAX_PATH = 992
MAX_NAME = 255
MAX_META = 2048
MAX_TAGS = 100
FILES_URL = os.environ.get("ST_FILES_URL", "")
# A template that only the bulk activation names (run.mjs): nothing deletes it.
TEMPLATE = os.environ.get("ST_BULK_TEMPLATE", "")
# The folder each positive upload goes below: /st<n>, n counting.
_UPLOADS = itertools.count()
_UPLOAD_PREFIX_BYTES = len("/st") + 12


def _positive(case):
    """Whether `case` is generated as valid; a case not yet marked is taken as one."""
    meta = case.meta
    return meta is None or meta.generation.mode.is_positive


def _bytes(text):
    return len(text.encode("utf-8", "surrogatepass"))


def _path_fits(path):
    return _bytes(path) <= MAX_PATH


def _name_fits(name):
    return _bytes(name) <= MAX_NAME


def _in_folder(folder, name):
    """Whether `name` fits in `folder`, once the folder is below /st<n>."""
    folder = "" if folder in (None, "", "/") else folder
    return _bytes(folder + "/" + name) + _UPLOAD_PREFIX_BYTES <= MAX_PATH and _name_fits(name)


def _meta_fits(meta):
    # As the worker writes it: compact, non-ASCII as is.
    return _bytes(json.dumps(meta, ensure_ascii=False, separators=(",", ":"))) <= MAX_META


def _tags_fit(tags):
    """At most 100 tags in all languages (the document bounds each list)."""
    if not isinstance(tags, dict):
        return True
    lists = [v for v in tags.values() if isinstance(v, list)]
    if any(len(v) > MAX_TAGS for v in lists):
        return True
    return sum(len(v) for v in lists) <= MAX_TAGS


def _scopes_fit(body):
    """Every dir_scope entry of a template or key request: its directory fits."""
    if not isinstance(body, dict):
        return True
    for holder in (body, body.get("data")):
        if not isinstance(holder, dict):
            continue
        for part, names in (("upload", ("dir_scope",)), ("listing", ("dir_scope", "directory_scope"))):
            fields = holder.get(part)
            if not isinstance(fields, dict):
                continue
            for name in names:
                scopes = fields.get(name)
                for scope in scopes if isinstance(scopes, list) else []:
                    if isinstance(scope, str) and len(scope) <= MAX_PATH + 2 \
                            and not _path_fits(scope.removesuffix("/*") or "/"):
                        return False
    return True


def _range_as_meant(text):
    """An IP range without host bits (core::restriction::IpRange)."""
    addr, _, prefix = text.partition("/")
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return True  # not an address the document allows: not this rule's to judge
    if not prefix:
        return True
    if not prefix.isdigit():
        return True
    length = int(prefix)
    if length > ip.max_prefixlen:
        return True
    if int(ip) & ((1 << (ip.max_prefixlen - length)) - 1):
        return False
    return not (ip.version == 6 and ip.ipv4_mapped is not None and length < 96)


def _ranges_as_meant(body):
    """Every whitelist_ip_ranges entry of a template or key request."""
    if not isinstance(body, dict):
        return True
    for holder in (body, body.get("data")):
        restrictions = holder.get("restrictions") if isinstance(holder, dict) else None
        ranges = restrictions.get("whitelist_ip_ranges") if isinstance(restrictions, dict) else None
        if isinstance(ranges, list) and not all(_range_as_meant(r) for r in ranges if isinstance(r, str)):
            return False
    return True


def _url_name(url):
    rest = url.split("://", 1)[-1]
    path = rest.split("?", 1)[0].split("#", 1)[0]
    return unquote(path.rsplit("/", 1)[-1]) if "/" in path else ""


def _file_url(i, url):
    """Where the i-th URL of a positive upload by URL fetches from (see map_case)."""
    return f"{FILES_URL}/f/{i}/file{i}.txt" if FILES_URL else url


def _upload_names(case):
    """The names an upload stores its files under."""
    body = case.body
    if not isinstance(body, dict):
        return []
    if isinstance(body.get("files_urls"), list):
        return [e.get("name") if isinstance(e.get("name"), str) else _url_name(_file_url(i, str(e.get("url", ""))))
                for i, e in enumerate(body["files_urls"]) if isinstance(e, dict)]
    if "files[]" in body:
        info = body.get("info[files[]]")
        given = info.get("name") if isinstance(info, dict) else None
        return [given if isinstance(given, str) else "files[]"]
    if isinstance(body.get("name"), str):
        return [body["name"]]
    return []


def _has_whole_float(value):
    """Whether `value` holds a whole number written as a float (5.0)."""
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, dict):
        return any(_has_whole_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_whole_float(v) for v in value)
    return False


# The operations whose bodies hold no number but whole ones (templates, key
# requests): a float there is a whole number written with a fraction.
WHOLE_NUMBER_BODIES = {
    ("POST", "/{project}/v5/security-templates"),
    ("PATCH", "/{project}/v5/security-templates/{id}"),
    ("POST", "/{project}/key"),
    ("POST", "/{project}/v5/key"),
}


def _is_bulk_template_patch(case):
    return case.method.upper() == "PATCH" and case.operation.path == "/{project}/v5/security-templates"


def _is_upload(case):
    return case.method.upper() == "POST" and case.operation.path in ("/{project}/v4/files", "/{project}/v4/upload")


@schemathesis.hook
def filter_case(context, case):
    """Leaves out the cases that break a rule JSON Schema cannot express.

    Whatever the case's mode: a case generated as invalid may become valid
    later (in stateful testing, a link replaces its one invalid value), and
    then it must be valid by these rules too. A value the document's own
    limits already refuse (say, more characters than its maxLength) is never
    left out, so that no invalid case is lost to these rules.
    """
    positive = _positive(case)
    path = (case.path_parameters or {}).get("path")
    if isinstance(path, str) and len(path) < MAX_PATH and not _path_fits("/" + path):
        return False
    folder = (case.query or {}).get("folder")
    if isinstance(folder, str) and len(folder) <= MAX_PATH and not _path_fits(folder or "/"):
        return False
    body = case.body
    if (case.method.upper(), case.operation.path) in WHOLE_NUMBER_BODIES and _has_whole_float(body):
        return False
    if isinstance(body, dict):
        to = body.get("to")
        if isinstance(to, str) and len(to) <= MAX_PATH and not _path_fits(to):
            return False
        name = body.get("name")
        if isinstance(name, str) and len(name) <= MAX_NAME and not _name_fits(name):
            return False
        if not _scopes_fit(body) or not _ranges_as_meant(body):
            return False
        if case.operation.path.endswith("/meta") and not _meta_fits(body.get("meta", body)):
            return False
        if not _tags_fit(body.get("tags")) or not _tags_fit(body.get("tags[files[]]")):
            return False
    if _is_upload(case):
        names = [n for n in _upload_names(case) if isinstance(n, str)]
        if len(set(names)) != len(names):
            return False
        if positive and not all(_in_folder(folder, n) for n in names if len(n) <= MAX_NAME):
            return False
    return True


@schemathesis.hook
def map_case(context, case):
    """A positive upload goes into a folder of its own, and by URL it fetches
    from the run's file server. A positive bulk activation names a template
    of the run's first (ST_BULK_TEMPLATE), so that it reaches one that
    exists: its ids are in the body, where neither links nor dictionaries
    reach."""
    if _positive(case) and _is_bulk_template_patch(case) and TEMPLATE and isinstance(case.body, dict) \
            and isinstance(case.body.get("ids"), list) and case.body["ids"]:
        ids = [i for i in case.body["ids"] if i != TEMPLATE]
        case.body["ids"] = [TEMPLATE] + ids[: max(len(case.body["ids"]) - 1, 0)]
        return case
    if not (_positive(case) and _is_upload(case)):
        return case
    query = dict(case.query or {})
    folder = query.get("folder")
    folder = "" if folder in (None, "", "/") or not isinstance(folder, str) else folder
    query["folder"] = f"/st{next(_UPLOADS)}{folder}"
    case.query = query
    if FILES_URL and isinstance(case.body, dict) and isinstance(case.body.get("files_urls"), list):
        for i, entry in enumerate(case.body["files_urls"]):
            if isinstance(entry, dict):
                entry["url"] = _file_url(i, entry.get("url", ""))
    return case
