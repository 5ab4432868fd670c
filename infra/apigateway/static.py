"""The storefront's built files (web/dist), served by the local gateway where AWS serves them from S3 behind
CloudFront (template.yaml, StorefrontDistribution; docs/storefront.md).

Only GET and HEAD requests that no API route matches get here, and only for a file that exists under the root
or for one of the storefront's page paths (`/`, `/seller`, `/shop/...`: the API has none of these), so every API
answer stays what it was: an unknown API path is still API Gateway's JSON 404. The pages are answered with the
headers the template's StorefrontResponseHeadersPolicy gives them (a content security policy that lets the
page call the API and post images to S3, not the API's `default-src 'none'`), hashed assets are cached for a
year and pages are revalidated (`no-cache`, with an ETag), and text is gzipped for a client that accepts it,
as CloudFront's `Compress` does.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

Headers = list[tuple[bytes, bytes]]

# The paths the storefront's own router handles (web/src/store/main.ts) and the console's page.
_PAGES = {"/": "index.html", "/seller": "seller.html", "/seller/": "seller.html"}
_SPA_PREFIX = "/shop/"
_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".json": "application/json", ".svg": "image/svg+xml", ".map": "application/json",
    ".txt": "text/plain; charset=utf-8", ".woff2": "font/woff2",
    ".png": "image/png", ".webp": "image/webp", ".ico": "image/x-icon",
}  # fmt: skip
_COMPRESSIBLE = (".html", ".js", ".css", ".json", ".svg", ".map", ".txt")
IMMUTABLE = "public, max-age=31536000, immutable"  # /assets/: Vite puts a content hash in each name
REVALIDATE = "no-cache"  # pages and config.json: always checked, answered 304 while unchanged


def content_security_policy(extra_sources: Iterable[str] = ()) -> str:
    """The pages' policy: their own scripts and styles only; the API and S3 (uploads, image renditions) may be
    other origins, named in `extra_sources`."""
    others = " ".join(sorted(set(extra_sources)))
    connect = f"'self' {others}".strip()
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: {connect}; "
        f"connect-src {connect}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


@dataclass(frozen=True)
class StaticAnswer:
    status: int
    headers: Headers
    body: bytes


class StaticSite:
    def __init__(self, root: Path, *, extra_sources: Iterable[str] = ()) -> None:
        self.root = root.resolve()
        self.policy = content_security_policy(extra_sources)

    @property
    def built(self) -> bool:
        return (self.root / "index.html").is_file()

    def answer(self, method: str, path: str, headers: Mapping[str, str]) -> StaticAnswer | None:
        """The answer to a GET or HEAD of `path` (request `headers` with lower-case names), or None when it is
        not the storefront's (the API answers it)."""
        if method not in ("GET", "HEAD"):
            return None
        file = self._file(path)
        if file is None:
            return None
        body = file.read_bytes()
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        suffix = file.suffix.lower()
        content_type = _TYPES.get(suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        cache = IMMUTABLE if path.startswith("/assets/") else REVALIDATE
        out: Headers = [
            (b"content-type", content_type.encode()), (b"cache-control", cache.encode()), (b"etag", etag.encode()),
            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
            (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
        ]  # fmt: skip
        if suffix == ".html":
            out += [(b"content-security-policy", self.policy.encode()), (b"x-frame-options", b"DENY")]
        if suffix in _COMPRESSIBLE:
            out.append((b"vary", b"Accept-Encoding"))
        if etag in {tag.strip() for tag in headers.get("if-none-match", "").split(",")}:
            return StaticAnswer(304, [*out, (b"content-length", b"0")], b"")
        if suffix in _COMPRESSIBLE and "gzip" in headers.get("accept-encoding", ""):
            body = gzip.compress(body, compresslevel=6, mtime=0)
            out.append((b"content-encoding", b"gzip"))
        out.append((b"content-length", str(len(body)).encode()))
        return StaticAnswer(200, out, b"" if method == "HEAD" else body)

    def _file(self, path: str) -> Path | None:
        if not self.built or "\x00" in path:
            return None
        page = _PAGES.get(path)
        if page is None and path.startswith(_SPA_PREFIX):
            page = "index.html"
        if page is not None:
            return self.root / page
        candidate = (self.root / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None  # outside the root (../), a folder or nothing: the API's answer
        return candidate
