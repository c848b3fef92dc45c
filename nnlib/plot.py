"""Plotting helpers for the book's figures (matplotlib).

matplotlib is imported inside each function, so ``import nnlib`` does not
load it. The functions draw on an Axes you pass (``ax=``) or on a new
figure, and return what they drew on; they never call ``plt.show()``, so they
work under any backend (inline in notebooks, Agg in tests and builds).
"""
from __future__ import annotations

import re

import numpy as np

from ._validation import as_float, check_2d, check_name
from .activations import ACTIVATIONS, DERIVATIVES

__all__ = ["plot_activations", "plot_history", "plot_decision_boundary",
           "plot_descent_path", "use_book_style", "figure_text", "BOOK_STYLE", "book_svg",
           "slim_svg", "frame_player_html"]

#: Width of the built book's text column: 672 CSS px, which is 7 inches at the 96 px per inch
#: of the web (and of an SVG figure whose size is given in points).
BOOK_COLUMN_INCHES = 7.0
#: Smallest text in a figure, in points: 12 pt is 16 CSS px at full column width, the size of
#: the book's figure captions (tests/browser/test_figures.py checks every figure against it).
BOOK_MIN_FONT_PT = 12.0

#: The book's matplotlib style (see :func:`use_book_style`). Figures are drawn for the column,
#: 6.8 in wide by default so that a tightly cropped figure stays within 7 in and is shown at
#: its natural size; every text is ``BOOK_MIN_FONT_PT`` or larger; text in SVG files stays text
#: (selectable, searchable, small) instead of being converted to outlines.
BOOK_STYLE = {
    "figure.figsize": (6.8, 3.8),
    "figure.dpi": 96,
    "savefig.dpi": 192,                     # raster parts (images) at twice the screen density
    "font.size": BOOK_MIN_FONT_PT,
    "axes.titlesize": BOOK_MIN_FONT_PT + 1,
    "axes.labelsize": BOOK_MIN_FONT_PT,
    "xtick.labelsize": BOOK_MIN_FONT_PT,
    "ytick.labelsize": BOOK_MIN_FONT_PT,
    "legend.fontsize": BOOK_MIN_FONT_PT,
    "legend.title_fontsize": BOOK_MIN_FONT_PT,
    "figure.titlesize": BOOK_MIN_FONT_PT + 1,
    "legend.framealpha": 0.9,
    "lines.linewidth": 1.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "nnlib-book",           # the same figure gives the same file on every build
}


#: The text drawn in figures, English -> the book's language (set by :func:`use_book_style`).
_FIGURE_TEXT: dict[str, str] = {}
#: Fonts for the book's languages beyond Latin script: (font family, function returning the
#: font file shipped by a pip package). matplotlib falls back to it for the characters that
#: its default font, DejaVu Sans, lacks, so Latin letters and maths look the same in every
#: edition.
LANGUAGE_FONTS = {
    "zh": ("Noto Sans SC", "pylopdf_fonts_zh_cn:sans_path"),
}


def figure_text(english, **fields):
    """The text a figure draws (a label, title or legend entry), in the book's language.

    The book's chapters pass their figure text through this function, so that the Chinese
    edition draws it in Chinese: the book build collects the string literal of every call of
    this function into the page's translation catalog, and passes the page's translations to
    :func:`use_book_style`. Without translations the English text is returned.

    Parameters
    ----------
    english : str
        The English text, a literal string (the build finds it in the code). Fields to fill
        in are written ``{name}``, as in ``str.format``.
    **fields
        Values of the ``{name}`` fields, filled in after translation.

    Returns
    -------
    str
    """
    text = _FIGURE_TEXT.get(english, english)
    return text.format(**fields) if fields else text


