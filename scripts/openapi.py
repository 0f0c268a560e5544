#!/usr/bin/env python3
"""Writes public/openapi.json, the OpenAPI 3.1 description of sass-edge's API.

    python3 scripts/openapi.py          # writes public/openapi.json
    python3 scripts/openapi.py --check  # fails if public/openapi.json differs

The document is built here rather than edited by hand: its schemas are shared
by many operations, and a unit test (core::route) checks its paths against the
router's table. Examples are taken from the end-to-end tests.
"""
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "public" / "openapi.json"

PERMISSIONS = [
    "OBJECTS_LIST", "OBJECTS_FETCH", "FILE_UPLOAD", "FILE_META_CREATE", "FILE_META_CHANGE",
    "FILE_RENAME", "FILE_MOVE", "FILE_DELETE", "FILE_SET_VISIBILITY", "DIR_CREATE", "DIR_RENAME",
    "DIR_MOVE", "DIR_META_CHANGE", "DIR_DELETE", "DIR_SET_VISIBILITY", "CONFIG_CHANGE", "CONFIG_LIST",
    "FILE_PRODUCT_CHANGE", "FILE_PROCESS_AUTOTAGGING", "OBJECTS_SHARE_MANAGE", "OBJECTS_AIRBOX_MANAGE",
    "OBJECTS_APPROVAL_MANAGE", "OBJECTS_APPROVAL_VOTE",
]
API_PERMISSIONS = PERMISSIONS + ["ACCESS_READ", "ACCESS_MANAGE"]
KEY_ID = "^[0-9a-f]{32}$"
UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TEMPLATE_ID = "^SECU_[0-9A-F]{32}$"
PROJECT = "^[a-z0-9]{1,32}$"
SCOPE = ("An absolute normalised directory (no ., .. or empty segment, no trailing slash; at most 992 bytes), optionally "
         "ending in /*: /a allows exactly /a, /a/* allows /a and below.")

# Paths, as core::path reads them: segments never empty, `.` or `..`, of any
# character but `/`, `\`, `;`, control characters (Unicode Cc) and those that
# NFKC normalisation turns into `.`, `/`, `\`, `;` or `%`, and without a `%`
# followed by two hex digits. A path is at most 992 bytes (UTF-8) and a file
# name 255 bytes; the document's maxLength can only count characters, so the
# descriptions say it in bytes.
_CTRL = r"\x00-\x1f\x7f-\x9f"
_NFKC = "\uFF0E\uFE52\u2024\u2025\u2026\uFF0F\uFF3C\uFE68\uFF1B\uFE54\uFF05\uFE6A"


def _segment(extra="", percent=True):
    """A path segment; `extra` are further characters it may not hold, and
    `percent=False` refuses every `%` (a move's `to`)."""
    plain = rf"/\\;%{extra}{_CTRL}{_NFKC}"
    escape = r"|%(?![0-9A-Fa-f]{2})" if percent else ""
    any_char = rf"(?:[^{plain}]{escape})"
    not_dot = rf"(?:[^.{plain}]{escape})"
    return rf"(?:{not_dot}{any_char}*|\.{not_dot}{any_char}*|\.\.{any_char}+)"


SEGMENT = _segment()
FILE_PATH = rf"^(?:/{SEGMENT})+$"
MOVE_TO = rf"^(?:/{_segment(percent=False)})+$"
DIRECTORY = rf"^/$|^(?:/{SEGMENT})+$"
BELOW_ROOT = rf"^{SEGMENT}(?:/{SEGMENT})*$"
FILE_NAME = rf"^{SEGMENT}$"
# A scope: a directory whose segments hold no `*`, then optionally `/*`.
SCOPE_PATTERN = rf"^/\*?$|^(?:/{_segment('*')})+(?:/\*)?$"

# IP addresses and ranges as Rust's std parsers read them (core::restriction):
# IPv4 octets without leading zeros; IPv6 with `::` for one or more groups
# and an optional IPv4 tail; a prefix of digits (leading zeros allowed).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_H16 = r"[0-9A-Fa-f]{1,4}"
_LS32 = rf"(?:{_H16}:{_H16}|{IPV4})"
IPV6 = "(?:" + "|".join([
    rf"(?:{_H16}:){{6}}{_LS32}",
    rf"::(?:{_H16}:){{5}}{_LS32}",
    rf"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
    rf"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
    rf"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
    rf"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
    rf"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
    rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
    rf"(?:(?:{_H16}:){{0,6}}{_H16})?::",
]) + ")"
IP_RANGE = rf"^(?:{IPV4}(?:/0*(?:3[0-2]|[12]?[0-9]))?|{IPV6}(?:/0*(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$"
# Standard base64 as core::upload decodes it: padding optional, no stray bits.
_B64 = "[A-Za-z0-9+/]"
BASE64 = rf"^(?:{_B64}{{4}})*(?:{_B64}[AQgw](?:==?)?|{_B64}{{2}}[AEIMQUYcgkosw048]=?)?$"
# A media type as core::upload::media_type takes it: ASCII with a /, no CR or LF.
_MT = r"[\x00-\x09\x0b\x0c\x0e-\x7f]"
MEDIA_TYPE = rf"^(?:{_MT}*/{_MT}*)?$"
# The name of a multipart part: a header value (no control characters, and no
# backslash, which a quoted string reads as an escape), and
# not one that would name a file (`attachment`) or describe a file part that
# is not in the body (`info[x]`, `meta[x]`, `tags[x]` but for x = files[]);
# other parts are left aside.
PART_NAME = r"^(?!attachment$|(?:info|meta|tags)\[(?!files\[\]\]$).*\]$)[^\x00-\x1f\x7f\\]+$"
TAG_LIST = {"type": "array", "items": {"type": "string", "maxLength": 100}, "maxItems": 100}

