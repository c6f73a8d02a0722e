"""Great Expectations Data Docs that open offline: no CDN, no third-party host, no JS library.

GX's stock pages load Bootstrap, jQuery, bootstrap-table, Font Awesome and vega from CDNs, its
logo from S3 with a tracking query, and link to greatexpectations.io: offline they are unstyled,
the index lists nothing and the status column is empty, and opening them contacts those hosts.
GX's page views render Jinja templates through ``self.env.loader``; the view classes here put a
``DictLoader`` of our templates in front of GX's own loader, so only the templates that reference
other hosts or need jQuery/Bootstrap JS are replaced (page frame, navbar, index tables as plain
HTML rows, ``<details>`` instead of JS collapse, a ten-line filter instead of jQuery); sections,
tables, string templates and expectation renderers stay GX's. Status icons are CSS on GX's own
Font Awesome class names with inline SVG ``data:`` URIs (``static/news_pipeline.css``, our own
9 KB stylesheet), and a Content-Security-Policy meta tag forbids any other source as a second
fence. :class:`OfflineSiteBuilder` writes that stylesheet instead of GX's 4 MB of fonts and GIFs.

GX imports this module by name from the site config (:func:`site_config`); it imports GX.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, DictLoader

from news_pipeline.gx_runtime import load_gx

load_gx()  # GX's environment (no analytics) before its first import

from great_expectations.render.renderer.site_builder import SiteBuilder  # noqa: E402
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView  # noqa: E402

STYLESHEET = "news_pipeline.css"

# Our templates (``templates/``) by the name of the GX template each replaces; the index page has the same frame.
_OURS = {
    "page.j2": "page.j2",
    "index_page.j2": "page.j2",
    "top_navbar.j2": "top_navbar.j2",  # GX's: its logo from S3 with ?d=<now>&dataContextId=<id>
    "ge_info.j2": "ge_info.j2",  # GX's: a link to greatexpectations.io
    "page_action_card.j2": "page_action_card.j2",  # GX's: jQuery fadeIn/fadeOut
    "collapse.j2": "collapse.j2",  # GX's: Bootstrap's JS collapse
    "graph.j2": "graph.j2",  # GX's: vega-embed (our suite renders no chart)
    "bootstrap_table.j2": "bootstrap_table.j2",  # GX's: rows built by bootstrap-table JS
}
# GX templates that only load third-party scripts, styles or links: rendered as nothing.
_EMPTY = (
    "js_script_imports.j2",  # vega, jQuery, popper, bootstrap(-table, -datepicker), Font Awesome
    "favicon.j2",
    "cloud-footer.j2",  # a newsletter link
    "cta_footer.j2",
    "bootstrap_table_js_functions.j2",
    "data_docs_default_styles.css",  # GX's styles (a dark-mode logo from S3); our stylesheet replaces them
)


def _templates() -> dict[str, str]:
    folder = files("news_pipeline.reporting").joinpath("templates")
    ours = {gx_name: folder.joinpath(name).read_text(encoding="utf-8") for gx_name, name in _OURS.items()}
    return {**ours, **dict.fromkeys(_EMPTY, "")}


def _root(renderer_type: str, suite_name: str | None) -> str:
    """The relative path from a page to the site's root, as GX computes it for its navbar.

    A validation result page is ``validations/<suite parts>/<run name>/<run time>/<batch>.html``,
    a suite page ``expectations/<suite parts>.html``, the index the root itself.
    """
    dots = suite_name.count(".") if suite_name else 0
    if "ValidationResults" in renderer_type or "ProfilingResults" in renderer_type:
        return "../" * (dots + 4)
    return "../" * (dots + 1) if "ExpectationSuite" in renderer_type else ""


class _OfflineMixin:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.loader = ChoiceLoader([DictLoader(_templates()), self.env.loader])
        self.env.globals["offline_stylesheets"] = [STYLESHEET]
        self.env.globals["np_root"] = _root


class OfflinePageView(_OfflineMixin, DefaultJinjaPageView):
    """Validation result and expectation suite pages."""


class OfflineIndexPageView(_OfflineMixin, DefaultJinjaIndexPageView):
    """The index page."""


class OfflineSiteBuilder(SiteBuilder):
    """GX's SiteBuilder, but it writes only our stylesheet into ``static/``."""

    # GX passes only the arguments named in the signature (it inspects it), so all are named here.
    def __init__(
        self,
        data_context: Any,
        store_backend: Any,
        site_name: Any = None,
        site_index_builder: Any = None,
        show_how_to_buttons: bool = False,
        site_section_builders: Any = None,
        runtime_environment: Any = None,
    ) -> None:
        super().__init__(
            data_context,
            store_backend,
            site_name=site_name,
            site_index_builder=site_index_builder,
            show_how_to_buttons=show_how_to_buttons,
            site_section_builders=site_section_builders,
            runtime_environment=runtime_environment,
        )

    def build(self, resource_identifiers: Any = None, build_index: bool = True) -> Any:
        # GX's SiteBuilder.build, with our stylesheet instead of target_store.copy_static_assets()
        for section_builder in self.site_section_builders.values():
            section_builder.build(resource_identifiers=resource_identifiers)
        backend = self.target_store.store_backends["static_assets"]
        css = files("news_pipeline.reporting").joinpath("static", STYLESHEET).read_text(encoding="utf-8")
        key = ("static", "styles", STYLESHEET)
        if not backend.has_key(key) or backend.get(key) != css:
            backend.set(key, css, content_type="text/css")
        _, index_links = self.site_index_builder.build(build_index=build_index)
        return self.get_resource_url(only_if_exists=False), index_links


def site_config(site_dir: Path) -> dict[str, Any]:
    """A ``data_docs_sites`` entry that renders the offline site into ``site_dir``."""
    view = {"module_name": __name__, "class_name": "OfflinePageView"}
    return {
        "module_name": __name__,
        "class_name": "OfflineSiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(Path(site_dir).resolve())},
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "view": {"module_name": __name__, "class_name": "OfflineIndexPageView"},
        },
        "site_section_builders": {
            "expectations": {"view": view},
            "validations": {"view": view},
            "profiling": "None",  # no profiling section (its index pass would load every result again)
        },
    }
