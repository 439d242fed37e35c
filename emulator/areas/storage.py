"""The storage data plane of the estate's storage accounts, path-style on the emulator's host.

``/storage/blob/{account}``, ``/storage/dfs/{account}`` and ``/storage/file/{account}`` stand for
``https://{account}.blob|dfs|file.core.windows.net`` (the Cloud seam maps an account to them). Served, in the
shapes of the Storage REST API (blob and file: XML; dfs: JSON):

- Blob: List Containers (``?comp=list``), List Blobs (``?restype=container&comp=list`` with ``prefix``,
  ``delimiter``, ``marker``, ``maxresults``, ``include``), Get Container Properties and Get Blob Properties (HEAD);
- ADLS Gen2: Path - List (``GET /{filesystem}?resource=filesystem&recursive=...&directory=...``);
- Files: List Shares (``?comp=list``), List Directories and Files (``?restype=directory&comp=list``).

Every container, filesystem and share a datastore of the estate names has contents, generated from the seed
(folders, files, sizes, times) on first use. Requests are authorised as Azure Storage does: Shared Key (the
HMAC of the canonical request with the account key), a SAS whose signature is one the account issued, or an
Entra ID bearer token of the tenant.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import random
import re
import urllib.parse
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from ..credential import decode_token
from ..estate import Estate
from ..http import Request, Response, Route

AREA = "storage"
DATASTORE_TYPE = "Microsoft.MachineLearningServices/workspaces/datastores"
_PATH = re.compile(r"^/storage/(?P<service>blob|dfs|file)/(?P<account>[a-z0-9]{3,24})(?:$|/(?P<rest>.*)$)")
_XML = "application/xml"
_FOLDERS = ["raw", "curated", "features", "models", "exports", "checkpoints", "logs", "UI", "LocalUpload", "azureml"]
_EXTENSIONS = [("parquet", "application/octet-stream"), ("csv", "text/csv"), ("json", "application/json")]


@dataclass(frozen=True)
class Item:
    path: str  # inside the container, no leading or trailing slash
    is_dir: bool
    size: int
    created: dt.datetime
    modified: dt.datetime
    content_type: str = ""

    @property
    def etag(self) -> str:
        return "0x8D" + hashlib.sha1(f"{self.path}:{self.modified.isoformat()}".encode()).hexdigest()[:13].upper()


class StorageError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# -- the accounts' contents ------------------------------------------------------------------------


def _containers(estate: Estate, account: str, service: str) -> dict[str, str]:
    """Containers (blob, dfs) or shares (file) of `account` that datastores name: name -> datastore type."""
    field = {"AzureBlob": "containerName", "AzureDataLakeGen2": "filesystem", "AzureFile": "fileShareName"}
    found: dict[str, str] = {}
    for ds in estate.of_type(DATASTORE_TYPE):
        p = ds.get("properties") or {}
        dtype = str(p.get("datastoreType") or "")
        if str(p.get("accountName") or "").lower() != account or dtype not in field:
            continue
        if (service == "file") != (dtype == "AzureFile"):
            continue
        found[str(p.get(field[dtype]) or "")] = dtype
    return found


def _tree(estate: Estate, account: str, container: str) -> dict[str, Item]:
    """The contents of one container, generated from the seed on first use and kept (times stay put)."""
    with estate.lock:  # concurrent first listings generate it once
        return _generate(estate, account, container)


def _generate(estate: Estate, account: str, container: str) -> dict[str, Item]:
    cache: dict[tuple[str, str], dict[str, Item]] = estate.area_state.setdefault(AREA, {})
    key = (account, container)
    if key not in cache:
        rng = random.Random(f"{estate.seed}:{AREA}:{account}:{container}")
        now = estate.clock.now().replace(microsecond=0)
        items: dict[str, Item] = {}

        def add(path: str, is_dir: bool) -> None:
            created = now - dt.timedelta(seconds=rng.randint(3600, 120 * 86400))
            modified = min(now - dt.timedelta(minutes=5), created + dt.timedelta(seconds=rng.randint(0, 30 * 86400)))
            if is_dir:
                items[path] = Item(path, True, 0, created, modified)
                return
            ext, ctype = rng.choice(_EXTENSIONS)
            size = rng.choice([rng.randint(50, 4096), rng.randint(10_000, 50_000_000)])
            items[f"{path}.{ext}"] = Item(f"{path}.{ext}", False, size, created, modified, ctype)

        for folder in sorted(rng.sample(_FOLDERS, 4)):
            add(folder, True)
            for sub in range(rng.randint(0, 3)):
                add(f"{folder}/{2026 - sub}", True)
                for n in range(rng.randint(1, 4)):
                    add(f"{folder}/{2026 - sub}/part-{n:05d}", False)
            for n in range(rng.randint(1, 5)):
                add(f"{folder}/{folder.lower()}-{n:03d}", False)
        add("manifest", False)
        written = now - dt.timedelta(seconds=rng.randint(3600, 90 * 86400))
        items["README.md"] = Item("README.md", False, rng.randint(200, 3000), written, written, "text/markdown")
        cache[key] = items
    return cache[key]


def _children(tree: dict[str, Item], directory: str) -> list[Item]:
    base = directory.strip("/")
    return sorted(
        (i for i in tree.values() if i.path.rpartition("/")[0] == base and i.path != base), key=lambda i: i.path
    )


# -- authorisation ---------------------------------------------------------------------------------


def _account_secrets(estate: Estate, account: str) -> tuple[set[str], set[str]]:
    """The account's keys and the SAS signatures it issued, from the datastores' stored secrets."""
    from .datastores import _secrets

    keys: set[str] = set()
    sigs: set[str] = set()
    for ds in estate.of_type(DATASTORE_TYPE):
        if str((ds.get("properties") or {}).get("accountName") or "").lower() != account:
            continue
        secret = _secrets(estate).get(ds["id"].lower()) or {}
        if secret.get("key"):
            keys.add(str(secret["key"]))
        if secret.get("sasToken"):
            for k, v in urllib.parse.parse_qsl(str(secret["sasToken"]).lstrip("?")):
                if k == "sig":
                    sigs.add(v)
    return keys, sigs


def _string_to_sign(req: Request, account: str) -> str:
    h = req.headers
    length = h.get("content-length", "")
    names = ["content-encoding", "content-language", "", "content-md5", "content-type", "date"]
    names += ["if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"]
    values = [h.get(n, "") if n else ("" if length == "0" else length) for n in names]
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted(h.items()) if k.startswith("x-ms-"))
    resource = f"/{account}{req.path}"
    for name, value in sorted((k.lower(), v) for k, v in req.query.items()):
        resource += f"\n{name}:{value}"
    return req.method + "\n" + "\n".join(values) + "\n" + canonical_headers + resource


def _authorise(estate: Estate, req: Request, account: str) -> None:
    auth = req.headers.get("authorization", "")
    if auth.startswith("SharedKey "):
        name, _, signature = auth[len("SharedKey ") :].partition(":")
        keys, _ = _account_secrets(estate, account)
        expected = {
            base64.b64encode(
                hmac.new(base64.b64decode(k), _string_to_sign(req, name).encode(), hashlib.sha256).digest()
            ).decode()
            for k in keys
        }
        if name != account or signature not in expected:
            raise StorageError(
                403,
                "AuthenticationFailed",
                "Server failed to authenticate the request. Make sure the value of Authorization header is formed "
                "correctly including the signature.",
            )
        return
    if auth.lower().startswith("bearer "):
        try:
            claims = decode_token(auth[7:].strip())
        except ValueError:
            raise StorageError(
                401, "InvalidAuthenticationInfo", "Authentication information is not given in the correct format."
            ) from None
        if claims.get("tid") != estate.tenant_id or float(claims["exp"]) < dt.datetime.now(dt.UTC).timestamp():
            raise StorageError(401, "InvalidAuthenticationInfo", "Server failed to authenticate the request.")
        return
    if "sig" in req.query:
        _, sigs = _account_secrets(estate, account)
        expiry = req.q("se") or ""
        if req.query["sig"] not in sigs:
            raise StorageError(403, "AuthenticationFailed", "Signature did not match.")
        if expiry and expiry < estate.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"):
            raise StorageError(403, "AuthenticationFailed", "Signed expiry time must be after signed start time.")
        return
    raise StorageError(401, "NoAuthenticationInformation", "Server failed to authenticate the request.")


# -- shapes ----------------------------------------------------------------------------------------


def _http_date(t: dt.datetime) -> str:
    return format_datetime(t.astimezone(dt.UTC), usegmt=True)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _xml(body: str) -> Response:
    return Response(200, '<?xml version="1.0" encoding="utf-8"?>' + body, content_type=_XML)


def _tag(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>" if value not in ("", None) else f"<{name} />"


def _list_containers(req: Request, service_url: str, names: list[str], share: bool) -> Response:
    kind, tag = ("Shares", "Share") if share else ("Containers", "Container")
    prefix = req.q("prefix") or ""
    rows = "".join(
        f"<{tag}>{_tag('Name', n)}<Properties>{_tag('Last-Modified', 'Thu, 01 Jan 2026 00:00:00 GMT')}"
        f"{_tag('Etag', '0x8DC0000000000000')}</Properties></{tag}>"
        for n in sorted(names)
        if n.startswith(prefix)
    )
    return _xml(
        f'<EnumerationResults ServiceEndpoint="{escape(service_url)}/">{_tag("Prefix", prefix)}'
        f"<{kind}>{rows}</{kind}><NextMarker /></EnumerationResults>"
    )


def _page(req: Request, names: list[str]) -> tuple[int, int]:
    try:
        start = int(req.q("marker") or 0)
        top = int(req.q("maxresults") or 5000)
    except ValueError:
        raise StorageError(
            400,
            "InvalidQueryParameterValue",
            "Value for one of the query parameters specified in the request URI is invalid.",
        ) from None
    return start, max(1, min(top, 5000))


def _list_blobs(req: Request, service_url: str, container: str, tree: dict[str, Item]) -> Response:
    prefix = req.q("prefix") or ""
    delimiter = req.q("delimiter") or ""
    include = (req.q("include") or "").split(",")
    entries: list[tuple[str, Item | None]] = []
    prefixes: set[str] = set()
    for item in sorted(tree.values(), key=lambda i: i.path):
        if item.is_dir or not item.path.startswith(prefix):
            continue  # a flat namespace: folders exist as the common prefixes of blob names
        rest = item.path[len(prefix) :]
        if delimiter and delimiter in rest:
            common = prefix + rest.split(delimiter, 1)[0] + delimiter
            if common not in prefixes:
                prefixes.add(common)
                entries.append((common, None))
            continue
        entries.append((item.path, item))
    entries.sort(key=lambda e: e[0])
    start, top = _page(req, [e[0] for e in entries])
    chunk = entries[start : start + top]
    rows = []
    for name, found in chunk:
        if found is None:
            rows.append(f"<BlobPrefix>{_tag('Name', name)}</BlobPrefix>")
            continue
        metadata = "<Metadata />" if "metadata" in include else ""
        rows.append(
            f"<Blob>{_tag('Name', name)}<Properties>{_tag('Creation-Time', _http_date(found.created))}"
            f"{_tag('Last-Modified', _http_date(found.modified))}{_tag('Etag', found.etag)}"
            f"{_tag('Content-Length', found.size)}{_tag('Content-Type', found.content_type)}<Content-Encoding />"
            "<Content-Language /><Content-MD5 /><Cache-Control /><BlobType>BlockBlob</BlobType>"
            "<AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred><LeaseStatus>unlocked"
            "</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted>"
            f"</Properties>{metadata}</Blob>"
        )
    more = start + top < len(entries)
    return _xml(
        f'<EnumerationResults ServiceEndpoint="{escape(service_url)}/" ContainerName="{escape(container)}">'
        f"{_tag('Prefix', prefix)}{_tag('Marker', req.q('marker'))}{_tag('MaxResults', req.q('maxresults'))}"
        f"{_tag('Delimiter', delimiter)}<Blobs>{''.join(rows)}</Blobs>"
        f"{_tag('NextMarker', start + top if more else '')}</EnumerationResults>"
    )


def _blob_properties(item: Item) -> Response:
    return Response(
        200,
        b"",
        {
            "Last-Modified": _http_date(item.modified),
            "ETag": f'"{item.etag}"',
            "x-ms-creation-time": _http_date(item.created),
            "x-ms-blob-type": "BlockBlob",
            "x-ms-access-tier": "Hot",
            "x-ms-access-tier-inferred": "true",
            "x-ms-lease-status": "unlocked",
            "x-ms-lease-state": "available",
            "x-ms-server-encrypted": "true",
            "Accept-Ranges": "bytes",
            "Content-Length": str(item.size),  # of the blob, as HEAD answers
        },
        content_type=item.content_type or "application/octet-stream",
    )


def _list_paths(req: Request, tree: dict[str, Item]) -> Response:
    directory = (req.q("directory") or "").strip("/")
    if directory and (directory not in tree or not tree[directory].is_dir):
        raise StorageError(404, "PathNotFound", "The specified path does not exist.")
    recursive = (req.q("recursive") or "").lower() == "true"
    if recursive:
        base = directory + "/" if directory else ""
        items = sorted((i for i in tree.values() if i.path.startswith(base)), key=lambda i: i.path)
    else:
        items = _children(tree, directory)
    try:
        start = int(req.q("continuation") or 0)
        top = int(req.q("maxResults") or 5000)
    except ValueError:
        raise StorageError(400, "InvalidQueryParameterValue", "A query parameter is invalid.") from None
    chunk = items[start : start + top]
    paths = [
        {
            "name": i.path,
            **({"isDirectory": "true"} if i.is_dir else {}),
            "lastModified": _http_date(i.modified),
            "etag": i.etag,
            "contentLength": str(i.size),
            "owner": "$superuser",
            "group": "$superuser",
            "permissions": "rwxr-x---",
            "creationTime": str(int((i.created - dt.datetime(1601, 1, 1, tzinfo=dt.UTC)).total_seconds() * 10**7)),
        }
        for i in chunk
    ]
    headers = {"x-ms-continuation": str(start + top)} if start + top < len(items) else {}
    return Response(200, {"paths": paths}, headers)


def _list_files(req: Request, service_url: str, share: str, directory: str, tree: dict[str, Item]) -> Response:
    directory = directory.strip("/")
    if directory and (directory not in tree or not tree[directory].is_dir):
        raise StorageError(404, "ResourceNotFound", "The specified resource does not exist.")
    prefix = req.q("prefix") or ""
    items = [i for i in _children(tree, directory) if i.path.rpartition("/")[2].startswith(prefix)]
    start, top = _page(req, [i.path for i in items])
    rows = []
    for i in items[start : start + top]:
        name = i.path.rpartition("/")[2]
        file_id = int(hashlib.sha1(f"{share}/{i.path}".encode()).hexdigest()[:15], 16)
        times = (
            f"{_tag('CreationTime', _iso(i.created))}{_tag('LastAccessTime', _iso(i.modified))}"
            f"{_tag('LastWriteTime', _iso(i.modified))}{_tag('ChangeTime', _iso(i.modified))}"
            f"{_tag('Last-Modified', _http_date(i.modified))}{_tag('Etag', i.etag)}"
        )
        if i.is_dir:
            rows.append(
                f"<Directory>{_tag('Name', name)}{_tag('FileId', file_id)}<Properties>{times}</Properties>"
                "<Attributes>Directory</Attributes></Directory>"
            )
        else:
            rows.append(
                f"<File>{_tag('Name', name)}{_tag('FileId', file_id)}<Properties>"
                f"{_tag('Content-Length', i.size)}{times}</Properties><Attributes>Archive</Attributes></File>"
            )
    more = start + top < len(items)
    return _xml(
        f'<EnumerationResults ServiceEndpoint="{escape(service_url)}/" ShareName="{escape(share)}" '
        f'DirectoryPath="{escape(directory)}">{_tag("Marker", req.q("marker"))}{_tag("Prefix", prefix)}'
        f"{_tag('MaxResults', req.q('maxresults'))}<DirectoryId>0</DirectoryId><Entries>{''.join(rows)}</Entries>"
        f"{_tag('NextMarker', start + top if more else '')}</EnumerationResults>"
    )


# -- routing ---------------------------------------------------------------------------------------


def _serve(estate: Estate, req: Request, service: str, account: str, rest: str) -> Response:
    service_url = f"{req.base_url}/storage/{service}/{account}"
    _authorise(estate, req, account)
    containers = _containers(estate, account, service)
    if not containers and not _account_secrets(estate, account)[0]:
        raise StorageError(404, "ResourceNotFound", f"The storage account '{account}' could not be found.")
    container, _, path = rest.partition("/")  # the router has decoded it
    comp, restype = req.q("comp") or "", req.q("restype") or ""
    if not container:
        if req.method == "GET" and comp == "list":
            return _list_containers(req, service_url, list(containers), service == "file")
        raise StorageError(400, "InvalidQueryParameterValue", "The requested operation is not supported here.")
    if container not in containers:
        code = {"file": "ShareNotFound", "dfs": "FilesystemNotFound"}.get(service, "ContainerNotFound")
        raise StorageError(404, code, f"The specified {'share' if service == 'file' else 'container'} does not exist.")
    tree = _tree(estate, account, container)
    if service == "dfs":
        if req.method == "GET" and req.q("resource") == "filesystem" and not path:
            return _list_paths(req, tree)
    elif service == "file":
        if req.method == "GET" and restype == "directory" and comp == "list":
            return _list_files(req, service_url, container, path, tree)
    elif not path:
        if req.method == "GET" and restype == "container" and comp == "list":
            return _list_blobs(req, service_url, container, tree)
        if restype == "container" and not comp:
            return Response(200, b"", {"Last-Modified": "Thu, 01 Jan 2026 00:00:00 GMT", "ETag": '"0x8DC0"'})
    elif req.method == "HEAD" and not comp:
        found = tree.get(path)
        if found is None or found.is_dir:
            raise StorageError(404, "BlobNotFound", "The specified blob does not exist.")
        return _blob_properties(found)
    raise StorageError(400, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb or query.")


def _error(service: str, e: StorageError, req: Request) -> Response:
    headers = {"x-ms-error-code": e.code}
    message = f"{e.message}\nRequestId:{req.request_id}\nTime:{_iso(dt.datetime.now(dt.UTC))}"
    if service == "dfs":
        return Response(e.status, {"error": {"code": e.code, "message": message}}, headers)
    if req.method == "HEAD":
        return Response(e.status, b"", headers, content_type=_XML)
    body = f"<Error>{_tag('Code', e.code)}{_tag('Message', message)}</Error>"
    return Response(e.status, '<?xml version="1.0" encoding="utf-8"?>' + body, headers, content_type=_XML)


def register(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate

    def handle(req: Request, service: str, account: str, rest: str | None = None) -> Response:
        try:
            resp = _serve(estate, req, service, account, rest or "")
        except StorageError as e:
            resp = _error(service, e, req)
        version = req.headers.get("x-ms-version")
        if version:
            resp.headers.setdefault("x-ms-version", version)
        return resp

    for method in ("GET", "HEAD"):
        router.routes.append(Route(method, "/storage/{service}/{account}/...", _PATH, handle))
