"""A tracked run: buffered logging of params, tags and metrics, artifacts, and its end."""

import math
import numbers
import operator
import os
import re
import threading
import time
import warnings

from .errors import ModelOpsError

# The server's per-request limits (docs/tracking.md, POST /runs/{id}/log-batch).
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100

_KEY_CHARS = re.compile(r"^[A-Za-z0-9_\-./ ]{1,250}$")


def check_key(kind, key):
    """Refuses a key the server would refuse, at the line that logs it rather than at a later flush."""
    if not isinstance(key, str):
        raise TypeError(f"{kind} key {key!r} must be a string.")
    if not _KEY_CHARS.match(key) or any(s in ("", ".", "..") for s in key.split("/")):
        raise ValueError(
            f"{kind} key {key!r} is not allowed: use 1-250 ASCII letters, digits, '_', '-', '.', '/' or spaces, "
            "with no empty, '.' or '..' segment between slashes.")
    return key


def _metric_value(key, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Metric {key!r}: {value!r} is not a number.")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"Metric {key!r}: {number} is not a finite number; the portal stores finite values only.")
    return number


def _text(value):
    """A param or tag value as the text the server stores: booleans in lower case, as JSON writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


class Run:
    """A run this client reports itself (a "tracked" run).

    Params, tags and metrics are buffered and sent in batches: automatically when a buffer reaches
    the server's per-request limit (1,000 metrics, 100 params, 100 tags), and on flush() and
    finish(). Each metric point gets its timestamp when it is logged, so a batch that is retried
    after a lost response is an exact duplicate, which the server ignores.

    Used as a context manager, the run ends Finished when the block completes, Failed when it
    raises (Cancelled on Ctrl-C); the exception is re-raised.
    """

    def __init__(self, client, info):
        self._client = client
        self._lock = threading.RLock()
        self._metrics = []
        self._params = {}
        self._tags = {}
        self._sent_params = {k: _text(v) for k, v in (info.get("params") or {}).items()}
        self._ended = False
        self.info = info

    @property
    def id(self):
        return self.info["id"]

    @property
    def experiment_id(self):
        return self.info.get("experimentId")

    @property
    def name(self):
        return self.info.get("name")

    @property
    def status(self):
        return self.info.get("status")

    def __repr__(self):
        return f"<Run id={self.id} name={self.name!r} status={self.status}>"

    # ---- logging ----

    def log_param(self, key, value):
        """Params are write-once: the same value again is a no-op, a different one a 409 from the server.

        A key this run already knows with another value is sent at once, so the server's refusal is
        raised here, at the line that caused it.
        """
        check_key("Param", key)
        text = _text(value)
        with self._lock:
            known = self._params.get(key, self._sent_params.get(key))
            if known == text:
                return
            if known is not None:
                self.flush()
                self._post_batch({"params": [{"key": key, "value": text}]})
                self._sent_params[key] = text
                return
            self._params[key] = text
            if len(self._params) >= MAX_PARAMS_PER_BATCH:
                self.flush()

    def log_params(self, params):
        for key, value in params.items():
            self.log_param(key, value)

    def set_tag(self, key, value):
        """Tags are mutable: the latest value wins."""
        check_key("Tag", key)
        with self._lock:
            self._tags[key] = _text(value)
            if len(self._tags) >= MAX_TAGS_PER_BATCH:
                self.flush()

    def set_tags(self, tags):
        for key, value in tags.items():
            self.set_tag(key, value)

    def log_metric(self, key, value, step=None, timestamp=None):
        """Buffers one point. step defaults to 0; timestamp (ms since the epoch) to now."""
        check_key("Metric", key)
        point = {
            "key": key,
            "value": _metric_value(key, value),
            "step": 0 if step is None else operator.index(step),
            "timestamp": int(time.time() * 1000) if timestamp is None else operator.index(timestamp),
        }
        with self._lock:
            self._metrics.append(point)
            if len(self._metrics) >= MAX_METRICS_PER_BATCH:
                self.flush()

    def log_metrics(self, metrics, step=None, timestamp=None):
        """Logs several metrics at one step, all with the same timestamp."""
        if timestamp is None:
            timestamp = int(time.time() * 1000)
        for key, value in metrics.items():
            self.log_metric(key, value, step=step, timestamp=timestamp)

    def flush(self):
        """Sends everything buffered, in batches within the server's limits.

        A batch the server refuses (4xx) is dropped, since sending it again cannot succeed, and the
        error is raised. A batch that could not be delivered (the portal unreachable after the
        retries) stays buffered for the next flush, and the error is raised.
        """
        with self._lock:
            while self._metrics or self._params or self._tags:
                metrics = self._metrics[:MAX_METRICS_PER_BATCH]
                params = list(self._params.items())[:MAX_PARAMS_PER_BATCH]
                tags = list(self._tags.items())[:MAX_TAGS_PER_BATCH]
                body = {}
                if metrics:
                    body["metrics"] = metrics
                if params:
                    body["params"] = [{"key": k, "value": v} for k, v in params]
                if tags:
                    body["tags"] = [{"key": k, "value": v} for k, v in tags]
                try:
                    self._post_batch(body)
                except ModelOpsError as e:
                    if e.status is not None and 400 <= e.status < 500 and e.status != 429:
                        self._take(metrics, params, tags, sent=False)
                    raise
                self._take(metrics, params, tags, sent=True)

    def _take(self, metrics, params, tags, sent):
        del self._metrics[:len(metrics)]
        for key, value in params:
            del self._params[key]
            if sent:
                self._sent_params[key] = value
        for key, value in tags:
            if self._tags.get(key) == value:
                del self._tags[key]

    def _post_batch(self, body):
        self._client._transport.request("POST", f"/runs/{self.id}/log-batch", json_body=body, idempotent=True)

    # ---- artifacts ----

    def log_artifact(self, local_path, artifact_path=None):
        """Uploads one file as <artifact_path>/<file name> (MLflow's convention); returns its record."""
        name = os.path.basename(local_path)
        path = f"{artifact_path.strip('/')}/{name}" if artifact_path else name
        return self._client.upload_artifact(self.id, path, local_path)

    def log_artifacts(self, local_dir, artifact_path=None):
        """Uploads every file under a folder, keeping its layout below artifact_path."""
        records = []
        for folder, dirs, files in os.walk(local_dir):
            dirs.sort()
            relative = os.path.relpath(folder, local_dir).replace(os.sep, "/")
            for name in sorted(files):
                parts = [p for p in (artifact_path and artifact_path.strip("/"), relative if relative != "." else None, name) if p]
                records.append(self._client.upload_artifact(self.id, "/".join(parts), os.path.join(folder, name)))
        return records

    def list_artifacts(self, prefix=None):
        return self._client.list_artifacts(self.id, prefix)

    def download_artifact(self, path, dest):
        return self._client.download_artifact(self.id, path, dest)

    # ---- end ----

    def finish(self, status="Finished"):
        """Flushes, then sets the run's end status (Finished, Failed or Cancelled). A second call does nothing."""
        with self._lock:
            if self._ended:
                return
            self.flush()
            self._set_status(status)

    def _set_status(self, status):
        self.info = self._client._transport.request("PATCH", f"/runs/{self.id}", json_body={"status": status}) or self.info
        self._ended = True

    def _end_quietly(self, status, flush=True):
        """Ends the run while another exception is on its way out: that one must not be masked."""
        if flush:
            try:
                self.flush()
            except Exception as e:  # noqa: BLE001 - reported, then the caller's exception propagates
                warnings.warn(f"Run {self.id}: buffered data could not be sent before marking it {status}: {e}")
        try:
            self._set_status(status)
        except Exception as e:  # noqa: BLE001
            warnings.warn(f"Run {self.id}: could not mark it {status}: {e}")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._ended:
            return False
        if exc_type is None:
            try:
                self.flush()
            except BaseException:
                self._end_quietly("Failed", flush=False)
                raise
            self._set_status("Finished")
        else:
            self._end_quietly("Cancelled" if issubclass(exc_type, KeyboardInterrupt) else "Failed")
        return False
