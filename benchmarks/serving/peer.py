"""The peer: the portal's MLP, from its PyTorch state-dict export, served by FastAPI + uvicorn + PyTorch
(Debian's python3-fastapi, python3-uvicorn, python3-torch), the stack `mlflow models serve` uses.
Same body as the portal ({"inputs": [[...], ...]}), validated by a pydantic model (row count and width,
finite numbers, at most 10,000 rows), the same answer shape (label, classIndex, probabilities per class).
Usage: peer.py STATE_DICT MODEL_JSON PORT [WORKERS]; MODEL_JSON holds classes, feature names, mean and std."""
import json, math, os, sys
from typing import List

import torch
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
import uvicorn

STATE, META, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
WORKERS = int(sys.argv[4]) if len(sys.argv) > 4 else 1
torch.set_num_threads(1)
meta = json.load(open(META))
classes, features = meta["classes"], meta["features"]
mean = torch.tensor(meta["mean"], dtype=torch.float32)
std = torch.tensor(meta["std"], dtype=torch.float32)


def build(state):
    """nn.Sequential as the portal's mlp template writes it: Linear, [BatchNorm1d], ReLU, [Dropout], ..., Linear."""
    indices = sorted({int(k.split(".")[0]) for k in state})
    layers, previous = [], None
    for i in range(indices[-1] + 1):
        w = state.get(f"{i}.weight")
        if w is not None and w.dim() == 2:
            layer = torch.nn.Linear(w.shape[1], w.shape[0])
        elif f"{i}.running_mean" in state:
            layer = torch.nn.BatchNorm1d(state[f"{i}.running_mean"].shape[0])
        elif previous in ("linear", "bn"):
            layer = torch.nn.ReLU()
        else:
            layer = torch.nn.Identity()  # dropout: nothing in eval mode
        previous = "linear" if isinstance(layer, torch.nn.Linear) else "bn" if isinstance(layer, torch.nn.BatchNorm1d) else "other"
        layers.append(layer)
    model = torch.nn.Sequential(*layers)
    model.load_state_dict({k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}, strict=False)
    return model.eval()


model = build(torch.load(STATE))


class Body(BaseModel):
    inputs: List[List[float]]


app = FastAPI()


@app.post("/predict")
def predict(body: Body):
    rows = body.inputs
    if not rows:
        raise HTTPException(400, "'inputs' is empty.")
    if len(rows) > 10_000:
        raise HTTPException(400, f"'inputs' holds {len(rows)} rows; at most 10000 are accepted per request.")
    for r, row in enumerate(rows):
        if len(row) != len(features):
            raise HTTPException(400, f"inputs[{r}]: expected {len(features)} features, got {len(row)}.")
        if not all(math.isfinite(v) for v in row):
            raise HTTPException(400, f"inputs[{r}]: not a finite number.")
    with torch.no_grad():
        x = (torch.tensor(rows, dtype=torch.float32) - mean) / std
        p = torch.softmax(model(x), dim=1)
    best = p.argmax(dim=1).tolist()
    values = p.tolist()
    return {"model": meta.get("name", "peer"), "version": meta.get("version", 1), "predictions": [
        {"label": classes[b], "classIndex": b, "probabilities": dict(zip(classes, v))} for b, v in zip(best, values)]}


if __name__ == "__main__":
    uvicorn.run("peer:app" if WORKERS > 1 else app, host="127.0.0.1", port=PORT, workers=WORKERS, log_level="warning", access_log=False)