# An origin as core::restriction::WebOrigin reads it: http or https (any
# case), a host of letters, digits, dots and hyphens or an IPv6 address in
# brackets, and a port from 1 to 65535 without a leading zero.
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
ORIGIN = rf"^[Hh][Tt][Tt][Pp][Ss]?://(?:[A-Za-z0-9.-]{{1,253}}|\[{IPV6}\])(?::{_PORT})?$"


def ref(name, kind="schemas"):
    return {"$ref": f"#/components/{kind}/{name}"}


def nullable(schema):
    out = dict(schema)
    out["type"] = [schema["type"], "null"]
    return out


def count(maximum, default=None, null=False):
    s = {"type": "integer", "minimum": 1, "maximum": maximum,
         "description": "A whole number, written without a fraction or an exponent (5, not 5.0)"}
    if default is not None:
        s["default"] = default
    return nullable(s) if null else s


def obj(properties, required=(), additional=False, **extra):
    s = {"type": "object", "properties": properties, "additionalProperties": additional}
    if required:
        s["required"] = list(required)
    s.update(extra)
    return s


def strings(item, max_items, min_items=1, null=False):
    s = {"type": "array", "items": item, "minItems": min_items, "maxItems": max_items}
    return nullable(s) if null else s


# In a written body, a member that is null counts as left out, whatever its
# name (core::body::drop_nulls): any other member may be given as null.
NULL_MEMBERS = {"type": "null"}
TEMPLATE_READ_ONLY = ["id", "created_at", "updated_at", "created_at_unix", "updated_at_unix", "generation"]
API_KEY_READ_ONLY = ["id", "created_at", "updated_at", "created_by", "secret"]


def written(properties, response, **extra):
    """An object of a body (response=False), or of an answer (True): every field shown."""
    if response:
        return obj(properties, required=properties.keys(), **extra)
    return obj(properties, additional=NULL_MEMBERS, **extra)


def maybe(schema, response):
    """An input field may also be null, which counts as left out (its default)."""
    return schema if response else {"anyOf": [schema, {"type": "null"}]}


def not_both(name, alias):
    """A field and its Filerobot spelling: at most one of them, unless null."""
    given = {"not": {"type": "null"}}
    return {"not": {"required": [name, alias], "properties": {name: given, alias: given}}}


def policy_properties(response=False):
    """The policy's fields: written by operators (response=False) or shown (True).

    An input field that is null counts as left out, in every body (core::body::drop_nulls).
    """
    m = lambda schema: maybe(schema, response)
    scope = {"type": "string", "description": SCOPE, "pattern": SCOPE_PATTERN, "maxLength": 994}
    upload = {
        "limit_per_min": count(10000, null=True),
        "limit_per_source_ip": count(1000000000, null=True),
        "max": count(1000000000, null=True),
        "dir_scope": m(strings(scope, 100)),
        "max_file_size": m(count(5368709120, default=524288000)),
    }
    listing = {"dir_scope": m(strings(scope, 100)), "max": count(1000000000, null=True)}
    extra_upload, extra_listing = {}, {}
    if not response:
        upload["limit_per_ip_source"] = dict(count(1000000000, null=True), description="Filerobot's spelling of limit_per_source_ip; not both")
        listing["directory_scope"] = m(dict(strings(scope, 100), description="Filerobot's spelling of dir_scope; not both"))
        extra_upload = not_both("limit_per_source_ip", "limit_per_ip_source")
        extra_listing = not_both("dir_scope", "directory_scope")
    restrictions = {
        "whitelist_ip_ranges": strings({"type": "string", "pattern": IP_RANGE,
                                        "description": "An IPv4 or IPv6 address, or a CIDR range without host bits "
                                                       "(10.0.0.0/8, not 10.1.2.3/8); an IPv4-mapped range is /96 or longer"},
                                       256, null=True),
        "whitelist_countries": strings({"type": "string", "pattern": "^(?![Xx]{2}$)[A-Za-z]{2}$",
                                        "description": "An ISO 3166-1 alpha-2 code, any case; never XX"}, 256, null=True),
    }
    perms = PERMISSIONS + ([] if response else ["DIR_MOV"])
    return {
        "permissions": m({"type": "array", "items": {"enum": perms},
                          **({"uniqueItems": True} if response else {})}),
        "upload": m(written(upload, response, **extra_upload)),
        "restrictions": m(written(restrictions, response)),
        "listing": m(written(listing, response, **extra_listing)),
        "allowed_origins": strings({"type": "string", "pattern": ORIGIN,
                                    "description": "An origin such as https://shop.example or http://[::1]:8787"}, 256, null=True),
    }


