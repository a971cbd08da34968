r"""Compare llama.cpp builds and settings side by side, in one run, in child processes.

    python -m app.llm.build_bench --run default@gpu=0,bufts=0 \\
        --run no-amx=/path/to/site-packages@gpu=0,bufts=1 --model a.gguf --model b.gguf

Each `--run NAME[=SITE]@SETTING` is one llama-cpp-python install (SITE is put first on the
child's PYTHONPATH; none means this interpreter's own) with one setting. Every round runs
each model with each run in turn, the order rotating from round to round, so load from
elsewhere hits all of them alike; medians count. A crashed child is reported with its signal.
Also:

    python -m app.llm.build_bench --quantize SRC.gguf DST.gguf Q4_K_M

requantizes a model with llama.cpp's own quantizer (to measure weight repacking on Q4_K).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.core.models import spec_for_file
from app.core.preflight import RunSettings

FTYPES = {"Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q4_K_M": 15, "Q5_K_M": 17}


@dataclass(frozen=True)
class Run:
    """One build with one setting."""

    name: str
    site: str
    settings: RunSettings


def parse_run(text: str) -> Run:
    """`NAME[=SITE]@gpu=N,bufts=0|1` → Run."""
    head, _, key = text.partition("@")
    name, _, site = head.partition("=")
    return Run(name, site, RunSettings.from_key(key))


def quantize(src: Path, dst: Path, kind: str) -> None:
    """Requantize `src` into `dst` as `kind` (allowing requantization of a quantized model)."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[kind]
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0:
        raise SystemExit(f"quantize failed with code {rc}")


def compare(runs: list[Run], models: list[Path], rounds: int) -> list[dict[str, object]]:
    """Median prompt and decode tokens/s of every (model, run), measured alternately."""
    from app.llm.preflight import Preflight

    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    failures: dict[tuple[str, str], str] = {}
    for round_no in range(rounds):
        order = runs[round_no % len(runs) :] + runs[: round_no % len(runs)]  # rotate the order
        for model in models:
            spec = spec_for_file(model)
            for run in order:
                env = {"PYTHONPATH": os.pathsep.join(filter(None, [run.site, *sys.path]))}
                checker = Preflight(Path(tempfile.gettempdir()), timeout_s=600, env=env)
                outcome = checker.run_probe(spec, run.settings, tokens=128, prompt_tokens=512)
                key = (model.name, f"{run.name} ({run.settings.key})")
                if outcome.ok:
                    samples.setdefault(key, []).append(
                        (outcome.prompt_tokens_per_s, outcome.tokens_per_s)
                    )
                else:
                    failures[key] = outcome.reason()
    rows = []
    for model in models:
        for run in runs:
            key = (model.name, f"{run.name} ({run.settings.key})")
            got = samples.get(key, [])
            rows.append(
                {
                    "model": key[0],
                    "run": key[1],
                    "prompt_tokens_per_s": round(statistics.median(p for p, _ in got), 1)
                    if got
                    else None,
                    "tokens_per_s": round(statistics.median(d for _, d in got), 1) if got else None,
                    "failed": failures.get(key, ""),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; prints a Markdown table."""
    parser = argparse.ArgumentParser(prog="build_bench")
    parser.add_argument("--run", action="append", default=[], type=parse_run)
    parser.add_argument("--model", action="append", default=[], type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quantize", nargs=3, metavar=("SRC", "DST", "TYPE"))
    args = parser.parse_args(argv)
    if args.quantize:
        src, dst, kind = args.quantize
        quantize(Path(src), Path(dst), kind)
        return 0
    rows = compare(args.run, args.model, args.rounds)
    print("| model | build (setting) | prompt tokens/s | decode tokens/s |")
    print("|---|---|---|---|")
    for row in rows:
        if row["failed"]:
            print(f"| {row['model']} | {row['run']} | {row['failed']} | — |")
        else:
            print(
                f"| {row['model']} | {row['run']} | {row['prompt_tokens_per_s']} | "
                f"{row['tokens_per_s']} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
