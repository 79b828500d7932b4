"""The raw HTTP baseline of single deliveries: plain FastAPI on uvicorn (uvloop, httptools) answering
a POST of one ~1 KB interaction, validated into a plain pydantic model, with 202 and an id; no
Kafka, no database, none of our code.

``python -m bench.rawhttp HOST PORT WORKERS`` serves it as ingest is served: that many worker
processes, each on its own SO_REUSEPORT socket (``kartoteka.entrypoints.serving``).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import signal
import socket
import sys
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class Customer(BaseModel):
    """Who the interaction is with."""

    phone: str | None = None
    email: str | None = None
    name: str | None = None
    handle: str | None = None


class Interaction(BaseModel):
    """The contract's fields, plainly typed."""

    channel: str
    external_id: str
    occurred_at: datetime
    direction: str
    customer: Customer
    agent_id: str | None = None
    subject: str | None = None
    body: str | None = None
    details: dict[str, Any] = {}


app = FastAPI()


@app.post("/v1/interactions", status_code=202)
async def post_interaction(interaction: Interaction) -> JSONResponse:
    """Answers as ingest does, with an id derived from the channel and the external id."""
    digest = hashlib.sha1(f"{interaction.channel}:{interaction.external_id}".encode()).hexdigest()
    return JSONResponse({"id": digest, "status": "accepted"}, 202)


def _worker(host: str, port: int) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    config = uvicorn.Config("bench.rawhttp:app", host=host, port=port, loop="uvloop", http="httptools",
                            log_config=None, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: list[str]) -> int:
    host, port, workers = argv[0], int(argv[1]), int(argv[2])
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker, args=(host, port), daemon=True) for _ in range(workers)]
    for process in processes:
        process.start()
    # Blocked only now: a spawned child would inherit the mask and ignore its terminate().
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