def key_validity(response=False):
    props = {"expiration_duration": maybe(count(604800, default=1200), response)}
    if response:
        return written(props, response)
    props["expire_duration"] = dict(count(604800, null=True), description="Filerobot's spelling of expiration_duration; not both")
    return maybe(written(props, response, **not_both("expiration_duration", "expire_duration")), response)


def template_own(response=False):
    return {
        "description": maybe({"type": "string", "maxLength": 1024}, response),
        "active": maybe({"type": "boolean", "default": True}, response),
        "issue_limit_per_min": maybe(count(10000, default=5), response),
    }


def api_key_input(create):
    """The body of POST (create=True) or PATCH /v5/api-keys…: a null field is its default."""
    projects = {"anyOf": [{"const": ["*"]},
                          {"type": "array", "items": {"type": "string", "pattern": PROJECT}, "maxItems": 100}],
                "description": "Projects, or [\"*\"] (alone) for a company-wide key"}
    return obj({
        "description": maybe({"type": "string", "maxLength": 1024}, False),
        "permissions": maybe({"type": "array", "items": {"enum": API_PERMISSIONS + ["DIR_MOV"]}}, False),
        "projects": projects,
        "active": maybe({"type": "boolean", "default": True}, False),
    }, required=["projects"] if create else (), additional=NULL_MEMBERS,
        propertyNames={"not": {"enum": API_KEY_READ_ONLY}},
        description="Other members may only be null (ignored); the fields the server sets may not be named.")


