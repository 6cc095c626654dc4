"""The one exception type the client raises for a failed call."""


class ModelOpsError(Exception):
    """A call the portal refused, or one that never reached it.

    ``status`` is the HTTP status (None when no response came back: the portal was unreachable),
    ``title`` and ``detail`` come from the server's ProblemDetails body, so ``str(error)`` is the
    same sentence the portal's UI would show.
    """

    def __init__(self, status, title, detail, method=None, url=None):
        self.status = status
        self.title = title or ""
        self.detail = detail or ""
        self.method = method
        self.url = url
        super().__init__(self._message())

    def _message(self):
        where = f" ({self.method} {self.url})" if self.method and self.url else ""
        head = f"{self.status} {self.title}" if self.status is not None else self.title
        text = f"{head}: {self.detail}" if self.detail else head
        return text + where
