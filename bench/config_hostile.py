#!/usr/bin/env python3
"""Hostile inputs for `bosun config`: time and peak RSS on each.

Generates, in a temporary directory, inputs of (just under) the accepted
maximum of 16 MiB that stress the YAML front door and the Dockerfile checks:
deep flow and block nesting, huge flat lists, many documents, long scalars,
alias bombs, many keys, a Dockerfile of RUN lines, many Kubernetes documents.
Runs `target/release/bosun config FILE -f json` on each and prints wall and
CPU time, peak RSS (from wait4's ru_maxrss), exit code and the first line
of stderr.

    nice -n 10 python3 bench/config_hostile.py [--bin target/release/bosun] [--only NAME]

Exit code 0 of bosun means "no finding", 1 "findings", 2 "error": for the
hostile inputs 1 or 2 are both fine; what matters is time, memory and that
nothing crashes. Targets: every input under 1 s and 200 MB.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

MAX = 16 * 1024 * 1024 - 64  # under the 16 MiB file limit


def fill(unit, head="", tail=""):
    n = (MAX - len(head) - len(tail)) // len(unit)
    return head + unit * n + tail


def nested_block_mapping():
    out, size, depth = [], 0, 0
    while True:
        line = " " * depth + "a:\n"
        if size + len(line) > MAX:
            break
        out.append(line)
        size += len(line)
        depth += 1
    return "".join(out)


def nested_block_sequence():
    out, size, depth = [], 0, 0
    while True:
        line = " " * depth + "-\n"
        if size + len(line) > MAX:
            break
        out.append(line)
        size += len(line)
        depth += 1
    return "".join(out)


def billion_laughs():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for c in "bcdefghijklmnopqrstuvwxyz":
        lines.append(f"{c}: &{c} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = c
    return "\n".join(lines) + "\n"


def wide_alias():
    # One big anchored list, then as many aliases to it as fit.
    n = 1_000_000
    head = "a: &a [" + ",".join(["1"] * n) + "]\nb: ["
    return fill("*a,", head=head, tail="*a]\n")


def many_keys():
    out, size, i = [], 0, 0
    while True:
        line = f"k{i:08d}: v\n"
        if size + len(line) > MAX:
            break
        out.append(line)
        size += len(line)
        i += 1
    return "".join(out)


def deployment(i):
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app{i}
  namespace: shop
spec:
  template:
    metadata:
      labels: {{app: app{i}}}
    spec:
      containers:
        - name: web
          image: nginx:1.25
          env:
            - name: DATABASE_URL
              value: postgres://app:hunter2hunter2@db:5432/app
---
"""


def k8s_many():
    return fill(deployment(0))[: MAX]


def k8s_many_small():
    unit = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n---\n"
    return fill(unit)