SCHEMAS = {
    "Error": obj({
        "status": {"const": "error"},
        "code": {"type": "string", "pattern": "^[A-Z_]+$"},
        "msg": {"type": "string", "minLength": 1},
        "hint": {"type": "string", "minLength": 1},
    }, required=["status", "code", "msg", "hint"]),
    "TemplateInput": obj({**template_own(), **policy_properties(), "key_validity": key_validity()},
                         additional=NULL_MEMBERS, propertyNames={"not": {"enum": TEMPLATE_READ_ONLY}},
                         description="Every field is optional; null resets a field to its default, and a member of any "
                                     "other name may only be null (ignored). The fields the server sets may not be named."),
    "TemplatePatch": obj({**template_own(), **policy_properties(), "key_validity": key_validity()},
                         additional=NULL_MEMBERS,
                         description="A JSON merge patch: a field given replaces, null resets it to its default, "
                                     "objects merge; a member of any other name may only be null (ignored)."),
    "Template": obj({
        "id": {"type": "string", "pattern": TEMPLATE_ID},
        **template_own(response=True),
        **policy_properties(response=True),
        "key_validity": key_validity(response=True),
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "created_at_unix": {"type": "integer", "minimum": 0},
        "updated_at_unix": {"type": "integer", "minimum": 0},
        "generation": {"type": "integer", "minimum": 0,
                       "description": "Moves with every narrowing change; keys issued at an earlier one are refused (TEMPLATE_CHANGED)"},
    }, required=["id", *template_own(response=True), *policy_properties(response=True), "key_validity",
                 "created_at", "updated_at", "created_at_unix", "updated_at_unix", "generation"]),
    "KeyRequest": obj({"data": maybe(written({**policy_properties(), "key_validity": key_validity()}, False), False)},
                      description="Every field is optional, `data` too; null counts as left out. With a SASS key, a field left out inherits the presented key's value."),
    "KeyAnswer": obj({
        "status": {"const": "success"},
        "key": {"type": "string", "pattern": "^SASS__v2__"},
        "hint": {"type": "string"},
        "debug": {"type": "null"},
        "expires_at": {"type": "integer"},
        "key_validity": obj({"expire_duration": {"type": "integer", "minimum": 1,
                                                 "description": "When to ask for a new key, in ms (before the key expires), as the Filerobot widget reads it"}},
                            required=["expire_duration"]),
    }, required=["status", "key", "hint", "debug", "expires_at", "key_validity"]),
    "Introspection": obj({
        "status": {"const": "success"},
        "claims": {"type": "object"},
        "expires_at": {"type": "integer"},
        "seconds_left": {"type": "integer", "minimum": 0},
        "counters": {"type": "object", "additionalProperties": obj({"limit": {"type": "integer"}, "remaining": {"type": "integer"}}, required=["limit", "remaining"])},
    }, required=["status", "claims", "expires_at", "seconds_left", "counters"]),
    "KeyInfo": obj({
        "status": {"const": "success"},
        "is_validate": {"const": True},
        "is_user_info_included": {"const": False},
        "permissions": {"type": "array", "items": {"enum": PERMISSIONS}},
    }, required=["status", "is_validate", "is_user_info_included", "permissions"]),
    "ApiKeyCreate": api_key_input(create=True),
    "ApiKeyPatch": api_key_input(create=False),
    "ApiKey": obj({
        "id": {"type": "string", "pattern": "^(APIK_[0-9A-F]{32}|root)$"},
        "description": {"type": "string"},
        "permissions": {"type": "array", "items": {"enum": API_PERMISSIONS}},
        "projects": {"type": "array", "items": {"type": "string"}},
        "active": {"type": "boolean"},
        "created_by": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    }, required=["id", "description", "permissions", "projects", "active", "created_by"]),
    "Object": obj({
        "uuid": {"type": "string", "pattern": UUID},
        "path": {"type": "string"},
        "name": {"type": "string"},
        "size": {"type": "integer", "minimum": 0},
        "content_type": {"type": ["string", "null"]},
        "uploaded": {"type": "string", "format": "date-time"},
        "etag": {"type": "string"},
        "meta": {"type": ["object", "null"]},
    }, required=["uuid", "path", "name", "size", "content_type", "uploaded", "etag", "meta"],
        description="A file, as sass-edge's own path API shows it."),
    "Listing": obj({
        "status": {"const": "success"},
        "folder": {"type": "string"},
        "files": {"type": "array", "items": ref("Object")},
        "folders": {"type": "array", "items": {"type": "string"}},
        "cursor": {"type": ["string", "null"]},
    }, required=["status", "folder", "files", "folders", "cursor"]),
    "File": obj({
        "uuid": {"type": "string", "pattern": UUID},
        "name": {"type": "string"},
        "extension": {"type": "string"},
        "type": {"type": "string"},
        "size": obj({"bytes": {"type": "integer", "minimum": 0}, "pretty": {"type": "string"}}, required=["bytes", "pretty"]),
        "url": obj({"public": {"type": "string"}, "cdn": {"type": "string"}, "permalink": {"type": "string"}},
                   required=["public", "cdn", "permalink"]),
        "hash": obj({"sha1": {"type": "string"}}, required=["sha1"]),
        "meta": {"type": "object"},
        "tags": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "info": {"type": "object"},
        "folder": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "modified_at": {"type": "string", "format": "date-time"},
    }, required=["uuid", "name", "extension", "type", "size", "url", "hash", "meta", "tags", "info", "folder",
                 "created_at", "modified_at"],
        description="A file, as the Filerobot API shows it. Its URLs serve it through /v5/objects, to a key that may fetch it."),
    "Folder": obj({"uuid": {"type": "string", "pattern": UUID}, "name": {"type": "string"}, "path": {"type": "string"}},
                  required=["uuid", "name", "path"]),
    "UploadAnswer": {
        "oneOf": [
            obj({"status": {"const": "success"}, "file": ref("File")}, required=["status", "file"]),
            obj({"status": {"const": "success"}, "files": {"type": "array", "items": ref("File"), "minItems": 2}},
                required=["status", "files"]),
        ],
    },
    "Base64Upload": obj({
        "name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": FILE_NAME,
                 "description": "The file's name: one path segment of 1 to 255 bytes"},
        "data": {"type": "string", "contentEncoding": "base64", "pattern": BASE64,
                 "description": "The file's bytes in standard base64; padding optional"},
        "postactions": {"const": "decode_base64"},
        "type": {"type": ["string", "null"], "maxLength": 255, "pattern": MEDIA_TYPE,
                 "description": "Its media type (ASCII, with a /); empty or null for application/octet-stream"},
        "meta": {"type": "object"},
        "tags": {"anyOf": [ref("Tags"), {"type": "null"}]},
    }, required=["name", "data", "postactions"]),
    "UrlUpload": obj({
        "files_urls": {"type": "array", "minItems": 1, "maxItems": 100, "items": obj({
            "url": {"type": "string", "pattern": r"^https?://[^\s]+$", "maxLength": 2048,
                    "description": "An http or https URL, fetched under the README's rules (no local addresses)"},
            "name": {"type": ["string", "null"], "minLength": 1, "maxLength": 255, "pattern": FILE_NAME,
                     "description": "The file's name; by default the URL's last path segment. Names must differ."},
            "meta": {"type": "object"},
            "info": {"type": "object"},
        }, required=["url"])},
    }, required=["files_urls"],
        description="Files fetched from URLs. `dir` may also be given, and must then be the query's folder."),
    "Tags": {"anyOf": [
        obj({"lang": {"type": ["string", "null"]}, "new_tags": TAG_LIST}, required=["new_tags"]),
        {"type": "object", "additionalProperties": TAG_LIST},
    ], "description": "{\"lang\", \"new_tags\"} as the widget sends them, or {language: [tags]}; at most 100 tags in all."},
}

ERROR = {"description": "A refusal: its status and code say why (see the README's error table).",
         "content": {"application/json": {"schema": ref("Error")}},
         "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1},
                                     "description": "With 429 and 502/503: seconds to wait."},
                     "Allow": {"schema": {"type": "string"}, "description": "With 405: the methods allowed."}}}


