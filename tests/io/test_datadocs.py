"""Great Expectations Data Docs of a run: built from stored results, opened in a real headless browser."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin

import pytest

from news_pipeline.catalog import Catalog
from news_pipeline.reporting import datadocs
from tests.unit.validate.test_validate import article, check

RUN = "20251121T140512Z-3fa2c1"
DAY1, DAY2 = dt.date(2025, 6, 1), dt.date(2025, 6, 2)
CHROMIUM = Path("/usr/bin/chromium")


class _Page(HTMLParser):
    """Text and links of a page as a reader sees them: no script or style contents."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.links: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))

    @property
    def text(self) -> str:
        return " ".join(self.texts)


def _at(data_dir: Path) -> Catalog:
    """The locations of a local data folder (its own work folder)."""
    return Catalog(data_dir, data_dir)


def _one_run(data_dir: Path, run_id: str = RUN) -> list[Path]:
    """Two partitions of one run: the first with two rejected rows and a failed partition rule."""
    first = check(article("a"), article("bad-title", title=""), article("short", word_count=3), n_files=4)
    second = check(article("a"), article("b"))
    return [
        *datadocs.save_validation(_at(data_dir), run_id, DAY1, first),
        *datadocs.save_validation(_at(data_dir), run_id, DAY2, second),
    ]


def _result_links(index: Path) -> list[str]:
    return sorted({link for link in _Page(index.read_text()).links if link.startswith("validations/")})


def test_validation_keeps_the_raw_gx_results():
    result = check(article("a"), article("b", title=""))
    row, partition = result.gx_results
    assert (row.suite_name, partition.suite_name) == ("articles.row", "articles.partition")
    assert row.success is False and partition.success is True  # a rejected row fails the row suite
    assert len(row.results) + len(partition.results) == len(result.results)
    assert "gx_results" not in repr(result)


def test_saved_results_are_small_and_name_run_and_partition(tmp_path):
    paths = _one_run(tmp_path)
    stored = _at(tmp_path).gx_results / RUN
    assert paths == [
        stored / "2025-06-01/articles.row.json",
        stored / "2025-06-01/articles.partition.json",
        stored / "2025-06-02/articles.row.json",
        stored / "2025-06-02/articles.partition.json",
    ]
    doc = json.loads(paths[0].read_text())
    assert doc["meta"]["run_id"] == {"run_name": f"run-{RUN}", "run_time": "2025-11-21T14:05:12+00:00"}
    assert doc["meta"]["batch_spec"]["data_asset_name"] == "articles ingest_date=2025-06-01"
    (title,) = [r["result"] for r in doc["results"] if r["expectation_config"]["meta"]["rule"] == "title_not_empty"]
    assert title["unexpected_count"] == 1 and "unexpected_index_query" not in title
    assert title["unexpected_index_list"] == [{"title_length": 0, "doc_id": "bad-title"}]
    assert title["partial_unexpected_counts"] == [{"value": 0, "count": 1}]


def test_docs_of_a_run_link_every_partition_result(tmp_path, monkeypatch):
    cwd, data_dir = tmp_path / "cwd", tmp_path / "data"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # GX must write nothing outside data_dir (no gx/, no uncommitted/)
    paths = _one_run(data_dir)

    index = datadocs.build_data_docs(_at(data_dir), paths)

    assert index == data_dir / "reports" / "data_docs" / "index.html" and index.exists()
    assert list(cwd.iterdir()) == []
    assert {p.name for p in data_dir.iterdir()} == {"reports", "state"}
    links = _result_links(index)
    assert len(links) == 4
    for link in links:
        assert (index.parent / unquote(link)).exists()
    for day in ("2025-06-01", "2025-06-02"):
        assert {link.split("/")[2] for link in links if day in link} == {"row", "partition"}
        assert all(f"/run-{RUN}/20251121T140512.000000Z/" in link for link in links)
    # the suite pages the results link to exist, with the thresholds the run used
    suite_page = index.parent / "expectations" / "articles" / "row.html"
    assert "greater than or equal to 15" in _Page(suite_page.read_text()).text


def test_a_later_run_is_added_and_old_runs_are_pruned(tmp_path):
    _one_run(tmp_path)
    datadocs.build_data_docs(_at(tmp_path))
    later = "20251122T090000Z-aaaaaa"
    index = datadocs.build_data_docs(_at(tmp_path), _one_run(tmp_path, later))
    links = _result_links(index)
    assert len(links) == 8 and {f"run-{RUN}", f"run-{later}"} == {link.split("/")[3] for link in links}

    index = datadocs.build_data_docs(_at(tmp_path), [], keep_runs=1)
    assert {link.split("/")[3] for link in _result_links(index)} == {f"run-{later}"}
    assert [p.name for p in _at(tmp_path).gx_results.iterdir()] == [later]
    assert not list((index.parent / "validations").rglob(f"*{RUN}*/*.html"))