INPUTS = {
    # name: (file name, generator)
    "flow-seq-deep": ("flow-seq.yaml", lambda: fill("[")),
    "flow-map-deep": ("flow-map.yaml", lambda: fill("{a: ")),
    "block-then-flow-deep": ("a-flow.yaml", lambda: fill("[", head="a: ")),
    "flow-seq-deep-closed": ("flow-closed.yaml", lambda: "a: " + "[" * (MAX // 2 - 4) + "]" * (MAX // 2 - 4) + "\n"),
    "json-deep": ("deep.json", lambda: fill("[")),
    "block-map-deep": ("block-map.yaml", nested_block_mapping),
    "block-seq-deep": ("block-seq.yaml", nested_block_sequence),
    "block-seq-inline": ("seq-inline.yaml", lambda: fill("- ", tail="x\n")),
    "flat-list": ("flat-list.yaml", lambda: fill("- 1\n")),
    "flat-flow-list": ("flat-flow.yaml", lambda: fill("1,", head="a: [", tail="1]\n")),
    "json-flat": ("flat.json", lambda: fill("1,", head="[", tail="1]")),
    "many-docs": ("many-docs.yaml", lambda: fill("---\na: 1\n")),
    "many-empty-docs": ("empty-docs.yaml", lambda: fill("---\n")),
    "long-plain-scalar": ("long-plain.yaml", lambda: fill("x", head="a: ", tail="\n")),
    "long-quoted-scalar": ("long-quoted.yaml", lambda: fill("x", head='a: "', tail='"\n')),
    "long-block-scalar": ("long-block.yaml", lambda: fill("  xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", head="a: |\n")),
    "billion-laughs": ("lol.yaml", billion_laughs),
    "wide-alias": ("wide-alias.yaml", wide_alias),
    "many-keys": ("many-keys.yaml", many_keys),
    "flow-many-keys": ("flow-keys.yaml", lambda: fill("k: v, ", head="{", tail="k: v}\n")),
    "k8s-deployments": ("deployments.yaml", k8s_many),
    "k8s-small-pods": ("pods.yaml", k8s_many_small),
    # Accepted inputs, checked in full: the most documents and instructions
    # allowed, every finding folded per rule and file.
    "k8s-10k-deployments": ("deployments.yaml", lambda: deployment(0) * 9999),
    "dockerfile-100k-run": ("Dockerfile", lambda: "FROM ubuntu\n" + "RUN apt-get install curl\n" * 99_999),
    "dockerfile-run": ("Dockerfile", lambda: fill("RUN apt-get install curl\n", head="FROM ubuntu\n")),
    "dockerfile-env": ("Dockerfile", lambda: fill("ENV A=b\n", head="FROM ubuntu\n")),
    "dockerfile-continuation": ("Dockerfile", lambda: fill(" \\\n", head="FROM ubuntu\nRUN echo", tail=" x\n")),
}


def generate(name, path):
    # In a child process: the parent stays small, so the RSS of the forked
    # bosun child (ru_maxrss counts from the fork) is bosun's own.
    subprocess.run([sys.executable, __file__, "--generate", name, path], check=True)


def run(binary, path):
    t0 = time.monotonic()
    p = subprocess.Popen(
        [binary, "config", path, "-f", "json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.monotonic() - t0
    code = os.waitstatus_to_exitcode(status)
    first = err.decode("utf-8", "replace").strip().splitlines()
    cpu = ru.ru_utime + ru.ru_stime
    return dt, cpu, ru.ru_maxrss / 1024, code, (first[0] if first else "")[:100]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/bosun")
    ap.add_argument("--only", action="append")
    ap.add_argument("--generate", nargs=2, metavar=("NAME", "PATH"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.generate:
        name, path = a.generate
        with open(path, "w") as f:
            f.write(INPUTS[name][1]())
        return
    binary = os.path.abspath(a.bin)
    if not os.access(binary, os.X_OK):
        sys.exit(f"no binary at {binary}: cargo build --release -p bosun")
    worst = 0.0
    with tempfile.TemporaryDirectory() as d:
        print(f"{'input':<26} {'MiB':>5} {'wall s':>7} {'cpu s':>6} {'RSS MB':>7} {'exit':>4}  stderr")
        for name, (fname, gen) in INPUTS.items():
            if a.only and name not in a.only:
                continue
            sub = os.path.join(d, name)
            os.mkdir(sub)
            path = os.path.join(sub, fname)
            generate(name, path)
            size = os.path.getsize(path) / (1024 * 1024)
            dt, cpu, rss, code, err = run(binary, path)
            worst = max(worst, dt)
            flag = "  SLOW" if dt > 1.0 else ""
            flag += "  BIG" if rss > 200 else ""
            err = err.replace(sub + "/", "")
            print(f"{name:<26} {size:5.1f} {dt:7.2f} {cpu:6.2f} {rss:7.0f} {code:>4}  {err}{flag}")
            os.remove(path)
    print(f"worst wall time: {worst:.2f} s (wall includes waiting for a busy CPU; cpu is user+sys)")


if __name__ == "__main__":
    main()
