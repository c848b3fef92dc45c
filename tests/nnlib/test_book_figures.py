"""The book's figure helpers: style, SVG output (vectors, dense artists as images, slimmed),
and the frame player."""
from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from nnlib import plot

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context():
        plot.use_book_style()
        yield plt
    plt.close("all")


def _pngs(svg: str):
    from PIL import Image

    return [Image.open(io.BytesIO(base64.b64decode(data)))
            for data in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)", svg)]


def test_book_style_sets_text_sizes_and_keeps_text_as_text(plt):
    import matplotlib

    style = plot.use_book_style()
    assert style == plot.BOOK_STYLE
    assert matplotlib.rcParams["font.size"] == plot.BOOK_MIN_FONT_PT
    assert matplotlib.rcParams["svg.fonttype"] == "none"
    fig, ax = plt.subplots()
    ax.set_title("a title")
    svg = plot.book_svg(fig)
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert "a title" in texts                                   # text, not glyph outlines
    sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", svg)]
    assert min(sizes) >= plot.BOOK_MIN_FONT_PT


def test_dense_scatter_becomes_one_image_sparse_scatter_stays_vector(plt):
    rng = np.random.default_rng(0)
    fig, (dense, sparse) = plt.subplots(1, 2)
    dense.scatter(*rng.normal(size=(2, 2000)))
    sparse.scatter(*rng.normal(size=(2, 20)), marker="s", color="#123456")
    svg = plot.book_svg(fig)
    assert len(_pngs(svg)) == 1                                  # the 2,000 dots
    square = re.search(r'<path id="([\w-]+)"[^>]*#123456', svg)[1]
    assert len(re.findall(f'<use xlink:href="#{square}"', svg)) == 20   # the squares, as vectors
    ET.fromstring(svg)                                           # still well-formed


def test_long_line_becomes_an_image_short_line_stays_vector(plt):
    fig, ax = plt.subplots()
    ax.plot(np.sin(np.linspace(0, 50, plot.RASTER_LINE_OVER_POINTS + 1)))
    ax.plot([0, 1000], [0, 1], gid="short-line")
    svg = plot.book_svg(fig)
    assert len(_pngs(svg)) == 1
    assert 'id="short-line"' in svg


def test_slim_svg_rounds_coordinates_and_drops_the_timestamp(plt):
    fig, ax = plt.subplots()
    ax.plot(np.linspace(0.123456789, 0.987654321, 500), np.sin(np.arange(500) / 7))
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    original = buffer.getvalue()
    slim = plot.slim_svg(original)
    assert "<dc:date>" in original and "<metadata>" not in slim
    path_numbers = re.findall(r'\sd="([^"]*)"', slim)
    decimals = [len(n.split(".")[1]) for d in path_numbers for n in re.findall(r"\d+\.\d+", d)]
    assert decimals and max(decimals) <= plot.SVG_DECIMALS
    assert len(slim) < 0.8 * len(original)
    # The same drawing, to within the rounding: compare the first path's numbers.
    before = [float(v) for v in re.findall(r"-?\d+\.?\d*", re.findall(r'\sd="([^"]*)"',
                                                                       original)[0])]
    after = [float(v) for v in re.findall(r"-?\d+\.?\d*", path_numbers[0])]
    np.testing.assert_allclose(after, before, atol=0.5 * 10 ** -plot.SVG_DECIMALS + 1e-12)


def test_slim_svg_writes_a_markers_repeated_style_once(plt):
    """Every use of a marker repeats its style; slim_svg moves it into the marker's definition
    (whose own properties still win), and keeps a use's style where the uses differ."""
    fig, ax = plt.subplots()
    ax.plot(np.arange(30), "o", color="#123456", markeredgecolor="#654321")
    ax.scatter(np.arange(3), np.arange(3), c=["#ff0000", "#00ff00", "#0000ff"])
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    original = buffer.getvalue()
    slim = plot.slim_svg(original)
    dot = re.search(r'<use xlink:href="#([\w-]+)"[^>]*#123456', original)[1]
    uses = re.findall(f'<use xlink:href="#{dot}"[^>]*>', slim)
    assert len(uses) == 30 and not any("style=" in use for use in uses)
    definition = re.search(f'<path id="{dot}"[^>]*>', slim)[0]
    assert "fill: #123456" in definition and "stroke: #654321" in definition
    for colour in ("#ff0000", "#00ff00", "#0000ff"):     # three styles for one marker: kept
        assert re.search(f'<use [^>]*style="fill: {colour}', slim)
    assert len(slim) < len(original) - 30 * 30
    ET.fromstring(slim)


def test_slim_svg_stores_images_with_a_palette_without_changing_flat_colours(plt):
    fig, ax = plt.subplots()
    grid = np.add.outer(np.arange(200), np.arange(200)) // 50       # four flat colour bands
    ax.contourf(grid, levels=[-0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5], cmap="viridis")
    for collection in ax.collections:
        collection.set_rasterized(True)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    original = buffer.getvalue()
    slim = plot.slim_svg(original)
    (before,), (after,) = _pngs(original), _pngs(slim)
    assert after.mode == "P" and len(slim) < len(original)
    np.testing.assert_array_equal(np.asarray(after.convert("RGBA")),
                                  np.asarray(before.convert("RGBA")))


def test_frame_player_shows_frames_and_rejects_bad_input(plt):
    fig, ax = plt.subplots()
    grid = np.linspace(-1, 1, 100)
    ax.contour(grid, grid, np.add.outer(grid**2, grid**2), levels=30)   # a dense background
    frames = [[ax.plot(np.linspace(0, k, 3000), np.linspace(0, k, 3000))[0]] for k in range(3)]
    html = plot.frame_player_html(fig, frames, ["a", "b", "c"], description="three lines",
                                  player_id="demo")
    assert html.count("<svg") == 1 and 'aria-label="three lines"' in html
    assert all(f'id="demo-f{k}-0"' in html for k in range(3))       # frames stay vectors
    assert html.count("data:image/png") == 1                          # the background does not
    assert 'max="2"' in html
    with pytest.raises(ValueError, match="one label per frame: got 3 frames and 2 labels"):
        plot.frame_player_html(fig, frames, ["a", "b"], description="x")
    with pytest.raises(ValueError, match="not a valid HTML id"):
        plot.frame_player_html(fig, frames, ["a", "b", "c"], description="x", player_id="1 bad")


def _missing_glyph_warnings(plt, text):
    import warnings

    fig, ax = plt.subplots()
    ax.set_title(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_chinese_edition_draws_chinese_text_without_missing_glyphs(plt):
    """The English style lacks CJK glyphs (matplotlib warns); the Chinese edition's style adds
    Noto Sans SC from its pip package as the fallback of DejaVu Sans, and the warning is gone."""
    assert _missing_glyph_warnings(plt, "训练集损失随轮次的变化")
    style = plot.use_book_style(language="zh_CN")
    assert style["font.family"] == ["DejaVu Sans", "Noto Sans SC"]
    assert _missing_glyph_warnings(plt, "训练集损失随轮次的变化") == []


def test_figure_text_comes_from_the_translations_given_to_the_style(plt):
    assert plot.figure_text("training {metric}", metric="loss") == "training loss"
    plot.use_book_style(language="zh_CN", translations={"training {metric}": "训练集 {metric}"})
    assert plot.figure_text("training {metric}", metric="loss") == "训练集 loss"
    assert plot.figure_text("epoch") == "epoch"          # untranslated: the English
    plot.use_book_style()
    assert plot.figure_text("training {metric}", metric="loss") == "training loss"
