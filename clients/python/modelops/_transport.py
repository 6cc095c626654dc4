"""HTTP with retries over urllib: JSON in and out, ProblemDetails turned into ModelOpsError.

Which calls are retried, and why that is safe:
- Calls that are idempotent (GET, PUT of an artifact, PATCH, DELETE, and POST log-batch, whose
  points carry a client-side timestamp so a replay is an exact duplicate the server ignores) are
  retried on any connection failure or timeout and on 429 and 5xx responses.
- Calls that are not (creating an experiment or a run) are retried only when the portal certainly
  did not act: the connection was refused, or it answered 429 or 503. A timeout there is raised,
  since the run may have been created.
"""

import http.client
import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request

from .errors import ModelOpsError

_RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_NOT_ACTED_STATUSES = frozenset({429, 503})
_USER_AGENT = "modelops-python/0.1"


class Transport:
    def __init__(self, base_url, token, timeout, retries, backoff=0.5, max_backoff=10.0):
        self.api_root = base_url.rstrip("/") + "/api/v1"
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        # Counters a caller can read to see how hard the link was working (the load tests do).
        self.stats = {"requests": 0, "retries": 0, "retry_reasons": []}

    def url(self, path, query=None):
        url = self.api_root + path
        if query:
            pairs = [(k, v) for k, v in query.items() if v is not None]
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs, doseq=True)
        return url

    def request(self, method, path, *, query=None, json_body=None, upload_path=None,
                consume=None, idempotent=True):
        """Sends one call, retrying as the module doc says.

        json_body: sent as JSON. upload_path: a file streamed as the body (reopened on each attempt).
        consume: called with the open response to read it (a download); otherwise the JSON body is
        returned, or None for an empty one.
        """
        url = self.url(path, query)
        attempt = 0
        while True:
            self.stats["requests"] += 1
            try:
                return self._once(method, url, json_body, upload_path, consume)
            except urllib.error.HTTPError as e:
                error = _problem(e, method, url)
                retriable = e.code in (_RETRIABLE_STATUSES if idempotent else _NOT_ACTED_STATUSES)
                retry_after = _retry_after(e.headers)
            except (OSError, http.client.HTTPException) as e:
                reason = e.reason if isinstance(e, urllib.error.URLError) else e
                error = ModelOpsError(None, "Connection failed", f"{type(reason).__name__}: {reason}", method, url)
                error.__cause__ = e
                retriable = idempotent or isinstance(reason, ConnectionRefusedError)
                retry_after = None
            if not retriable or attempt >= self.retries:
                raise error
            delay = min(self.max_backoff, self.backoff * (2 ** attempt)) * random.uniform(0.5, 1.0)
            if retry_after is not None:
                delay = max(delay, min(retry_after, 60.0))
            self._note_retry(error)
            time.sleep(delay)
            attempt += 1

    def _once(self, method, url, json_body, upload_path, consume):
        headers = {"Accept": "application/json", "User-Agent": _USER_AGENT}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body, allow_nan=False).encode("utf-8")
            return self._open(urllib.request.Request(url, data=data, headers=headers, method=method), consume)
        if upload_path is not None:
            with open(upload_path, "rb") as body:
                headers["Content-Type"] = "application/octet-stream"
                headers["Content-Length"] = str(os.fstat(body.fileno()).st_size)
                return self._open(urllib.request.Request(url, data=body, headers=headers, method=method), consume)
        return self._open(urllib.request.Request(url, headers=headers, method=method), consume)

    def _open(self, request, consume):
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            if consume is not None:
                return consume(response)
            payload = response.read()
            if not payload:
                return None
            return json.loads(payload)

    def _note_retry(self, error):
        self.stats["retries"] += 1
        reasons = self.stats["retry_reasons"]
        if len(reasons) < 200:
            reasons.append(str(error))


def _problem(http_error, method, url):
    """The server's ProblemDetails as a ModelOpsError; a non-JSON body becomes the detail."""
    try:
        raw = http_error.read()
    except (OSError, http.client.HTTPException):
        raw = b""
    title, detail = http_error.reason, ""
    try:
        body = json.loads(raw) if raw else {}
        if isinstance(body, dict):
            title = body.get("title") or title
            detail = body.get("detail") or ""
            if not detail and isinstance(body.get("errors"), dict):
                detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in body["errors"].items())
    except ValueError:
        detail = raw.decode("utf-8", "replace")[:1000]
    return ModelOpsError(http_error.code, str(title), detail, method, url)


def _retry_after(headers):
    value = headers.get("Retry-After") if headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
