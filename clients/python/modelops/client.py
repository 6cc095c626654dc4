"""The portal's tracking API (/api/v1, docs/tracking.md) for Python, standard library only."""

import os
import shutil
import tempfile
import urllib.parse

from ._transport import Transport
from .errors import ModelOpsError
from .run import Run, _text

DEFAULT_URL = "http://127.0.0.1:5000"
DEFAULT_EXPERIMENT_ID = 1  # "Default": holds runs that name no experiment


def artifact_url_path(path):
    """An artifact path as URL segments; refuses what would climb out of the run's folder."""
    segments = path.strip("/").split("/")
    if not path.strip("/") or any(s in ("", ".", "..") for s in segments):
        raise ValueError(f"Artifact path {path!r} is not allowed: it needs names, with no empty, '.' or '..' segment.")
    return "/".join(urllib.parse.quote(s, safe="") for s in segments)


class Client:
    """A connection to one portal.

    base_url defaults to $MODELOPS_URL, then http://127.0.0.1:5000; token to $MODELOPS_TOKEN (sent as
    "Authorization: Bearer"). timeout is per request, in seconds; retries is how many times a failed
    call is tried again (see the transport's doc for which calls are safe to retry).
    """

    def __init__(self, base_url=None, token=None, timeout=30, retries=5, backoff=0.5):
        base_url = base_url or os.environ.get("MODELOPS_URL") or DEFAULT_URL
        if base_url.rstrip("/").endswith("/api/v1"):
            base_url = base_url.rstrip("/")[: -len("/api/v1")]
        token = token if token is not None else (os.environ.get("MODELOPS_TOKEN") or None)
        self._transport = Transport(base_url, token, timeout, retries, backoff)
        self.base_url = base_url.rstrip("/")

    @property
    def stats(self):
        """Requests sent, retries made and why (the error each retry answered)."""
        return self._transport.stats

    def _call(self, method, path, **kwargs):
        return self._transport.request(method, path, **kwargs)

    # ---- experiments ----

    def create_experiment(self, name, description=None, tags=None):
        body = {"name": name}
        if description is not None:
            body["description"] = description
        if tags:
            body["tags"] = {k: _text(v) for k, v in tags.items()}
        return self._call("POST", "/experiments", json_body=body, idempotent=False)

    def list_experiments(self):
        return self._call("GET", "/experiments")

    def get_experiment(self, experiment_id):
        return self._call("GET", f"/experiments/{int(experiment_id)}")

    def find_experiment(self, name):
        """The live experiment with this name, or None."""
        experiments = self.list_experiments()
        for match in (lambda e: e["name"] == name, lambda e: e["name"].casefold() == name.casefold()):
            found = next((e for e in experiments if match(e)), None)
            if found is not None:
                return found
        return None

    def get_or_create_experiment(self, name):
        """The experiment with this name, created if missing; safe when several processes race to create it."""
        found = self.find_experiment(name)
        if found is not None:
            return found
        try:
            return self.create_experiment(name)
        except ModelOpsError as e:
            if e.status != 409:
                raise
            found = self.find_experiment(name)  # another process created it between our GET and POST
            if found is None:
                raise
            return found

    # ---- runs ----

    def start_run(self, experiment=None, name=None, params=None, tags=None, parent_run_id=None, source="API", notes=None):
        """Creates a tracked run (status Running) and returns it as a Run.

        experiment: an id, an experiment as returned by this client, or a name (created if missing);
        None means the Default experiment.
        """
        experiment_id = self._experiment_id(experiment)
        body = {"source": source}
        if name is not None:
            body["name"] = name
        if params:
            body["params"] = {k: _text(v) for k, v in params.items()}
        if tags:
            body["tags"] = {k: _text(v) for k, v in tags.items()}
        if parent_run_id is not None:
            body["parentRunId"] = int(parent_run_id)
        if notes is not None:
            body["notes"] = notes
        info = self._call("POST", f"/experiments/{experiment_id}/runs", json_body=body, idempotent=False)
        return Run(self, info)

    def resume_run(self, run_id):
        """A Run for an existing tracked run, to log more to it (allowed after it has ended, as in MLflow)."""
        return Run(self, self.get_run(run_id))

    def get_run(self, run_id):
        return self._call("GET", f"/runs/{int(run_id)}")

    def set_run_status(self, run_id, status):
        return self._call("PATCH", f"/runs/{int(run_id)}", json_body={"status": status})

    def search_runs(self, experiment_ids=None, filter=None, order_by=None, max_results=50, limit=None):
        """Yields matching runs, following nextPageToken; max_results is the page size (1-1000), limit caps the total."""
        if isinstance(experiment_ids, (int, str, dict)):
            experiment_ids = [experiment_ids]
        body = {"maxResults": max_results}
        if experiment_ids is not None:
            body["experimentIds"] = [self._experiment_id(e) for e in experiment_ids]
        if filter:
            body["filter"] = filter
        if order_by:
            body["orderBy"] = [order_by] if isinstance(order_by, str) else list(order_by)
        yielded = 0
        while True:
            page = self._call("POST", "/runs/search", json_body=body)  # a read: safe to retry
            for run in page.get("runs", []):
                yield run
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
            token = page.get("nextPageToken")
            if not token:
                return
            body["pageToken"] = token

    def _experiment_id(self, experiment):
        if experiment is None:
            return DEFAULT_EXPERIMENT_ID
        if isinstance(experiment, dict):
            return int(experiment["id"])
        if isinstance(experiment, str):
            return int(self.get_or_create_experiment(experiment)["id"])
        return int(experiment)

    # ---- metrics ----

    def latest_metrics(self, run_id):
        return self._call("GET", f"/runs/{int(run_id)}/metrics")

    def metric_history(self, run_id, key, max_points=1000):
        """{key, totalPoints, downsampled, points: [{step, value, timestamp}]}, at most max_points (LTTB)."""
        return self._call("GET", f"/runs/{int(run_id)}/metrics/history", query={"key": key, "maxPoints": max_points})

    def metric_points(self, run_id, key, page_size=10000):
        """Yields every point of one series in step order, paging through /metrics/raw."""
        token = None
        while True:
            page = self._call("GET", f"/runs/{int(run_id)}/metrics/raw",
                              query={"key": key, "pageSize": page_size, "pageToken": token})
            yield from page.get("points", [])
            token = page.get("nextPageToken")
            if not token:
                return

    # ---- artifacts ----

    def upload_artifact(self, run_id, path, local_path):
        """Streams a file to the run's artifact store; returns {path, sizeBytes, sha256, createdAt}."""
        return self._call("PUT", f"/runs/{int(run_id)}/artifacts/{artifact_url_path(path)}", upload_path=local_path)

    def list_artifacts(self, run_id, prefix=None):
        return self._call("GET", f"/runs/{int(run_id)}/artifacts", query={"prefix": prefix})

    def download_artifact(self, run_id, path, dest):
        """Saves an artifact to dest (a file path, or an existing folder to put it in); returns the file's path.

        The file appears whole or not at all: it is written beside dest and renamed when complete.
        """
        if os.path.isdir(dest):
            dest = os.path.join(dest, path.strip("/").split("/")[-1])
        folder = os.path.dirname(os.path.abspath(dest))

        def save(response):
            with tempfile.NamedTemporaryFile("wb", dir=folder, delete=False, prefix=".download-") as out:
                try:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                except BaseException:
                    out.close()
                    os.unlink(out.name)
                    raise
            shutil.move(out.name, dest)

        self._call("GET", f"/runs/{int(run_id)}/artifacts/{artifact_url_path(path)}", consume=save)
        return dest