def _use_language_font(language):
    """Register the font that draws ``language``'s script with matplotlib and add it to the
    font family as the fallback of DejaVu Sans; nothing for a Latin-script language."""
    import importlib

    import matplotlib
    from matplotlib import font_manager

    base = language.split("_")[0]
    if base not in LANGUAGE_FONTS:
        return {}
    family, locator = LANGUAGE_FONTS[base]
    module_name, function = locator.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ImportError(f"the figures of the {language} edition need the font package "
                          f"{module_name.replace('_', '-')} (it is in requirements.txt): "
                          "bash scripts/setup-env") from error
    font_manager.fontManager.addfont(str(getattr(module, function)()))
    fonts = {"font.family": ["DejaVu Sans", family]}
    matplotlib.rcParams.update(fonts)
    return fonts


def use_book_style(formats=("svg",), *, language="en", translations=None):
    """Draw figures in the book's style and show them as SVG in Jupyter.

    Every chapter of the book calls this first. It updates matplotlib's ``rcParams`` with
    :data:`BOOK_STYLE` and, inside IPython or Jupyter, makes the inline backend show figures
    as SVG (vector graphics, sharp at any zoom) instead of PNG. Outside IPython only the
    style is applied. The book's translated editions pass their language and the page's
    translated figure text (the build writes these arguments; see :func:`figure_text`).

    Parameters
    ----------
    formats : sequence of str, default ("svg",)
        Output formats of the inline backend, e.g. ``("png",)`` or ``("retina",)``.
    language : str, default "en"
        The book's language (``"zh_CN"`` for the Chinese edition): a language whose script
        DejaVu Sans lacks gets its font from ``LANGUAGE_FONTS``.
    translations : dict of str to str, optional
        The figure text in ``language``, keyed by the English text given to
        :func:`figure_text`. Replaces the translations set before.

    Returns
    -------
    dict
        The rcParams that were set (a copy of :data:`BOOK_STYLE`, with the font family of a
        language that needs its own font).
    """
    import matplotlib

    matplotlib.rcParams.update(BOOK_STYLE)
    style = {**BOOK_STYLE, **_use_language_font(language)}
    _FIGURE_TEXT.clear()
    _FIGURE_TEXT.update(translations or {})
    try:
        from IPython import get_ipython
        from matplotlib.figure import Figure
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return style
    shell = get_ipython()
    if shell is not None:
        set_matplotlib_formats(*formats)
        if "svg" in formats:
            shell.display_formatter.formatters["image/svg+xml"].for_type(Figure, book_svg)
    return style


#: Artists with more points than this are drawn as an image inside the SVG (at savefig.dpi):
#: as vectors each point costs about 150 bytes, so a scatter plot of a few hundred dots or a
#: filled contour of a fine grid would make a figure of several hundred kB.
RASTER_OVER_POINTS = 150
#: Lines cost about 15 bytes per vertex: a line of more vertices than this (a noisy curve of
#: thousands of steps) is drawn as an image too.
RASTER_LINE_OVER_POINTS = 2000


def _n_points(collection) -> int:
    offsets = len(collection.get_offsets())
    vertices = sum(len(path.vertices) for path in collection.get_paths())
    return max(offsets, vertices)