def json_answer(description, schema, example=None):
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {"application/json": content}}


def success(fields, required=None):
    return obj({"status": {"const": "success"}, **fields}, required=["status", *(required or fields)])


def link(op_id, **parameters):
    """An OpenAPI link to `op_id`; the project is always the request's."""
    return {"operationId": op_id, "parameters": {"project": "$request.path.project", **parameters}}


def links_to(op_ids, **parameters):
    return {f"to_{i}": link(i, **parameters) for i in op_ids}


def op(summary, op_id, tag, ok, *, params=(), body=None, auth=True, status="200", description=None, extra=None,
       links=None):
    if links:
        ok = dict(ok, links=links)
    o = {"summary": summary, "operationId": op_id, "tags": [tag], "parameters": list(params),
         "responses": {status: ok, "default": ref("Error", "responses")}}
    if description:
        o["description"] = description
    if body:
        o["requestBody"] = body
    o["security"] = [{auth if isinstance(auth, str) else "FilerobotKey": []}] if auth else []
    if extra:
        o["responses"].update(extra)
    return o


def json_body(schema, example=None, required=True):
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"required": required, "content": {"application/json": content}}


P = ref("project", "parameters")
FOLDER = {"name": "folder", "in": "query", "schema": {"type": "string", "default": "/", "maxLength": 992, "pattern": f"^$|{DIRECTORY}"},
          "description": "An absolute normalised directory of at most 992 bytes; empty for the root. `dir` is another spelling "
                         "(not both). An upload's folder and file name together make a path of at most 992 bytes."}
LIST_QUERY = [
    FOLDER,
    {"name": "recursive", "in": "query", "schema": {"enum": ["0", "1", "true", "false"]}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 100000, "default": 0}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
    {"name": "sort", "in": "query", "schema": {"type": "string", "pattern": "^(name|created_at|updated_at|modified_at)([:,]([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc]))?$"},
     "description": "`order` is another spelling; `,` may stand for `:`."},
    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 256}, "description": "Only names holding this text."},
]
UUID_PARAM = {"name": "uuid", "in": "path", "required": True, "schema": {"type": "string", "pattern": UUID}}

TEMPLATE_EXAMPLE = {"description": "widget uploads", "permissions": ["FILE_UPLOAD", "OBJECTS_LIST"],
                    "upload": {"dir_scope": ["/uploads/*"], "max_file_size": 10485760, "limit_per_min": 20},
                    "key_validity": {"expiration_duration": 600}}
FILE_EXAMPLE = {"uuid": "0b6e0c4e-5d52-4f0b-9a3e-4c1de0e8a8f1", "name": "photo one.jpg", "extension": "jpg", "type": "image/jpeg",
                "size": {"bytes": 3000, "pretty": "2.9 KB"},
                "url": {"public": "http://localhost:8787/demo/v5/objects/up/photo%20one.jpg",
                        "cdn": "http://localhost:8787/demo/v5/objects/up/photo%20one.jpg",
                        "permalink": "http://localhost:8787/demo/v5/objects/up/photo%20one.jpg"},
                "hash": {"sha1": "8a3d8b8a5e4c6a3f0b2b4a0a1c2d3e4f5a6b7c8d"}, "meta": {"title": "Hello"}, "tags": {"en": ["cat"]},
                "info": {"name": "photo one.jpg", "type": "image/jpeg"}, "folder": "/up",
                "created_at": "2026-11-22T05:01:01Z", "modified_at": "2026-11-22T05:01:01Z"}

UPLOAD_BODY = {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["files[]"], "propertyNames": {"pattern": PART_NAME}, "properties": {
        "files[]": {"type": "string", "format": "binary", "description": "A file; any part with a file name is one (also `attachment`)."},
        "info[files[]]": obj({"name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": FILE_NAME},
                              "type": {"type": "string", "maxLength": 255, "pattern": MEDIA_TYPE}}, additional=True,
                             description="JSON {name, type} of the file part files[]: its name wins over the part's file name."),
        "meta[files[]]": {"type": "object", "description": "JSON object: the file's meta."},
        "tags[files[]]": ref("Tags"),
    }}},
    "application/json": {"schema": {"oneOf": [ref("Base64Upload"), ref("UrlUpload")]},
                         "example": {"name": "s.bin", "data": "aGVsbG8=", "postactions": "decode_base64"}},
}}

upload_op = lambda op_id: op(
    "Upload files into a folder (FILE_UPLOAD, upload.dir_scope): multipart, base64 JSON, or by URL",
    op_id, "filerobot", json_answer("The file, or the files", ref("UploadAnswer"), {"status": "success", "file": FILE_EXAMPLE}),
    params=[P, FOLDER], body=UPLOAD_BODY,
    links=links_to([f"{o}V4" for o in ("inspectFile", "renameFile", "deleteFile", "setFileMeta")], uuid="$response.body#/file/uuid"),
    description="Each file is one upload: a request with N files takes N counts at once, or none. Every file is at most the key's max_file_size, checked while it streams; a refused request stores nothing.")
