from bench.freshness_budget import hops


def test_each_hop_is_the_time_between_its_two_ends_over_the_interactions_that_have_both() -> None:
    times = {
        "a": {"posted": 10.0, "on_interactions": 10.010, "answered": 10.020, "resolved": 10.050,
              "on_customers": 10.060, "projected": 10.100, "seen": 10.105},
        # No commit times (track_commit_timestamp off): only the Kafka and client hops count it.
        "b": {"posted": 20.0, "on_interactions": 20.030, "answered": 20.040, "on_customers": 20.090,
              "seen": 20.140},
    }
    found = hops(times)
    assert found["resolver: fetch, decide, commit"]["n"] == 1
    assert found["resolver: fetch, decide, commit"]["p50"] == 40.0
    assert found["timeline: relay ack, fetch, commit"]["max"] == 40.0
    assert found["ingest before Kafka"]["n"] == 2
    assert found["ingest before Kafka"]["max"] == 30.0
    assert found["202 -> seen (the figure)"]["p50"] == 85.0
    assert found["202 -> seen (the figure)"]["max"] == 100.0