def _rasterize_dense_artists(fig, keep=()) -> None:
    """Mark dense collections and long lines (not those in ``keep``) to be drawn as images."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D

    keep = set(map(id, keep))
    for collection in fig.findobj(Collection):
        if id(collection) not in keep and _n_points(collection) > RASTER_OVER_POINTS:
            collection.set_rasterized(True)
    for line in fig.findobj(Line2D):
        if id(line) not in keep and len(line.get_xydata()) > RASTER_LINE_OVER_POINTS:
            line.set_rasterized(True)


def book_svg(fig) -> str:
    """A figure as SVG for the book: axes, lines and text as vectors, dense artists as images.

    Collections (scatter plots, filled contours, meshes) with more than
    ``RASTER_OVER_POINTS`` points and lines with more than ``RASTER_LINE_OVER_POINTS``
    vertices are rasterized at ``savefig.dpi``; the figure is cropped to its content as
    Jupyter's inline backend does, and the SVG is made smaller by :func:`slim_svg`.

    Parameters
    ----------
    fig : matplotlib Figure

    Returns
    -------
    str
        The SVG document.
    """
    import io

    _rasterize_dense_artists(fig)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    return slim_svg(buffer.getvalue())


#: Decimals kept in SVG coordinates (in points: 0.01 pt is 1/75 of a screen pixel).
SVG_DECIMALS = 2
_SVG_COORDINATES = re.compile(r'(\s(?:d|x|y)=")([^"]*)(")')
_SVG_NUMBER = re.compile(r"-?\d+\.\d+")
_SVG_PNG = re.compile(r'(data:image/png;base64,)([A-Za-z0-9+/=\s]+)')
_SVG_USE = re.compile(r'(<use xlink:href="#([\w-]+)"[^>]*?) style="([^"]*)"')
_SVG_DEF_PATH = re.compile(r'<path id="([\w-]+)"([^>]*?)(?: style="([^"]*)")?(\s*/>)')


def _short_number(match) -> str:
    text = f"{float(match.group(0)):.{SVG_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _palette_png(match) -> str:
    """An embedded PNG with a palette of at most 256 colours, if that is smaller: exact when the
    image has no more colours (the flat bands of a filled contour), else the nearest 256."""
    import base64
    import io

    from PIL import Image

    original = base64.b64decode(match.group(2))
    rgba = np.asarray(Image.open(io.BytesIO(original)).convert("RGBA"))
    colours, index = np.unique(rgba.reshape(-1, 4), axis=0, return_inverse=True)
    buffer = io.BytesIO()
    if len(colours) <= 256:                         # exact: one palette entry per colour
        paletted = Image.fromarray(index.reshape(rgba.shape[:2]).astype(np.uint8), mode="P")
        paletted.putpalette(colours[:, :3].ravel().tolist())
        paletted.save(buffer, format="png", optimize=True,
                      transparency=bytes(colours[:, 3].tolist()))
    else:
        Image.fromarray(rgba, mode="RGBA").quantize(256, method=Image.Quantize.FASTOCTREE).save(
            buffer, format="png", optimize=True)
    smaller = buffer.getvalue()
    if len(smaller) >= len(original):
        return match.group(0)
    return match.group(1) + base64.b64encode(smaller).decode("ascii")


def _style(text: str) -> dict[str, str]:
    pairs = (item.split(":", 1) for item in text.split(";") if ":" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def _hoist_marker_styles(svg: str) -> str:
    """Move the style that every ``<use>`` of a marker repeats into the marker's definition.

    matplotlib draws each marker (a dot of a line, a tick) as ``<use>`` of a defined path and
    writes the same ``style`` on every use. The defined path's own properties win over those
    it inherits from a use, so the definition gets the use's style with its own on top, and
    the uses lose theirs: the same drawing, about 40 bytes less per marker.
    """
    styles: dict[str, set[str]] = {}
    for _, ref, style in _SVG_USE.findall(svg):
        styles.setdefault(ref, set()).add(style)
    defined = {ref for ref, *_ in _SVG_DEF_PATH.findall(svg)}
    shared = {ref: found.pop() for ref, found in styles.items()
              if len(found) == 1 and ref in defined}

    def define(match):
        ref, attributes, own, end = match.groups()
        if ref not in shared:
            return match.group(0)
        merged = {**_style(shared[ref]), **_style(own or "")}
        text = "; ".join(f"{key}: {value}" for key, value in merged.items())
        return f'<path id="{ref}"{attributes} style="{text}"{end}'

    svg = _SVG_DEF_PATH.sub(define, svg)
    return _SVG_USE.sub(lambda m: m.group(1) if m.group(2) in shared else m.group(0), svg)


def slim_svg(svg: str) -> str:
    """A matplotlib SVG made smaller without a visible change, and the same on every build.

    Coordinates (path data, x and y) are rounded to ``SVG_DECIMALS`` decimals (matplotlib
    writes six), embedded PNG images are stored with a palette of at most 256 colours, the
    style that every use of a marker repeats is written once, in the marker's definition, and
    the metadata block (it holds the time of drawing) is removed.

    Parameters
    ----------
    svg : str
        An SVG document written by matplotlib.

    Returns
    -------
    str
        The smaller SVG document.
    """
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    svg = _hoist_marker_styles(svg)
    svg = _SVG_COORDINATES.sub(
        lambda m: m.group(1) + _SVG_NUMBER.sub(_short_number, " ".join(m.group(2).split()))
        + m.group(3), svg)
    return _SVG_PNG.sub(_palette_png, svg)


def _axes(ax, **subplots_kw):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(**subplots_kw)
    return ax


def plot_activations(names=("sigmoid", "tanh", "relu"), ax=None, z_range=(-5.0, 5.0)):
    """Plot activation functions (solid) and their derivatives (dashed)
    (chapter 3).

    Parameters
    ----------
    names : str or sequence of str, default ("sigmoid", "tanh", "relu")
        Element-wise activations from :data:`nnlib.activations.ACTIVATIONS`
        (softmax acts on whole rows and cannot be drawn as one curve).
    ax : matplotlib Axes, optional
    z_range : (float, float), default (-5, 5)

    Returns
    -------
    matplotlib.axes.Axes
    """
    if isinstance(names, str):
        names = [names]
    keys = [check_name(name, DERIVATIVES, "element-wise activation") for name in names]
    ax = _axes(ax, figsize=(6, 4))
    z = np.linspace(*z_range, 401)
    for key in keys:
        (line,) = ax.plot(z, ACTIVATIONS[key](z), label=key)
        ax.plot(z, DERIVATIVES[key](z), linestyle="--", color=line.get_color(),
                label=figure_text("{name}' (derivative)", name=key))
    ax.axhline(0, color="0.8", linewidth=0.8, zorder=0)
    ax.axvline(0, color="0.8", linewidth=0.8, zorder=0)
    ax.set_xlabel("z")
    ax.set_ylabel("f(z), f'(z)")
    ax.legend()
    return ax


def plot_history(history, axes=None):
    """Plot loss and (if recorded) accuracy per epoch, training and
    validation (chapter 9).

    Parameters
    ----------
    history : History or dict
        What :meth:`nnlib.model.Sequential.fit` returned (or its ``.history``
        dict; a Keras ``History`` works too).
    axes : sequence of matplotlib Axes, optional
        One Axes per panel (loss, accuracy).

    Returns
    -------
    list of matplotlib Axes
        ``[loss_ax]`` or ``[loss_ax, accuracy_ax]``.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or "loss" not in logs:
        raise ValueError("plot_history expects a History (or its .history dict) with a 'loss' "
                         f"entry, got {type(history).__name__}")
    panels = ["loss"] + (["accuracy"] if "accuracy" in logs else [])
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.4), squeeze=False)
        axes = list(axes[0])
    axes = list(np.atleast_1d(axes))
    if len(axes) < len(panels):
        raise ValueError(f"plot_history needs {len(panels)} axes ({', '.join(panels)}), "
                         f"got {len(axes)}")
    for ax, key in zip(axes, panels):
        epochs = np.arange(1, len(logs[key]) + 1)
        ax.plot(epochs, logs[key], label=figure_text("training {metric}", metric=key))
        if f"val_{key}" in logs:
            ax.plot(epochs, logs[f"val_{key}"], linestyle="--",
                    label=figure_text("validation {metric}", metric=key))
        ax.set_xlabel(figure_text("epoch"))
        ax.set_ylabel(key)
        ax.legend()
    return axes[: len(panels)]


