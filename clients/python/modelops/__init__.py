"""ModelOps Portal tracking client: experiments, runs, params, metrics and artifacts over /api/v1.

    import modelops
    client = modelops.Client("http://127.0.0.1:5000")
    with client.start_run("demo", params={"lr": 0.1}) as run:
        run.log_metric("loss", 0.5, step=1)
"""

from .client import Client
from .errors import ModelOpsError
from .run import Run

__all__ = ["Client", "ModelOpsError", "Run"]
__version__ = "0.1.0"