list_op = lambda op_id: op(
    "List files (OBJECTS_LIST, listing.dir_scope)", op_id, "filerobot",
    json_answer("One page of the folder's files", success({"files": {"type": "array", "items": ref("File")},
                                                           "info": obj({"total_files_count": {"type": "integer", "minimum": 0}}, required=["total_files_count"])})),
    params=[P, *LIST_QUERY])
stats_op = lambda op_id: op(
    "How many files a folder holds (OBJECTS_LIST)", op_id, "filerobot",
    json_answer("The count", success({"stats": obj({"approx_files_count": {"type": "integer", "minimum": 0}}, required=["approx_files_count"])})),
    params=[P, *LIST_QUERY])
folders_op = lambda op_id: op(
    "List folders (OBJECTS_LIST)", op_id, "filerobot",
    json_answer("One page of the folder's subfolders", success({"folders": {"type": "array", "items": ref("Folder")},
                                                                "total": {"type": "integer", "minimum": 0}})),
    params=[P, *LIST_QUERY])
file_answer = json_answer("The file", success({"file": ref("File")}), {"status": "success", "file": FILE_EXAMPLE})


def by_id(prefix):
    return {
        "get": op("A file by id (OBJECTS_LIST)", f"inspectFile{prefix}", "filerobot", file_answer, params=[P, UUID_PARAM]),
        "patch": op("Rename a file in its folder (FILE_RENAME)", f"renameFile{prefix}", "filerobot", file_answer,
                    links=links_to([f"inspectFile{prefix}"], uuid="$request.path.uuid"),
                    params=[P, UUID_PARAM], body=json_body(obj({"name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": FILE_NAME}}, required=["name"]), {"name": "two.txt"})),
        "delete": op("Delete a file (FILE_DELETE)", f"deleteFile{prefix}", "filerobot",
                     json_answer("Deleted", success({"hint": {"type": "string"}, "uuid": {"type": "string", "pattern": UUID}})),
                     params=[P, UUID_PARAM]),
    }


def meta_by_id(prefix):
    return {"put": op("Set a file's meta (FILE_META_CHANGE)", f"setFileMeta{prefix}", "filerobot", file_answer,
                      params=[P, UUID_PARAM], body=json_body(obj({"meta": {"type": "object"}}, required=["meta"]), {"meta": {"alt": "x"}}))}


PATH = ref("path", "parameters")
OBJECT_ANSWER = json_answer("The file", success({"file": ref("Object")}))
issue_key = op("Issue a key from a template (no credential; issue_limit_per_min per source IP)", "issueKey", "keys",
               json_answer("The key", ref("KeyAnswer")), params=[P, ref("template_id", "parameters")], auth=False,
               links=links_to(["keyInfo"], key="$response.body#/key"))
mint_key = op("Mint a key: with an API secret key holding CONFIG_CHANGE, or by attenuating a SASS key holding CONFIG_CHANGE",
              "mintKey", "keys", json_answer("The key", ref("KeyAnswer")), params=[P],
              links=links_to(["keyInfo"], key="$response.body#/key"),
              body=json_body(ref("KeyRequest"), {"data": {"permissions": ["FILE_UPLOAD"], "upload": {"dir_scope": ["/up/*"], "max": 10}}}))

