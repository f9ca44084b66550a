"""The SimPy side of fleetsim's performance comparison (README, *Performance*).

A deliberately simpler rollout than fleetsim's model, written the way a SimPy user would: one
process per device that alternates online sessions (exponential, mean 8 h) and offline gaps
(exponential, mean 2 h), checks in every hour while online, and at its first check-in takes a
slot of a `simpy.Resource` of `--max-in-flight` slots (waiting in its queue while all are
taken), downloads (lognormal, median 20 min), installs (normal, 5 min), reboots (1 min) and
reports; then it keeps checking in until the horizon. No batteries, faults, gates, stages or
per-device random streams: it measures what a general-purpose discrete-event engine costs per
event, not a model as rich as fleetsim's.

    python3 benches/simpy/simple_loop.py --devices 10000 --days 7

prints the wall time, the events processed and the devices updated, as one JSON line.
"""

import argparse
import json
import random
import time

import simpy

HOUR = 3600.0


def device(env, rng, slots, state, interval, horizon):
    yield env.timeout(rng.uniform(0.0, interval))
    updated = False
    while env.now < horizon:
        session_end = env.now + rng.expovariate(1.0 / (8 * HOUR))
        while env.now < session_end and env.now < horizon:
            state["events"] += 1
            if not updated:
                with slots.request() as slot:
                    yield slot
                    yield env.timeout(rng.lognormvariate(7.09, 0.5))  # download, median ≈ 20 min
                    yield env.timeout(max(1.0, rng.normalvariate(300.0, 60.0)))  # install
                    yield env.timeout(60.0)  # reboot
                state["updated"] += 1
                state["events"] += 3
                updated = True
            yield env.timeout(interval)
        state["events"] += 1
        yield env.timeout(rng.expovariate(1.0 / (2 * HOUR)))  # offline


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--max-in-flight", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    start = time.perf_counter()
    rng = random.Random(args.seed)
    env = simpy.Environment()
    slots = simpy.Resource(env, capacity=args.max_in_flight)
    state = {"events": 0, "updated": 0}
    horizon = args.days * 24 * HOUR
    for _ in range(args.devices):
        env.process(device(env, rng, slots, state, HOUR, horizon))
    env.run(until=horizon)
    wall = time.perf_counter() - start
    print(
        json.dumps(
            {
                "engine": "simpy " + simpy.__version__,
                "devices": args.devices,
                "days": args.days,
                "events": state["events"],
                "updated": state["updated"],
                "wall_s": round(wall, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
