"""The Data Docs open offline: no reference to another host in the site, and a browser with no route out
renders them styled, with status icons, and asks no host for anything.

The browser check runs Debian's Chromium inside a throwaway network namespace that has only loopback,
with a net log, and compares the URLs it requested with those of an ``about:blank`` control run with
the same flags (Chromium's own background requests, which fail there).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from news_pipeline.reporting import datadocs
from tests.io.test_datadocs import RUN, _at, _one_run, _result_links

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# every attribute or CSS reference a browser fetches or a reader follows
_REFERENCE = re.compile(
    r"""(?:src|href|action|poster|srcset)\s*=\s*["']?([^"'\s>]+)|url\(\s*["']?([^"')]+)|@import\s+["']([^"']+)""",
    re.I,
)
_OTHER_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("docs") / "data"
    return datadocs.build_data_docs(_at(data), _one_run(data))


def _references(site_dir: Path) -> dict[str, list[str]]:
    refs: dict[str, list[str]] = {}
    for path in [*site_dir.rglob("*.html"), *site_dir.rglob("*.css")]:
        text = path.read_text(encoding="utf-8")
        refs[str(path.relative_to(site_dir))] = [next(g for g in m.groups() if g) for m in _REFERENCE.finditer(text)]
    return refs


def test_the_site_references_no_other_host(site):
    refs = _references(site.parent)
    assert len(refs) >= 6  # index, 4 results, 2 suites, the stylesheet
    external = {
        page: [u for u in urls if _OTHER_HOST.match(u) and not u.startswith(("data:", "javascript:", "#"))]
        for page, urls in refs.items()
    }
    assert {page: urls for page, urls in external.items() if urls} == {}
    # no copy of GX's 4 MB of fonts and images either: one stylesheet of our own
    assert sorted(p.name for p in (site.parent / "static").rglob("*") if p.is_file()) == ["news_pipeline.css"]


def test_every_page_links_the_stylesheet_and_the_icons_are_in_it(site):
    for page in site.parent.rglob("*.html"):
        sheets = [u for u in _references(site.parent)[str(page.relative_to(site.parent))] if u.endswith(".css")]
        assert sheets, page
        for sheet in sheets:
            assert (page.parent / sheet).resolve() == (site.parent / "static/styles/news_pipeline.css").resolve()
    css = (site.parent / "static/styles/news_pipeline.css").read_text()
    for icon in (".fa-check-circle", ".fa-times", ".fa-exclamation-triangle"):
        assert re.search(re.escape(icon) + r"\{background-image:url\(\"data:image/svg\+xml", css), icon


def _urls_requested(net_log: Path) -> set[str]:
    text = net_log.read_text(encoding="utf-8")
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # a log not closed when the browser ended
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    urls = set()
    for event in log["events"]:
        params = event.get("params") or {}
        for key in ("url", "original_url"):
            value = params.get(key)
            if isinstance(value, str) and value.startswith(("http:", "https:", "ws:", "wss:")):
                urls.add(value.split("?")[0])
    return urls


def _netns_available() -> str | None:
    if not (os.path.exists(CHROMIUM) and shutil.which("ip")):
        return "needs chromium and iproute2's ip (apt-get install -y chromium iproute2)"
    if os.geteuid() != 0:
        return "creating a network namespace needs root"
    return None


@pytest.mark.skipif(_netns_available() is not None, reason=str(_netns_available()))
def test_a_browser_with_no_route_out_renders_them_and_asks_no_host(site, tmp_path):
    ns = f"np-docs-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)

        def chromium(name: str, url: str) -> tuple[set[str], Path]:
            shot, net_log = tmp_path / f"{name}.png", tmp_path / f"{name}.json"
            command = [
                "ip", "netns", "exec", ns, CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", f"--log-net-log={net_log}",
                "--net-log-capture-mode=Everything", "--virtual-time-budget=3000", "--window-size=1200,900",
                f"--screenshot={shot}", url,
            ]  # fmt: skip
            env = {**os.environ, "HOME": str(tmp_path)}
            subprocess.run(command, capture_output=True, timeout=120, env=env, check=True)
            return _urls_requested(net_log), shot

        background, _ = chromium("blank", "about:blank")
        result_page = site.parent / unquote(_result_links(site)[0])
        for name, page in (("index", site), ("result", result_page)):
            requested, shot = chromium(name, page.as_uri())
            assert requested - background == set(), name
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000, name
    finally:
        subprocess.run(["ip", "netns", "delete", ns], check=False)
    assert RUN in site.read_text()
