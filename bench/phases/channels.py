"""Channel-native ingest: raw mail (typical ~5 KB messages) and Asterisk cdr-csv lines through the
real ingest service, each next to plain kafka-python producing the same canonical records (what
the adapters make of those bodies) to the same broker in the same run.

The senders are closed-loop threads (each waits for its answer), like a mail gateway's delivery
agents and a PBX's CDR shipper; ingest runs alone in its stack, with its usual worker processes.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx

from bench.baselines import Record, raw_produce
from bench.cpu import Meter
from bench.payloads import BENCH_ID_SECRET
from bench.plan import Context
from bench.stack import Stack
from bench.stats import ratio, summary
from events.catalog import INTERACTION_RECEIVED
from kartoteka.auth import Role
from services.ingest.accept import Accepted, accept
from services.ingest.channels.cdr import PbxConfig, parse_cdr_csv
from services.ingest.channels.email import MailConfig, parse_email

SENDERS = 20  # a mail gateway delivers in parallel (Postfix: 20 per destination by default)
CDR_LINES_PER_REQUEST = 500
TEXT = ("Здравствуйте! Пишу по поводу заказа № {n}: курьер не приехал в назначенное время, "
        "телефон для связи 8 (912) {n:03d}-45-67. Прошу перезвонить до вечера. ") * 4


def mail(n: int) -> bytes:
    """A typical customer mail: encoded headers, text and HTML alternatives, about 5 KB."""
    message = EmailMessage()
    message["From"] = f"Ирина Петрова {n} <irina.{n}@example.ru>"
    message["To"] = "support@shop.example"
    message["Subject"] = f"Заказ № {n}: доставка"
    message["Date"] = "Mon, 20 Nov 2026 10:15:00 +0300"
    message["Message-ID"] = f"<bench-{n}-{time.time_ns()}@example.ru>"
    body = TEXT.format(n=n % 1000)
    message.set_content(body, charset="utf-8", cte="quoted-printable")
    message.add_alternative(f"<html><body><p>{body}</p><p><b>Ирина</b></p></body></html>", subtype="html",
                            charset="utf-8", cte="base64")
    return message.as_bytes()


def cdr_lines(start: int, count: int, run: int) -> bytes:
    at = datetime(2026, 11, 20, 9, 0, 0)
    lines = []
    for n in range(start, start + count):
        begin = at + timedelta(seconds=n % 30_000)
        end = begin + timedelta(seconds=97)
        lines.append(
            f'"","8912{n % 10_000_000:07d}","101","from-trunk","""Клиент {n}"" <8912{n % 10_000_000:07d}>",'
            f'"SIP/trunk-{n:08x}","SIP/101-{n:08x}","Dial","SIP/101,30","{begin:%Y-%m-%d %H:%M:%S}",'
            f'"{begin + timedelta(seconds=7):%Y-%m-%d %H:%M:%S}","{end:%Y-%m-%d %H:%M:%S}",97,90,'
            f'"ANSWERED","DOCUMENTATION","{run}.{n}","/rec/{run}-{n}.wav"')
    return ("\n".join(lines) + "\n").encode()


def run(ctx: Context) -> dict[str, Any]:
    quick = ctx.plan.name.startswith("quick")
    mails = [mail(n) for n in range(1500 if quick else 4000)]
    cdr_bodies = [cdr_lines(i * CDR_LINES_PER_REQUEST, CDR_LINES_PER_REQUEST, time.time_ns())
                  for i in range(60 if quick else 160)]
    stack = Stack(ctx.infra, "channels", ctx.run_dir)
    try:
        stack.start("ingest")
        token = stack.token(Role.channel, "bench-gateway")
        raw_mail = raw_produce(stack.settings, _mail_records(mails), "bench.raw.mail")
        email = _load(stack, "/v1/channels/email", mails, "message/rfc822", token, 1)
        raw_cdr = raw_produce(stack.settings, _cdr_records(cdr_bodies), "bench.raw.cdr")
        cdr = _load(stack, "/v1/channels/telephony/cdr", cdr_bodies, "text/csv", token, CDR_LINES_PER_REQUEST)
    finally:
        stack.stop()
    return {
        "email": {**email, "raw_produce_per_s": raw_mail["per_s"],
                  "ratio_to_raw": ratio(email["per_s"], raw_mail["per_s"]),
                  "mail_bytes_avg": round(sum(map(len, mails)) / len(mails))},
        "cdr": {**cdr, "raw_produce_per_s": raw_cdr["per_s"], "ratio_to_raw": ratio(cdr["per_s"], raw_cdr["per_s"]),
                "lines_per_request": CDR_LINES_PER_REQUEST},
    }


def _load(stack: Stack, path: str, bodies: list[bytes], content_type: str, token: str,
          items: int) -> dict[str, Any]:
    """All bodies once, by SENDERS closed-loop threads: items per second, latencies, and the CPU
    the ingest service spent per item (a figure the other load on a shared machine moves less)."""
    url = stack.url("ingest") + path
    headers = {"Authorization": f"Bearer {token}", "content-type": content_type}
    latencies: list[float] = []
    statuses: list[int] = []  # list.append is atomic across the sender threads

    def send(chunk: list[bytes]) -> None:
        with httpx.Client(timeout=60) as client:
            for body in chunk:
                started = time.perf_counter()
                answer = client.post(url, content=body, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses.append(answer.status_code)

    chunks = [bodies[i::SENDERS] for i in range(SENDERS)]
    meter = Meter(stack.pids()).start()
    own = time.process_time()  # the sender threads run in this process, outside every tree
    started = time.perf_counter()
    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(send, chunks))
    seconds = time.perf_counter() - started
    cpu = {**meter.stop(), "senders": round((time.process_time() - own) / seconds, 3)}
    done = len(bodies) * items
    return {"per_s": round(done / seconds, 1), "requests": len(bodies),
            "seconds": round(seconds, 2), "failures": sum(s not in (200, 202) for s in statuses),
            "senders": SENDERS, "latency_ms": summary(latencies), "cpu_cores": cpu,
            "ingest_cpu_ms_per_item": round(cpu.get("ingest", 0.0) * seconds * 1000 / done, 3)}


def _records(items: list[Any]) -> list[Record]:
    now = datetime.now(UTC)
    found = []
    for raw in items:
        accepted = accept(raw, BENCH_ID_SECRET)
        assert isinstance(accepted, Accepted), accepted
        found.append((accepted.key, accepted.record(now), [("event-type", INTERACTION_RECEIVED.encode())]))
    return found


def _mail_records(mails: list[bytes]) -> list[Record]:
    config, now = MailConfig.from_setting("shop.example"), datetime.now(UTC)
    return _records([parse_email(m, config, now) for m in mails])


def _cdr_records(bodies: list[bytes]) -> list[Record]:
    config = PbxConfig.from_settings("UTC", r"^\d{2,5}$")
    return _records([line for body in bodies for line in parse_cdr_csv(body, config)])