def test_a_run_id_that_reads_as_a_date_with_an_impossible_offset_gets_its_pages(tmp_path):
    # GX reads the run name as a date for a page's title: this suffix made dateutil read a time zone
    # offset of -26:09, comparing it raised, and GX dropped the run's pages
    run_id = "20251121T140512Z-2609ad"
    index = datadocs.build_data_docs(_at(tmp_path), _one_run(tmp_path, run_id))
    links = _result_links(index)
    assert len(links) == 4 and all((index.parent / unquote(link)).exists() for link in links)


def test_run_report_hook_never_raises(tmp_path, monkeypatch):
    assert datadocs.build_run_docs(_at(tmp_path), "no-such-run") is None  # nothing validated, nothing built
    _one_run(tmp_path)
    index = datadocs.build_run_docs(_at(tmp_path), RUN)
    assert index == str(tmp_path / "reports" / "data_docs" / "index.html")
    assert datadocs.build_run_docs(_at(tmp_path), "no-such-run") == index  # the existing site

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(datadocs, "build_data_docs", broken)
    assert datadocs.build_run_docs(_at(tmp_path), RUN) is None


def _chromium(tmp_path: Path, url: str, *args: str) -> str:
    """Run headless Chromium offline (every host name fails to resolve) and return its stdout."""
    profile = tmp_path / "chromium-profile"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        *args,
        url,
    ]
    env = {**os.environ, "HOME": str(tmp_path)}  # crash reports and caches stay in tmp_path
    out = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)"
)
def test_docs_render_in_a_headless_browser(tmp_path):
    index = datadocs.build_data_docs(_at(tmp_path / "data"), _one_run(tmp_path / "data"))

    # The index as rendered offline: its tables are plain HTML rows (offline_site), every result listed.
    page = _Page(_chromium(tmp_path, index.as_uri(), "--dump-dom"))
    for expected in (
        "Validation Results",
        RUN,
        "2025-11-21 14:05:12 UTC",
        "articles.row",
        "articles.partition",
        "ingest_date=2025-06-01",
        "ingest_date=2025-06-02",
        "articles ingest_date=2025-06-01",
        "Failed",
    ):
        assert expected in page.text, expected
    links = {link for link in page.links if link.startswith("validations/articles/row/") and "2025-06-01" in link}
    assert len(links) == 1  # every cell of the row links to the result page

    # Follow the link to the first partition's row-suite result: its expectation tables rendered.
    result = _Page(_chromium(tmp_path, urljoin(index.as_uri(), links.pop()), "--dump-dom"))  # as a click would
    text = result.text
    assert "Validations / articles.row / articles ingest_date=2025-06-01 / run-" + RUN in text
    assert "Run Name run-" + RUN in text and "Status: Failed" in text
    assert "title_length Status Expectation Observed Value" in text
    assert "Unexpected Value Count doc_id 0 1 bad-title" in text
    assert "Unexpected Value Count doc_id 3 1 short" in text

    shot = tmp_path / "index.png"
    _chromium(tmp_path, index.as_uri(), f"--screenshot={shot}", "--window-size=1280,800")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_a_partition_page_shows_the_files_rejected_early_and_what_cleaning_removed(tmp_path, landing_zone):
    from news_pipeline import runner
    from news_pipeline.config import Settings

    cfg = Settings(raw_dir=landing_zone, data_dir=tmp_path / "data")
    plans, _ = runner.plan_partitions(cfg)
    run_id = runner.new_run_id()
    with runner.LocalExecutor("inline") as executor:
        results = runner.run_partitions(cfg, plans, run_id, executor)
    index = Path(datadocs.build_run_docs(_at(cfg.data_dir), run_id))
    early = {
        r.ingest_date.isoformat(): r for r in results if any(k in r.reasons for k in ("unreadable_file", "too_short"))
    }
    assert early, "the sample landing zone has unreadable or too short files"
    day, result = next(iter(early.items()))
    (page,) = [p for p in index.parent.rglob("*.html") if "articles/partition" in p.as_posix() and day in p.name]
    text = _Page(page.read_text()).text
    rejected = {k: n for k, n in result.reasons.items() if k in ("unreadable_file", "too_short", "no_article_text")}
    assert f"{sum(rejected.values())} unexpected values found" in text
    for reason, n in rejected.items():
        assert f"{reason} {n}" in text
    assert "removed by cleaning (per rule)" in text and "characters" in text
