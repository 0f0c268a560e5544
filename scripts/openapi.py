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
SCOPE = "An absolute normalised directory (no ., .. or empty segment, no trailing slash), optionally ending in /*: /a allows exactly /a, /a/* allows /a and below."


def ref(name, kind="schemas"):
    return {"$ref": f"#/components/{kind}/{name}"}


def nullable(schema):
    out = dict(schema)
    out["type"] = [schema["type"], "null"]
    return out


def count(maximum, default=None, null=False):
    s = {"type": "integer", "minimum": 1, "maximum": maximum}
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


def policy_properties(response=False):
    """The policy's fields: written by operators (response=False) or shown (True)."""
    scope = {"type": "string", "description": SCOPE, "maxLength": 1024}
    upload = {
        "limit_per_min": count(10000, null=True),
        "limit_per_source_ip": count(1000000000, null=True),
        "max": count(1000000000, null=True),
        "dir_scope": strings(scope, 100),
        "max_file_size": count(5368709120, default=524288000),
    }
    listing = {"dir_scope": strings(scope, 100), "max": count(1000000000, null=True)}
    if not response:
        upload["limit_per_ip_source"] = dict(count(1000000000, null=True), description="Filerobot's spelling of limit_per_source_ip")
        listing["directory_scope"] = dict(strings(scope, 100), description="Filerobot's spelling of dir_scope")
    restrictions = {
        "whitelist_ip_ranges": strings({"type": "string", "description": "An IPv4 or IPv6 address or CIDR range"}, 256, null=True),
        "whitelist_countries": strings({"type": "string", "pattern": "^(?![Xx]{2}$)[A-Za-z]{2}$"}, 256, null=True),
    }
    perms = PERMISSIONS + ([] if response else ["DIR_MOV"])
    return {
        "permissions": {"type": "array", "items": {"enum": perms}, "maxItems": 64},
        "upload": obj(upload, required=upload.keys() if response else ()),
        "restrictions": obj(restrictions, required=restrictions.keys() if response else ()),
        "listing": obj(listing, required=listing.keys() if response else ()),
        "allowed_origins": strings({"type": "string", "description": "An origin such as https://shop.example"}, 256, null=True),
    }


def key_validity(response=False):
    props = {"expiration_duration": count(604800, default=1200)}
    if not response:
        props["expire_duration"] = dict(count(604800), description="Filerobot's spelling of expiration_duration")
    return obj(props, required=props.keys() if response else ())


TEMPLATE_OWN = {
    "description": {"type": "string", "maxLength": 1024},
    "active": {"type": "boolean", "default": True},
    "issue_limit_per_min": count(10000, default=5),
}

SCHEMAS = {
    "Error": obj({
        "status": {"const": "error"},
        "code": {"type": "string", "pattern": "^[A-Z_]+$"},
        "msg": {"type": "string", "minLength": 1},
        "hint": {"type": "string", "minLength": 1},
    }, required=["status", "code", "msg", "hint"]),
    "TemplateInput": obj({**TEMPLATE_OWN, **policy_properties(), "key_validity": key_validity()},
                         description="Every field is optional; null resets a field to its default."),
    "Template": obj({
        "id": {"type": "string", "pattern": TEMPLATE_ID},
        **TEMPLATE_OWN,
        **policy_properties(response=True),
        "key_validity": key_validity(response=True),
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "created_at_unix": {"type": "integer", "minimum": 0},
        "updated_at_unix": {"type": "integer", "minimum": 0},
    }, required=["id", *TEMPLATE_OWN, *policy_properties(response=True), "key_validity",
                 "created_at", "updated_at", "created_at_unix", "updated_at_unix"]),
    "KeyRequest": obj({"data": obj({**policy_properties(), "key_validity": key_validity()})},
                      description="Every field is optional. With a SASS key, a field left out inherits the presented key's value."),
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
    "ApiKeyInput": obj({
        "description": {"type": "string", "maxLength": 1024},
        "permissions": {"type": "array", "items": {"enum": API_PERMISSIONS + ["DIR_MOV"]}, "maxItems": 64},
        "projects": {"type": "array", "items": {"type": "string", "pattern": "^([a-z0-9]{1,32}|\\*)$"}, "maxItems": 100,
                     "description": "Projects, or [\"*\"] for a company-wide key"},
        "active": {"type": "boolean"},
    }),
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
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "data": {"type": "string", "contentEncoding": "base64"},
        "postactions": {"const": "decode_base64"},
        "type": {"type": "string"},
        "meta": {"type": "object"},
        "tags": {"type": "object"},
    }, required=["name", "data", "postactions"]),
    "UrlUpload": obj({
        "files_urls": {"type": "array", "minItems": 1, "maxItems": 100, "items": obj({
            "url": {"type": "string", "pattern": "^https?://"},
            "name": {"type": "string", "minLength": 1, "maxLength": 255},
            "meta": {"type": "object"},
            "info": {"type": "object"},
        }, required=["url"])},
        "dir": {"type": "string"},
    }, required=["files_urls"]),
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


def op(summary, op_id, tag, ok, *, params=(), body=None, auth=True, status="200", description=None, extra=None):
    o = {"summary": summary, "operationId": op_id, "tags": [tag], "parameters": list(params),
         "responses": {status: ok, "default": ref("Error", "responses")}}
    if description:
        o["description"] = description
    if body:
        o["requestBody"] = body
    o["security"] = [{"FilerobotKey": []}] if auth else []
    if extra:
        o["responses"].update(extra)
    return o


