"""Drives the real portal API as a user would: signs in through the login form, makes a token, uploads a
numeric CSV, trains the mlp template, registers and promotes version 1, registers version 2 (Staging, for
the canary), exports version 1's PyTorch state dict and writes what the peer needs.
Usage: portal_setup.py BASE_URL USER PASSWORD OUT_DIR ROWS EPOCHS. Prints the token on the last line."""
import http.cookiejar, json, random, re, sys, time, urllib.parse, urllib.request, uuid

base, user, password, out, rows, epochs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
FEATURES = [f"x{i}" for i in range(8)]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


login_opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
token = None


def call(method, path, body=None, content_type="application/json", raw=False, via=None):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None: req.add_header("Content-Type", content_type)
    if token: req.add_header("Authorization", "Bearer " + token)
    try:
        with (via or opener).open(req, timeout=120) as r:
            payload = r.read()
    except urllib.error.HTTPError as e:
        if e.code in (301, 302, 303): return e
        raise SystemExit(f"{method} {path}: {e.code} {e.read()[:400]!r}")
    return payload if raw else (json.loads(payload) if payload else None)


page = call("GET", "/login", raw=True).decode()
af = re.search(r'name="__RequestVerificationToken"[^>]*value="([^"]+)"', page).group(1)
form = urllib.parse.urlencode({"__RequestVerificationToken": af, "userName": user, "password": password, "returnUrl": "/"}).encode()
call("POST", "/account/login", form, "application/x-www-form-urlencoded", raw=True, via=login_opener)
token = call("POST", "/api/v1/tokens", {"name": "serving-bench"})["token"]

rng = random.Random(7)
lines = [",".join(FEATURES + ["label"])]
data = []
for _ in range(rows):
    xs = [rng.gauss(0, 1) for _ in FEATURES]
    data.append(xs)
    lines.append(",".join(f"{v:.4f}" for v in xs) + ("," + ("high" if sum(xs[:4]) - sum(xs[4:]) > 0 else "low")))
csv = ("\n".join(lines) + "\n").encode()
boundary = uuid.uuid4().hex
parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nserving-bench\r\n'.encode(),
         f'--{boundary}\r\nContent-Disposition: form-data; name="labelColumn"\r\n\r\nlabel\r\n'.encode(),
         f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="serving-bench.csv"\r\nContent-Type: text/csv\r\n\r\n'.encode() + csv + b"\r\n",
         f"--{boundary}--\r\n".encode()]
dataset = call("POST", "/api/v1/datasets/csv", b"".join(parts), f"multipart/form-data; boundary={boundary}")
run = call("POST", "/api/v1/runs", {"datasetVersionId": dataset["id"], "template": "mlp", "epochs": epochs, "batchSize": 32,
                                    "learningRate": 0.005, "optimizer": "adam", "seed": 11, "validationFraction": 0.2, "testFraction": 0.2})
until = time.time() + 240
while True:
    state = call("GET", f"/api/v1/runs/{run['id']}")
    if state["status"] in ("Finished", "Failed", "Cancelled"): break
    if time.time() > until: raise SystemExit(f"run {run['id']} did not finish: {state['status']}")
    time.sleep(0.5)
if state["status"] != "Finished": raise SystemExit(f"run {run['id']} {state['status']}: {state.get('statusMessage')}")
name = "serving-bench"
def newest(model): return max(v["version"] for v in model["versions"])
v1 = newest(call("POST", f"/api/v1/models/{name}/versions", {"runId": run["id"]}))
call("POST", f"/api/v1/models/{name}/versions/{v1}/stage", {"stage": "Production"})
v2 = newest(call("POST", f"/api/v1/models/{name}/versions", {"runId": run["id"], "allowDuplicate": True}))
call("POST", f"/api/v1/models/{name}/versions/{v2}/stage", {"stage": "Staging"})
open(f"{out}/model.pt", "wb").write(call("GET", f"/api/v1/models/{name}/versions/{v1}/pytorch", raw=True))
n = len(data)
mean = [sum(r[i] for r in data) / n for i in range(len(FEATURES))]
std = [max(1e-6, (sum((r[i] - mean[i]) ** 2 for r in data) / n) ** 0.5) for i in range(len(FEATURES))]
json.dump({"name": name, "version": v1, "canaryVersion": v2, "classes": ["high", "low"], "features": FEATURES, "mean": mean, "std": std},
          open(f"{out}/model.json", "w"))
row = [round(v, 4) for v in data[0]]
open(f"{out}/one.json", "w").write(json.dumps({"inputs": [row]}))
open(f"{out}/batch.json", "w").write(json.dumps({"inputs": [[round(v, 4) for v in r] for r in (data * 2)[:1000]]}))
print(token)