PATHS = {
    "/openapi.json": {"get": op("This document", "openapi", "meta", {"description": "The OpenAPI document",
                                                                       "content": {"application/json": {"schema": {"type": "object"}}}}, auth=False)},
    "/v5/api-keys": {
        "get": op("List the API secret keys the caller covers (ACCESS_READ)", "listApiKeys", "api keys",
                  json_answer("One page", success({"api_keys": {"type": "array", "items": ref("ApiKey")}, "cursor": {"type": ["string", "null"]}})),
                  params=[ref("cursor", "parameters")]),
        "post": op("Create an API secret key (ACCESS_MANAGE); the secret is shown once", "createApiKey", "api keys",
                   json_answer("Created", success({"api_key": ref("ApiKey"), "secret": {"type": "string", "pattern": "^sek_[0-9a-f]{64}_[0-9a-f]{8}$"},
                                                   "hint": {"type": "string"}})),
                   status="201", links={f"to_{i}": {"operationId": i, "parameters": {"id": "$response.body#/api_key/id"}}
                                        for i in ("readApiKey", "patchApiKey", "deleteApiKey")},
                   body=json_body(ref("ApiKeyCreate"), {"description": "CI uploads", "permissions": ["FILE_UPLOAD"], "projects": ["demo"]})),
    },
    "/v5/api-keys/{id}": {
        k: v for k, v in {
            "get": op("Read an API secret key (ACCESS_READ)", "readApiKey", "api keys", json_answer("The key", success({"api_key": ref("ApiKey")})),
                      params=[ref("api_key_id", "parameters")]),
            "patch": op("Change an API secret key (ACCESS_MANAGE; a JSON merge patch)", "patchApiKey", "api keys",
                        json_answer("The key", success({"api_key": ref("ApiKey")})), params=[ref("api_key_id", "parameters")],
                        body=json_body(ref("ApiKeyPatch"), {"active": False})),
            "delete": op("Delete an API secret key (ACCESS_MANAGE)", "deleteApiKey", "api keys",
                         json_answer("Deleted", success({"hint": {"type": "string"}, "id": {"type": "string"}})),
                         params=[ref("api_key_id", "parameters")]),
        }.items()
    },
    "/{project}/key/{template_id}": {"get": issue_key},
    "/{project}/v5/key/{template_id}": {"get": dict(issue_key, operationId="issueKeyV5")},
    "/{project}/key": {"post": mint_key},
    "/{project}/v5/key": {"post": dict(mint_key, operationId="mintKeyV5")},
    "/{project}/v5/key/introspect": {"get": op("What the presented SASS key is, and what remains of its counters", "introspect", "keys",
                                               json_answer("The key", ref("Introspection")), params=[P], auth="SassKey",
                                               links=links_to(["revokeKey"], key_id="$response.body#/claims/key_id"))},
    "/{project}/v4/key/info": {"get": op("Filerobot's key check: the permissions of the key in the query", "keyInfo", "filerobot",
                                         json_answer("The key's permissions", ref("KeyInfo")),
                                         params=[P, {"name": "key", "in": "query", "required": True, "schema": {"type": "string"}}], auth=False)},
    "/{project}/v4/meta/model/fields": {"get": op("The metadata model (no fields): a credential check, as Filerobot's Python SDK makes it",
                                                  "metaFields", "filerobot", json_answer("No fields", success({"fields": {"type": "array", "maxItems": 0}})),
                                                  params=[P])},
    "/{project}/demo/{template_id}": {"get": op("The demo upload page (when DEMO is set)", "demoPage", "meta",
                                                {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}},
                                                params=[P, ref("template_id", "parameters")], auth=False)},
    "/{project}/v5/keys/{key_id}": {"delete": op("Revoke an issued SASS key (CONFIG_CHANGE)", "revokeKey", "keys",
                                                 json_answer("Revoked", success({"hint": {"type": "string"}, "key_id": {"type": "string", "pattern": KEY_ID},
                                                                                 "revoked_until": {"type": "integer"}})),
                                                 params=[P, {"name": "key_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": KEY_ID}}])},
    "/{project}/v5/security-templates": {
        "get": op("List templates (CONFIG_LIST)", "listTemplates", "templates",
                  json_answer("One page", success({"templates": {"type": "array", "items": ref("Template")}, "cursor": {"type": ["string", "null"]}})),
                  params=[P, ref("cursor", "parameters")]),
        "post": op("Create a template (CONFIG_CHANGE)", "createTemplate", "templates", json_answer("Created", success({"template": ref("Template")})),
                   params=[P], status="201", body=json_body(ref("TemplateInput"), TEMPLATE_EXAMPLE),
                   links={**links_to(["readTemplate", "patchTemplate", "deleteTemplate"], id="$response.body#/template/id"),
                          **links_to(["issueKey", "issueKeyV5", "demoPage"], template_id="$response.body#/template/id")}),
        "patch": op("Activate or deactivate several templates, all or none (CONFIG_CHANGE)", "patchTemplates", "templates",
                    json_answer("The templates", success({"templates": {"type": "array", "items": ref("Template")}})), params=[P],
                    body=json_body(obj({"ids": {"type": "array", "items": {"type": "string", "pattern": TEMPLATE_ID}, "minItems": 1, "maxItems": 100, "uniqueItems": True},
                                        "active": {"type": "boolean"}}, required=["ids", "active"]),
                                   {"ids": ["SECU_3268740E1C82464B9BC350D868F966CB"], "active": False})),
    },
    "/{project}/v5/security-templates/{id}": {
        "get": op("Read a template (CONFIG_LIST)", "readTemplate", "templates", json_answer("The template", success({"template": ref("Template")})),
                  params=[P, ref("id", "parameters")]),
        "patch": op("Change a template (CONFIG_CHANGE; a JSON merge patch)", "patchTemplate", "templates",
                    json_answer("The template", success({"template": ref("Template")})), params=[P, ref("id", "parameters")],
                    body=json_body(ref("TemplatePatch"), {"active": False})),
        "delete": op("Delete a template (CONFIG_CHANGE)", "deleteTemplate", "templates",
                     json_answer("Deleted", success({"hint": {"type": "string"}, "id": {"type": "string", "pattern": TEMPLATE_ID}})),
                     params=[P, ref("id", "parameters")]),
    },
    "/{project}/v5/objects/{path}": {
        "put": op("Store the body as the file /{path} (FILE_UPLOAD, upload.dir_scope)", "putObject", "objects", OBJECT_ANSWER,
                  params=[P, PATH], status="201",
                  links={**links_to(["getObject", "headObject", "deleteObject", "moveObject", "setObjectMeta"], path="$request.path.path"),
                         **links_to(["inspectFile", "renameFile", "deleteFile"], uuid="$response.body#/file/uuid")},
                  body={"required": False, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                  description="Needs Content-Length; a body above the key's max_file_size is refused before a byte is stored. No body stores an empty file."),
        "get": op("The file's bytes (OBJECTS_FETCH)", "getObject", "objects",
                  {"description": "The file, with the media type it was stored with",
                   "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                  params=[P, PATH]),
        "head": op("The file's headers (OBJECTS_FETCH)", "headObject", "objects", {"description": "The file's headers"}, params=[P, PATH]),
        "delete": op("Delete the file (FILE_DELETE)", "deleteObject", "objects", json_answer("Deleted", success({"path": {"type": "string"}})),
                     params=[P, PATH]),
    },
    "/{project}/v5/objects/{path}/move": {"post": op("Move or rename the file (FILE_RENAME in its folder, else FILE_MOVE)", "moveObject", "objects",
                                                     OBJECT_ANSWER, params=[P, PATH],
                                                     body=json_body(obj({"to": {"type": "string", "maxLength": 992, "pattern": MOVE_TO,
                                                                               "description": "The new absolute path, at most 992 bytes, decoded: no %"}}, required=["to"]), {"to": "/archive/cat.jpg"}))},
    "/{project}/v5/objects/{path}/meta": {"put": op("Set the file's meta: a JSON object of at most 2 KiB (FILE_META_CHANGE)", "setObjectMeta", "objects",
                                                    OBJECT_ANSWER, params=[P, PATH], body=json_body({"type": "object"}, {"alt": "a cat"}))},
    "/{project}/v5/list": {"get": op("List a folder, with a cursor (OBJECTS_LIST)", "listFolder", "objects", json_answer("The folder", ref("Listing")),
                                     params=[P, FOLDER, ref("cursor", "parameters"),
                                             {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}])},
    "/{project}/v4/files": {"post": upload_op("uploadFiles"), "get": list_op("listFilesV4")},
    "/{project}/v4/upload": {"post": upload_op("uploadFilesAlias")},
    "/{project}/v5/files": {"get": list_op("listFiles")},
    "/{project}/v4/files/stats": {"get": stats_op("statsV4")},
    "/{project}/v5/files/stats": {"get": stats_op("stats")},
    "/{project}/v4/folders": {"get": folders_op("listFoldersV4")},
    "/{project}/v5/folders": {"get": folders_op("listFolders")},
    "/{project}/v4/files/{uuid}": by_id("V4"),
    "/{project}/v5/files/{uuid}": by_id(""),
    "/{project}/v4/files/{uuid}/meta": meta_by_id("V4"),
    "/{project}/v5/files/{uuid}/meta": meta_by_id(""),
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "sass-edge", "version": "2.0.0",
             "description": "Short-lived, restricted access keys (SASS keys) for browser widgets, issued and checked at the edge, "
                            "with the Filerobot API its clients call. Errors are always {\"status\":\"error\",\"code\",\"msg\",\"hint\"}."},
    "servers": [{"url": "http://localhost:8787", "description": "scripts/dev.sh"}],
    "tags": [{"name": n} for n in ["keys", "templates", "filerobot", "objects", "api keys", "meta"]],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"FilerobotKey": {"type": "apiKey", "in": "header", "name": "X-Filerobot-Key",
                                             "description": "A SASS key, an API secret key (sek_…) or the root key, as each call says."},
                            "SassKey": {"type": "apiKey", "in": "header", "name": "X-Filerobot-Key",
                                        "description": "A SASS key (SASS__v2__…), and nothing else."}},
        "parameters": {
            "project": {"name": "project", "in": "path", "required": True, "schema": {"type": "string", "pattern": PROJECT}, "example": "demo"},
            "template_id": {"name": "template_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": TEMPLATE_ID}},
            "id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": TEMPLATE_ID}},
            "api_key_id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^(APIK_[0-9A-F]{32}|root)$"}},
            "path": {"name": "path", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 991, "pattern": FILE_NAME}, "example": "photo.jpg",
                     "description": "The file's path below the root, at most 991 bytes, percent-encoded. It may also be several "
                                    "segments joined by unencoded slashes (`a/b.jpg`; `%2F` is refused), which an OpenAPI "
                                    "path parameter cannot describe: the schema is one segment."},
            "cursor": {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "The cursor of the previous page."},
        },
        "responses": {"Error": ERROR},
        "schemas": SCHEMAS,
    },
}

text = json.dumps(DOCUMENT, indent=2, ensure_ascii=False) + "\n"
if "--check" in sys.argv:
    if OUT.read_text() != text:
        sys.exit(f"{OUT} is not what scripts/openapi.py writes: run python3 scripts/openapi.py")
    print(f"{OUT.name}: as scripts/openapi.py writes it")
else:
    OUT.write_text(text)
    print(f"wrote {OUT}")