def json_body(schema, example=None, required=True):
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"required": required, "content": {"application/json": content}}


P = ref("project", "parameters")
FOLDER = {"name": "folder", "in": "query", "schema": {"type": "string", "default": "/"},
          "description": "An absolute normalised directory. `dir` is another spelling."}
LIST_QUERY = [
    FOLDER,
    {"name": "recursive", "in": "query", "schema": {"enum": ["0", "1", "true", "false"]}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 100000, "default": 0}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
    {"name": "sort", "in": "query", "schema": {"type": "string", "pattern": "^(name|created_at|updated_at|modified_at)([:,](asc|desc))?$"},
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
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "files[]": {"type": "string", "format": "binary", "description": "A file; any part with a file name is one (also `attachment`)."},
        "info[files[]]": {"type": "string", "description": "JSON {name, type} of the file part that follows: its name wins."},
        "meta[files[]]": {"type": "string", "description": "JSON object: the file's meta."},
        "tags[files[]]": {"type": "string", "description": "JSON {lang, new_tags}: the file's tags."},
    }}},
    "application/json": {"schema": {"oneOf": [ref("Base64Upload"), ref("UrlUpload")]},
                         "example": {"name": "s.bin", "data": "aGVsbG8=", "postactions": "decode_base64"}},
}}

upload_op = lambda op_id: op(
    "Upload files into a folder (FILE_UPLOAD, upload.dir_scope): multipart, base64 JSON, or by URL",
    op_id, "filerobot", json_answer("The file, or the files", ref("UploadAnswer"), {"status": "success", "file": FILE_EXAMPLE}),
    params=[P, FOLDER], body=UPLOAD_BODY,
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
                    params=[P, UUID_PARAM], body=json_body(obj({"name": {"type": "string", "minLength": 1, "maxLength": 255}}, required=["name"]), {"name": "two.txt"})),
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
               json_answer("The key", ref("KeyAnswer")), params=[P, ref("template_id", "parameters")], auth=False)
mint_key = op("Mint a key: with an API secret key holding CONFIG_CHANGE, or by attenuating a SASS key holding CONFIG_CHANGE",
              "mintKey", "keys", json_answer("The key", ref("KeyAnswer")), params=[P],
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
                   status="201", body=json_body(ref("ApiKeyInput"), {"description": "CI uploads", "permissions": ["FILE_UPLOAD"], "projects": ["demo"]})),
    },
    "/v5/api-keys/{id}": {
        k: v for k, v in {
            "get": op("Read an API secret key (ACCESS_READ)", "readApiKey", "api keys", json_answer("The key", success({"api_key": ref("ApiKey")})),
                      params=[ref("api_key_id", "parameters")]),
            "patch": op("Change an API secret key (ACCESS_MANAGE; a JSON merge patch)", "patchApiKey", "api keys",
                        json_answer("The key", success({"api_key": ref("ApiKey")})), params=[ref("api_key_id", "parameters")],
                        body=json_body(ref("ApiKeyInput"), {"active": False})),
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
                                               json_answer("The key", ref("Introspection")), params=[P])},
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
                   params=[P], status="201", body=json_body(ref("TemplateInput"), TEMPLATE_EXAMPLE)),
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
                    body=json_body(ref("TemplateInput"), {"active": False})),
        "delete": op("Delete a template (CONFIG_CHANGE)", "deleteTemplate", "templates",
                     json_answer("Deleted", success({"hint": {"type": "string"}, "id": {"type": "string", "pattern": TEMPLATE_ID}})),
                     params=[P, ref("id", "parameters")]),
    },
    "/{project}/v5/objects/{path}": {
        "put": op("Store the body as the file /{path} (FILE_UPLOAD, upload.dir_scope)", "putObject", "objects", OBJECT_ANSWER,
                  params=[P, PATH], status="201",
                  body={"required": True, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                  description="Needs Content-Length; a body above the key's max_file_size is refused before a byte is stored."),
        "get": op("The file's bytes (OBJECTS_FETCH)", "getObject", "objects",
                  {"description": "The file", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                  params=[P, PATH]),
        "head": op("The file's headers (OBJECTS_FETCH)", "headObject", "objects", {"description": "The file's headers"}, params=[P, PATH]),
        "delete": op("Delete the file (FILE_DELETE)", "deleteObject", "objects", json_answer("Deleted", success({"path": {"type": "string"}})),
                     params=[P, PATH]),
    },
    "/{project}/v5/objects/{path}/move": {"post": op("Move or rename the file (FILE_RENAME in its folder, else FILE_MOVE)", "moveObject", "objects",
                                                     OBJECT_ANSWER, params=[P, PATH],
                                                     body=json_body(obj({"to": {"type": "string", "pattern": "^/"}}, required=["to"]), {"to": "/archive/cat.jpg"}))},
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
                                             "description": "A SASS key, an API secret key (sek_…) or the root key, as each call says."}},
        "parameters": {
            "project": {"name": "project", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9]{1,32}$"}},
            "template_id": {"name": "template_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": TEMPLATE_ID}},
            "id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": TEMPLATE_ID}},
            "api_key_id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^(APIK_[0-9A-F]{32}|root)$"}},
            "path": {"name": "path", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
                     "description": "The file's path below the root, percent-encoded; may contain slashes."},
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
