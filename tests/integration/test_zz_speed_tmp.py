import time, psycopg, os, pytest, json, subprocess
from tests.support.kafka_tools import workload, produce
from tests.support.workers import spawn, wait_until

def counts(dsn):
    with psycopg.connect(dsn) as c:
        t = c.execute("SELECT count(*) FROM timeline").fetchone()[0]
        a = c.execute("SELECT count(*) FROM identity_events WHERE topic LIKE '%%Attribution%%'").fetchone()[0]
        n = c.execute("SELECT count(*) FROM identity_events").fetchone()[0]
    return a, n, t

@pytest.mark.parametrize("batch", ["2000"])
def test_speed(infra, monkeypatch, batch):
    monkeypatch.setenv("KARTOTEKA_BATCH_MAX_RECORDS", batch)
    settings = infra.new_settings()
    w = workload()
    produce(settings, settings.topic("interactions.v1"), w.records)
    procs = [spawn(settings, n) for n in ("resolver",)]
    try:
        t1 = time.monotonic()
        last = None
        while True:
            c = counts(settings.dsn)
            if c != last:
                print(round(time.monotonic() - t1, 2), c)
                last = c
            if c[0] == 5000 or time.monotonic() - t1 > 25:
                break
            time.sleep(0.1)
            if int(time.monotonic() - t1) % 5 == 0:
                print(subprocess.run(["py-spy", "dump", "--pid", str(procs[0].pid)], capture_output=True, text=True).stdout[-3000:])
                time.sleep(1)
    finally:
        for p in procs:
            p.kill(); p.wait()
        for p in procs:
            print(p.stderr.read()[-3000:].decode())