def plot_decision_boundary(predict_fn, X, y, ax=None, resolution=200, padding=0.5):
    """Colour the plane by the class a model predicts, and overlay the data
    (chapters 2 and 9).

    Parameters
    ----------
    predict_fn : callable
        Maps an array of shape (m, 2) to outputs of shape (m, 1) or (m,)
        (probability of class 1, thresholded at 0.5) or (m, k) (class
        scores, argmax taken) - e.g. ``model.predict``.
    X : array_like, shape (n_samples, 2)
    y : array_like, shape (n_samples,) or (n_samples, 1) or one-hot (n_samples, k)
    ax : matplotlib Axes, optional
    resolution : int, default 200
        Grid points per axis.
    padding : float, default 0.5
        Margin around the data.

    Returns
    -------
    matplotlib.axes.Axes
    """
    X = check_2d(X, "X", "(n_samples, 2)")
    if X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points, X of shape (n_samples, 2), "
                         f"got shape {X.shape}")
    y = np.asarray(y)
    labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    ax = _axes(ax, figsize=(5, 4.5))
    (x0_min, x1_min), (x0_max, x1_max) = X.min(axis=0) - padding, X.max(axis=0) + padding
    g0, g1 = np.meshgrid(np.linspace(x0_min, x0_max, resolution),
                         np.linspace(x1_min, x1_max, resolution))
    out = as_float(predict_fn(np.column_stack([g0.ravel(), g1.ravel()])))
    if out.ndim == 2 and out.shape[1] > 1:
        grid_class = out.argmax(axis=1)
    else:
        grid_class = (out.reshape(-1) > 0.5).astype(int)
    n_classes = int(max(labels.max(), grid_class.max())) + 1
    ax.contourf(g0, g1, grid_class.reshape(g0.shape), levels=np.arange(n_classes + 1) - 0.5,
                cmap="coolwarm" if n_classes == 2 else "viridis", alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="coolwarm" if n_classes == 2 else "viridis",
               vmin=0, vmax=n_classes - 1, edgecolors="k", linewidths=0.5, s=25)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def plot_descent_path(f, path, ax=None, bounds=None, levels=30, resolution=200):
    """Draw the contour lines of a 2-parameter loss surface and the path(s)
    gradient descent took over it (chapter 8).

    Parameters
    ----------
    f : callable
        ``f(w1, w2)`` evaluated element-wise on arrays (meshgrids), e.g.
        ``lambda a, b: a**2 + 10 * b**2``.
    path : array_like, shape (n_steps, 2), or dict of label -> such arrays
        Successive parameter values; a dict draws several labelled paths
        (e.g. SGD vs momentum vs Adam).
    ax : matplotlib Axes, optional
    bounds : ((w1_min, w1_max), (w2_min, w2_max)), optional
        Default: the paths' extent plus a margin.
    levels : int, default 30
    resolution : int, default 200

    Returns
    -------
    matplotlib.axes.Axes
    """
    paths = path if isinstance(path, dict) else {None: path}
    paths = {label: check_2d(p, "path", "(n_steps, 2)") for label, p in paths.items()}
    for p in paths.values():
        if p.shape[1] != 2:
            raise ValueError(f"expected a path of shape (n_steps, 2), got {p.shape}")
    if bounds is None:
        points = np.vstack(list(paths.values()))
        low, high = points.min(axis=0), points.max(axis=0)
        margin = 0.2 * np.maximum(high - low, 1e-3) + 0.1
        bounds = tuple(zip(low - margin, high + margin))
    ax = _axes(ax, figsize=(5.5, 4.5))
    w1, w2 = np.meshgrid(np.linspace(*bounds[0], resolution), np.linspace(*bounds[1], resolution))
    ax.contour(w1, w2, f(w1, w2), levels=levels, cmap="viridis", linewidths=0.8)
    for label, p in paths.items():
        ax.plot(p[:, 0], p[:, 1], marker="o", markersize=3, linewidth=1.2, label=label)
        ax.plot(*p[-1], marker="*", markersize=12, color="k")
    if any(label is not None for label in paths):
        ax.legend()
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    return ax


