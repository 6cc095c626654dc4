"""The client's own behaviour against a scripted stand-in for the portal (standard library only).

Run: python3 -m unittest discover -s clients/python/tests
"""

import json
import os
import sys
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import modelops  # noqa: E402
from modelops import ModelOpsError  # noqa: E402

RUN = {"id": 5, "experimentId": 7, "name": "r", "status": "Running", "params": {}, "tags": {}}


class FakePortal:
    """Answers like the portal; `script` holds canned answers to hand out first, per 'METHOD /path'."""

    def __init__(self):
        self.requests = []
        self.script = {}
        self.experiments = []
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                portal.requests.append((self.command, self.path, dict(self.headers), body))
                status, payload = portal.answer(self.command, self.path, body)
                data = payload if isinstance(payload, bytes) else (json.dumps(payload).encode() if payload is not None else b"")
                self.send_response(status)
                is_problem = status >= 400 and not isinstance(payload, bytes)
                self.send_header("Content-Type", "application/problem+json" if is_problem else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def answer(self, method, path, body):
        route = f"{method} {path.split('?')[0]}"
        canned = self.script.get(route)
        if canned:
            return canned.pop(0)
        if route == "GET /api/v1/experiments":
            return 200, self.experiments
        if route == "POST /api/v1/experiments":
            return 201, {"id": 7, "name": json.loads(body)["name"]}
        if route == "POST /api/v1/experiments/7/runs":
            return 201, dict(RUN, params=json.loads(body).get("params", {}))
        if route == "PATCH /api/v1/runs/5":
            return 200, dict(RUN, status=json.loads(body)["status"])
        if route == "POST /api/v1/runs/5/log-batch":
            return 204, None
        if method == "PUT" and path.startswith("/api/v1/runs/5/artifacts/"):
            return 201, {"path": path, "sizeBytes": len(body)}
        if method == "GET" and path.startswith("/api/v1/runs/5/artifacts/"):
            return 200, b"artifact bytes"
        return 404, {"title": "Not found", "detail": f"No route {route}."}

    def batches(self):
        return [json.loads(b) for m, p, _, b in self.requests if p.endswith("/log-batch")]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ClientTests(unittest.TestCase):
    def setUp(self):
        self.portal = FakePortal()
        self.client = modelops.Client(self.portal.url, backoff=0.01)

    def tearDown(self):
        self.portal.close()

    def start(self, **kwargs):
        return self.client.start_run(7, **kwargs)

    def test_url_and_token_come_from_the_environment_and_the_token_is_sent_as_bearer(self):
        with mock.patch.dict(os.environ, {"MODELOPS_URL": self.portal.url, "MODELOPS_TOKEN": "mop_abc"}):
            modelops.Client().list_experiments()
        self.assertEqual(self.portal.requests[-1][2].get("Authorization"), "Bearer mop_abc")

    def test_no_token_sends_no_authorization_header(self):
        with mock.patch.dict(os.environ, {"MODELOPS_TOKEN": ""}):
            modelops.Client(self.portal.url).list_experiments()
        self.assertNotIn("Authorization", self.portal.requests[-1][2])

    def test_non_finite_and_non_numeric_metric_values_are_refused_before_sending(self):
        run = self.start()
        for bad in (float("nan"), float("inf"), -float("inf")):
            with self.assertRaisesRegex(ValueError, "not a finite number"):
                run.log_metric("loss", bad)
        with self.assertRaises(TypeError):
            run.log_metric("loss", "0.5")
        run.flush()
        self.assertEqual(self.portal.batches(), [])

    def test_keys_the_server_would_refuse_are_refused_at_the_call(self):
        run = self.start()
        for bad in ("", "a//b", "../x", "a/./b", "/a", "x" * 251, "bad!char", "naïve"):
            with self.assertRaises(ValueError, msg=bad):
                run.log_metric(bad, 1.0)
        run.log_metric("val/loss 2.x-y_z", 1.0)

    def test_metrics_are_sent_in_batches_of_the_server_limit(self):
        run = self.start()
        for step in range(2500):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        self.assertEqual([len(b["metrics"]) for b in self.portal.batches()], [1000, 1000])
        run.finish()
        self.assertEqual([len(b.get("metrics", [])) for b in self.portal.batches()], [1000, 1000, 500])
        self.assertEqual(self.portal.requests[-1][0], "PATCH")
        self.assertEqual(json.loads(self.portal.requests[-1][3]), {"status": "Finished"})

    def test_params_and_tags_flush_at_one_hundred(self):
        run = self.start()
        run.log_params({f"p{i}": i for i in range(150)})
        run.set_tags({f"t{i}": i for i in range(99)})
        self.assertEqual([len(b.get("params", [])) for b in self.portal.batches()], [100])
        run.flush()
        last = self.portal.batches()[-1]
        self.assertEqual((len(last["params"]), len(last["tags"])), (50, 99))
        self.assertEqual(last["params"][0], {"key": "p100", "value": "100"})
        run.log_param("flag", True)
        run.flush()
        self.assertEqual(self.portal.batches()[-1]["params"], [{"key": "flag", "value": "true"}])  # as the server writes a JSON true

    def test_a_batch_retried_after_a_503_is_an_exact_duplicate(self):
        self.portal.script["POST /api/v1/runs/5/log-batch"] = [(503, {"title": "Busy", "detail": "Try later."})]
        run = self.start()
        run.log_metrics({"loss": 0.5, "acc": 0.9}, step=3)
        run.flush()
        first, second = self.portal.batches()
        self.assertEqual(first, second)
        self.assertTrue(all(isinstance(p["timestamp"], int) and p["step"] == 3 for p in first["metrics"]))
        self.assertEqual(self.client.stats["retries"], 1)
        self.assertIn("503 Busy: Try later.", self.client.stats["retry_reasons"][0])

    def test_creating_a_run_is_not_retried_after_a_500_since_it_may_exist(self):
        self.portal.script["POST /api/v1/experiments/7/runs"] = [(500, {"title": "Unexpected error", "detail": "x"})]
        with self.assertRaises(ModelOpsError) as caught:
            self.start()
        self.assertEqual(caught.exception.status, 500)
        self.assertEqual(sum(1 for r in self.portal.requests if r[0] == "POST"), 1)

    def test_connection_refused_is_retried_then_raised_with_no_status(self):
        client = modelops.Client("http://127.0.0.1:1", retries=2, backoff=0.01)
        with self.assertRaises(ModelOpsError) as caught:
            client.list_experiments()
        self.assertIsNone(caught.exception.status)
        self.assertEqual(client.stats["retries"], 2)

    def test_the_server_sentence_reaches_the_exception(self):
        detail = "Param 'lr' is already logged as '0.1'; params are write-once."
        run = self.start(params={"lr": 0.1})
        self.portal.script["POST /api/v1/runs/5/log-batch"] = [(409, {"title": "Conflict", "status": 409, "detail": detail})]
        run.log_param("lr", 0.1)  # the same value: nothing to send
        self.assertEqual(self.portal.batches(), [])
        with self.assertRaises(ModelOpsError) as caught:
            run.log_param("lr", 0.2)  # a different one is sent at once, so the 409 lands here
        self.assertEqual((caught.exception.status, caught.exception.detail), (409, detail))
        self.assertIn(detail, str(caught.exception))

    def test_a_refused_batch_is_dropped_so_later_flushes_are_not_stuck(self):
        run = self.start()
        self.portal.script["POST /api/v1/runs/5/log-batch"] = [(400, {"title": "Invalid", "detail": "bad"})]
        run.log_metric("loss", 1.0)
        with self.assertRaises(ModelOpsError):
            run.flush()
        run.log_metric("loss", 2.0)
        run.flush()
        self.assertEqual(self.portal.batches()[-1]["metrics"][0]["value"], 2.0)

    def test_leaving_the_block_with_an_exception_marks_the_run_failed_after_flushing(self):
        with self.assertRaisesRegex(RuntimeError, "boom"):
            with self.start() as run:
                run.log_metric("loss", 1.0)
                raise RuntimeError("boom")
        self.assertEqual(len(self.portal.batches()), 1)
        self.assertEqual(json.loads(self.portal.requests[-1][3]), {"status": "Failed"})

    def test_leaving_the_block_normally_marks_the_run_finished(self):
        with self.start() as run:
            run.set_tag("team", "vision")
        self.assertEqual(json.loads(self.portal.requests[-1][3]), {"status": "Finished"})
        self.assertEqual(run.status, "Finished")

    def test_get_or_create_survives_losing_the_creation_race(self):
        conflict = {"title": "Conflict", "detail": "An experiment named 'demo' exists."}
        self.portal.script["GET /api/v1/experiments"] = [(200, [])]
        self.portal.script["POST /api/v1/experiments"] = [(409, conflict)]
        self.portal.experiments = [{"id": 9, "name": "demo"}]
        self.assertEqual(self.client.get_or_create_experiment("demo")["id"], 9)

    def test_artifact_paths_are_quoted_per_segment_and_the_file_is_streamed(self):
        run = self.start()
        with tempfile.TemporaryDirectory() as folder:
            local = os.path.join(folder, "weights #1.json")
            with open(local, "wb") as f:
                f.write(b'{"w": [1, 2]}')
            run.log_artifact(local, "model dir/v1")
            method, path, headers, body = self.portal.requests[-1]
            self.assertEqual((method, path), ("PUT", "/api/v1/runs/5/artifacts/model%20dir/v1/weights%20%231.json"))
            self.assertEqual(body, b'{"w": [1, 2]}')
            self.assertEqual(headers["Content-Type"], "application/octet-stream")
            with self.assertRaises(ValueError):
                self.client.upload_artifact(5, "../escape", local)
            saved = run.download_artifact("model dir/v1/weights #1.json", folder)
            self.assertEqual(saved, local)
            with open(saved, "rb") as f:
                self.assertEqual(f.read(), b"artifact bytes")

    def test_search_follows_page_tokens(self):
        self.portal.script["POST /api/v1/runs/search"] = [
            (200, {"runs": [{"id": 3}, {"id": 2}], "nextPageToken": "t1", "total": 3}),
            (200, {"runs": [{"id": 1}], "nextPageToken": None, "total": 3}),
        ]
        ids = [r["id"] for r in self.client.search_runs([7], filter="metrics.acc > 0.5", order_by="metrics.acc DESC", max_results=2)]
        self.assertEqual(ids, [3, 2, 1])
        bodies = [json.loads(b) for m, p, _, b in self.portal.requests if p == "/api/v1/runs/search"]
        self.assertEqual(bodies[0], {"maxResults": 2, "experimentIds": [7], "filter": "metrics.acc > 0.5", "orderBy": ["metrics.acc DESC"]})
        self.assertEqual(bodies[1]["pageToken"], "t1")


if __name__ == "__main__":
    unittest.main()
