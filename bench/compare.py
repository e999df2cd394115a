#!/usr/bin/env python3
"""Markdown tables, with ratios and targets, from bench/run.py's JSON.

Usage: bench/compare.py [bench/results/latest.json]
Exits 0 whatever the numbers: missing a target is reported, not fatal.
"""

import json
import sys
from pathlib import Path

# The targets of the performance issue.
COLD_VS_SYFT = 10.0
COLD_VS_TRIVY = 3.0
COLD_VS_FLOOR = 1.3
WARM_MAX_S = 0.050
RSS_MAX_MB = 150


def secs(m):
    if m is None:
        return "–"
    v = m["median_s"]
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def with_min(m):
    if m is None:
        return "–"
    v, lo = m["median_s"], m["min_s"]
    if v < 1:
        return f"{v * 1000:.1f} ms (min {lo * 1000:.1f})"
    return f"{v:.2f} s (min {lo:.2f})"


def ratio(a, b):
    """How many times `a` is slower than `b` (medians)."""
    if a is None or b is None or b["median_s"] == 0:
        return None
    return a["median_s"] / b["median_s"]


def fmt_ratio(r, target=None, at_least=True):
    if r is None:
        return "–"
    s = f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"
    if target is not None:
        ok = r >= target if at_least else r <= target
        s += " ✓" if ok else f" ✗ (target {'≥' if at_least else '≤'}{target:g}x)"
    return s


def mb(kb):
    return f"{kb / 1024:.0f} MB" if kb else "–"


def get(img, tool, mode):
    return img.get(tool, {}).get(mode)


def render(r):
    out = []
    m = r["machine"]
    out.append(f"Measured {r['date']} on {m['nproc']} cores ({m['cpu']}), {m['mem_gib']} GiB RAM, "
               f"Linux {m['kernel']}; load average before {r['load_before'][0]:.2f}, "
               f"after {r['load_after'][0]:.2f}.")
    v = r["versions"]
    out.append(f"Tools: {v['bosun']}; {v['syft']}; {v['trivy']}; {v['hyperfine']}.")
    out.append("")

    large = r["images"].get("large")
    if large:
        out.append("### `large` (cold = empty cache; median of "
                   f"{large['bosun']['cold']['runs']} runs, min in brackets)")
        out.append("")
        out.append("| | wall time | bosun is faster by | max RSS |")
        out.append("|---|---|---|---|")
        b = get(large, "bosun", "cold")
        out.append(f"| bosun cold | {with_min(b)} | | {mb(large['bosun']['max_rss_kb'])} |")
        out.append(f"| decompression floor | {with_min(get(large, 'floor', 'cold'))} | "
                   f"bosun / floor = {fmt_ratio(ratio(b, get(large, 'floor', 'cold')), COLD_VS_FLOOR, False)} "
                   f"| {mb(large['floor']['max_rss_kb'])} |")
        out.append(f"| Syft cold | {with_min(get(large, 'syft', 'cold'))} | "
                   f"{fmt_ratio(ratio(get(large, 'syft', 'cold'), b), COLD_VS_SYFT)} | "
                   f"{mb(large['syft']['max_rss_kb'])} |")
        out.append(f"| Trivy cold | {with_min(get(large, 'trivy', 'cold'))} | "
                   f"{fmt_ratio(ratio(get(large, 'trivy', 'cold'), b), COLD_VS_TRIVY)} | "
                   f"{mb(large['trivy']['max_rss_kb'])} |")
        bw = get(large, "bosun", "warm")
        out.append(f"| bosun warm | {with_min(bw)} | | |")
        out.append(f"| Trivy warm | {with_min(get(large, 'trivy', 'warm'))} | "
                   f"{fmt_ratio(ratio(get(large, 'trivy', 'warm'), bw))} | |")
        rss = large["bosun"]["max_rss_kb"] / 1024
        out.append("")
        out.append(f"bosun peak memory on `large`: {rss:.0f} MB "
                   + ("✓" if rss < RSS_MAX_MB else f"✗ (target < {RSS_MAX_MB} MB)")
                   + f". Floor: {large['floor']['floor']['unpacked_bytes'] / 1e9:.2f} GB unpacked "
                   f"from {large['floor']['floor']['compressed_bytes'] / 1e6:.0f} MB in "
                   f"{large['floor']['floor']['layers']} layers.")
        out.append("")

    out.append("### Every image (medians; warm = layer cache filled by a previous run)")
    out.append("")
    out.append("| image | bosun cold | floor | bosun warm | Syft cold | Syft warm | Trivy cold | Trivy warm "
               "| Syft/bosun cold | Trivy/bosun cold | Trivy/bosun warm | packages bosun / Syft / Trivy "
               "| max RSS bosun / Syft / Trivy |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, img in r["images"].items():
        bc, bw = get(img, "bosun", "cold"), get(img, "bosun", "warm")
        warm = secs(bw)
        # The warm target is for the fixture images, not `large`.
        if bw is not None and name != "large":
            warm += " ✓" if bw["median_s"] < WARM_MAX_S else " ✗"
        out.append(
            f"| {name} | {secs(bc)} | {secs(get(img, 'floor', 'cold'))} | {warm} "
            f"| {secs(get(img, 'syft', 'cold'))} | {secs(get(img, 'syft', 'warm'))} "
            f"| {secs(get(img, 'trivy', 'cold'))} | {secs(get(img, 'trivy', 'warm'))} "
            f"| {fmt_ratio(ratio(get(img, 'syft', 'cold'), bc))} "
            f"| {fmt_ratio(ratio(get(img, 'trivy', 'cold'), bc))} "
            f"| {fmt_ratio(ratio(get(img, 'trivy', 'warm'), bw))} "
            f"| {img['bosun']['packages']} / {img['syft']['packages']} / {img['trivy']['packages']} "
            f"| {mb(img['bosun']['max_rss_kb'])} / {mb(img['syft']['max_rss_kb'])} / "
            f"{mb(img['trivy']['max_rss_kb'])} |")
    out.append("")
    out.append(f"Warm target for the fixture images: under {WARM_MAX_S * 1000:.0f} ms (✓/✗ above).")
    return "\n".join(out)


def main():
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results" / "latest.json")
    with open(path) as f:
        print(render(json.load(f)))


if __name__ == "__main__":
    main()