_PLAYER_SCRIPT = """
(function () {
  var root = document.getElementById(%(id)s), labels = %(labels)s;
  var parts = root.querySelectorAll('[id^="' + %(id)s + '-f"]');
  var slider = root.querySelector('input'), play = root.querySelector('button'),
      label = root.querySelector('output'), timer = null;
  function show(k) {
    for (var i = 0; i < parts.length; i++) {
      var frame = +parts[i].id.split('-f')[1].split('-')[0];
      parts[i].style.display = frame <= k ? '' : 'none';
    }
    slider.value = k; label.textContent = labels[k];
  }
  function stop() { clearInterval(timer); timer = null; play.textContent = 'Play'; }
  play.addEventListener('click', function () {
    if (timer) { stop(); return; }
    var k = +slider.value >= labels.length - 1 ? 0 : +slider.value;
    show(k); play.textContent = 'Pause';
    timer = setInterval(function () {
      if (k >= labels.length - 1) { stop(); return; }
      show(++k);
    }, %(interval)d);
  });
  slider.addEventListener('input', function () { stop(); show(+slider.value); });
  show(labels.length - 1);
})();
"""


def frame_player_html(fig, frame_artists, frame_labels, *, description, interval_ms=150,
                      player_id="frame-player"):
    """HTML that plays a figure frame by frame, as one SVG and a few lines of JavaScript.

    Frame ``k`` shows the artists of frames ``0..k``: draw everything once, then pass, per
    frame, the artists that frame adds. Unlike a movie of images, the figure stays vector
    (sharp, text sized like every other figure) and weighs a few dozen kB; dense background
    artists are drawn as images as in :func:`book_svg`. Without JavaScript the last frame (the
    whole figure) is shown.

    Parameters
    ----------
    fig : matplotlib Figure
        The finished figure (it is saved as SVG; close it afterwards).
    frame_artists : sequence of sequence of matplotlib Artist, length n_frames
        The artists each frame adds.
    frame_labels : sequence of str, length n_frames
        What each frame shows, e.g. "step 4 of 60" (shown next to the controls).
    description : str
        Text alternative of the figure for screen readers.
    interval_ms : int, default 150
        Time between frames when playing.
    player_id : str, default "frame-player"
        HTML id of the player (unique on its page).

    Returns
    -------
    str
        The player's HTML: pass it to ``IPython.display.HTML``.
    """
    import html
    import io
    import json

    if len(frame_artists) != len(frame_labels) or not frame_labels:
        raise ValueError(f"frame_player_html needs one label per frame: got "
                         f"{len(frame_artists)} frames and {len(frame_labels)} labels")
    if not re.fullmatch(r"[A-Za-z][\w-]*", player_id):
        raise ValueError(f"player_id {player_id!r} is not a valid HTML id (letters, digits, -, _)")
    for k, artists in enumerate(frame_artists):
        for i, artist in enumerate(artists):
            artist.set_gid(f"{player_id}-f{k}-{i}")
    _rasterize_dense_artists(fig, keep=[a for artists in frame_artists for a in artists])
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    svg = slim_svg(buffer.getvalue())
    svg = svg[svg.index("<svg"):]
    width = re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', svg).group(1)
    svg = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"',
                 rf'<svg\1 style="width: 100%; max-width: {float(width) * 4 / 3:.0f}px; '
                 rf'height: auto" role="img" aria-label="{html.escape(description)}"', svg, count=1)
    script = _PLAYER_SCRIPT % {"id": json.dumps(player_id), "labels": json.dumps(list(frame_labels)),
                               "interval": interval_ms}
    return (f'<div class="frame-player" id="{player_id}">{svg}'
            f'<div class="frame-player-controls" style="display: flex; gap: 0.6em; '
            f'align-items: center; flex-wrap: wrap">'
            f'<button type="button" class="btn btn-sm btn-outline-primary">Play</button>'
            f'<input type="range" min="0" max="{len(frame_labels) - 1}" '
            f'value="{len(frame_labels) - 1}" aria-label="Frame" style="flex: 1 1 10em">'
            f'<output aria-live="polite">{html.escape(frame_labels[-1])}</output></div>'
            f"<script>{script}</script></div>")
