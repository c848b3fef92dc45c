/* The course book's page behaviour (added by book/_ext/course_pages.py; loaded deferred).
 *
 *  - figures shown smaller than their natural size (on a phone) open full size on tap;
 *  - display equations wider than the column get a visible "scroll sideways" cue;
 *  - "Open in JupyterLab" buttons follow the JupyterLab address the reader gives (any port);
 *  - search results show equations as plain text, not raw LaTeX.
 */
"use strict";

(() => {
  const article = () => document.querySelector(".bd-article") || document.body;
  // The page's language: a translated edition gives the texts below in COURSE_MESSAGES
  // (book/_ext/course_i18n.py, from the catalog course_ui); "{name}" marks a field.
  const messages = window.COURSE_MESSAGES || {};
  const t = (text, fields = {}) =>
    (messages[text] || text).replace(/\{(\w+)\}/g, (whole, name) => fields[name] ?? whole);

  // ------------------------------------------------------------------ figure zoom
  let zoomDialog = null;

  function openZoom(img) {
    if (!zoomDialog) {
      zoomDialog = document.createElement("dialog");
      zoomDialog.className = "course-zoom";
      zoomDialog.setAttribute("aria-label", t("Enlarged figure"));
      zoomDialog.innerHTML =
        `<div class="course-zoom-bar"><span>${t("Drag or scroll to see the whole figure")}</span>` +
        `<button type="button" class="btn btn-sm btn-outline-secondary">${t("Close")}</button></div>` +
        '<div class="course-zoom-scroller"><img alt=""></div>';
      zoomDialog.querySelector("button").addEventListener("click", () => zoomDialog.close());
      zoomDialog.addEventListener("click", (event) => {
        if (event.target === zoomDialog) zoomDialog.close();
      });
      document.body.appendChild(zoomDialog);
    }
    const big = zoomDialog.querySelector("img");
    big.src = img.currentSrc || img.src;
    big.alt = img.alt;
    big.width = img.naturalWidth;
    zoomDialog.showModal();
    zoomDialog.querySelector("button").focus();
  }

  function markZoomable(img) {
    const shrunk = img.naturalWidth > img.clientWidth + 2 && img.clientWidth > 0;
    img.classList.toggle("course-zoomable", shrunk);
    let hint = img.nextElementSibling;
    if (!(hint && hint.classList.contains("course-zoom-hint"))) hint = null;
    if (shrunk) {
      img.setAttribute("role", "button");
      img.tabIndex = 0;
      img.title = t("Show the figure full size");
      if (!hint) {
        hint = document.createElement("span");
        hint.className = "course-zoom-hint";
        hint.textContent = t("Tap the figure to see it full size");
        img.insertAdjacentElement("afterend", hint);
      }
    } else {
      img.removeAttribute("role");
      img.removeAttribute("tabindex");
      img.removeAttribute("title");
      if (hint) hint.remove();
    }
  }

  function setUpZoom() {
    const images = [...article().querySelectorAll("img")].filter(
      (img) => !img.closest("a") && !img.closest(".exercise-launch"));
    const check = () => images.forEach((img) => img.complete && markZoomable(img));
    images.forEach((img) => {
      img.addEventListener("load", () => markZoomable(img));
      img.addEventListener("click", () => img.classList.contains("course-zoomable") && openZoom(img));
      img.addEventListener("keydown", (event) => {
        if ((event.key === "Enter" || event.key === " ") && img.classList.contains("course-zoomable")) {
          event.preventDefault();
          openZoom(img);
        }
      });
    });
    check();
    window.addEventListener("resize", check);
  }

  // ------------------------------------------------------------------ wide equations
  /** The element that scrolls a display equation: MathJax's container (the theme lets it
   * scroll; a numbered equation's number stays beside it), or the math box itself. */
  const equationScroller = (box) => box.querySelector(":scope > mjx-container") || box;

  function markWideEquations() {
    article().querySelectorAll("div.math").forEach((box) => {
      const scroller = equationScroller(box);
      const wide = scroller.scrollWidth > scroller.clientWidth + 1;
      scroller.classList.toggle("course-scrolls", wide);
      let hint = box.nextElementSibling;
      if (!(hint && hint.classList.contains("course-math-hint"))) hint = null;
      if (wide && !hint) {
        hint = document.createElement("p");
        hint.className = "course-math-hint";
        hint.textContent = t("\u2194 scroll the equation sideways to see all of it");
        box.insertAdjacentElement("afterend", hint);
        scroller.tabIndex = 0;    // keyboard users can scroll it too
      } else if (!wide && hint) {
        hint.remove();
      }
    });
  }

  /** Run callback once MathJax has typeset the page (MathJax loads after this script). */
  function afterMathJax(callback) {
    const promise = () => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    if (promise()) promise().then(callback);
    else if (document.querySelector(".math")) {
      let tries = 0;
      const wait = setInterval(() => {
        if (promise() || ++tries > 200) {
          clearInterval(wait);
          if (promise()) promise().then(callback);
        }
      }, 50);
    }
  }

  function setUpEquations() {
    afterMathJax(markWideEquations);
    window.addEventListener("resize", markWideEquations);
  }

  // ------------------------------------------------------------------ JupyterLab address
  const LAB_KEY = "course-jupyterlab-address";

  /** The "/lab/tree" URL of a JupyterLab from what a reader pasted: a port ("8889"), a
   * host and port, or the address JupyterLab printed (its token is not kept). */
  function labTreeUrl(value) {
    let text = (value || "").trim();
    if (!text) return null;
    if (/^\d{2,5}$/.test(text)) text = `http://localhost:${text}`;
    if (!/^https?:\/\//i.test(text)) text = `http://${text}`;
    let url;
    try { url = new URL(text); } catch (error) { return null; }
    let path = url.pathname;
    const lab = path.search(/\/(lab|tree|notebooks)(\/|$)/);
    if (lab >= 0) path = path.slice(0, lab);
    return `${url.origin}${path.replace(/\/+$/, "")}/lab/tree`;
  }

  function applyLabAddress(tree) {
    document.querySelectorAll("a.exercise-jupyterlab").forEach((link) => {
      const name = link.dataset.notebook;
      if (name) link.href = `${tree}/${name}`;
    });
    document.querySelectorAll(".exercise-lab-current").forEach((el) => {
      el.textContent = tree.replace(/\/lab\/tree$/, "");
    });
  }

  function setUpJupyterLab() {
    let saved = null;
    try { saved = localStorage.getItem(LAB_KEY); } catch (error) { /* storage disabled */ }
    if (saved) applyLabAddress(saved);
    document.querySelectorAll("form.exercise-lab-form").forEach((form) => {
      const input = form.querySelector("input");
      const status = form.querySelector(".exercise-lab-status");
      if (saved) input.value = saved.replace(/\/lab\/tree$/, "");
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const tree = labTreeUrl(input.value);
        if (!tree) {
          status.textContent = t("That is not an address: paste what JupyterLab printed, " +
                                 "e.g. http://localhost:8889/lab?token=..., or just the port.");
          return;
        }
        try { localStorage.setItem(LAB_KEY, tree); } catch (error) { /* storage disabled */ }
        applyLabAddress(tree);
        status.textContent = t("Saved: the buttons now open {address}.",
                               {address: tree.replace(/\/lab\/tree$/, "")});
      });
    });
  }

  // ------------------------------------------------------------------ search snippets
  const TEX_SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", Delta: "Δ", epsilon: "ε", varepsilon: "ε",
    eta: "η", theta: "θ", lambda: "λ", mu: "μ", nu: "ν", pi: "π", rho: "ρ", sigma: "σ",
    Sigma: "Σ", tau: "τ", phi: "φ", varphi: "φ", omega: "ω", nabla: "∇", partial: "∂",
    times: "×", cdot: "·", odot: "⊙", leq: "≤", le: "≤", geq: "≥", ge: "≥", neq: "≠",
    approx: "≈", to: "→", rightarrow: "→", leftarrow: "←", in: "∈", infty: "∞", sum: "Σ",
    prod: "Π", sqrt: "√", pm: "±", ldots: "…", dots: "…", cdots: "⋯", log: "log", exp: "exp",
    max: "max", min: "min", top: "ᵀ", mid: "|",
  };

  // Accents as combining characters: \dot a is "ȧ", \hat{y} is "ŷ".
  const ACCENTS = { dot: "\u0307", ddot: "\u0308", hat: "\u0302", bar: "\u0304",
                    tilde: "\u0303", vec: "\u20d7" };

  /** Equations in plain text for a search snippet: "\(A^{(0)} = X\)" becomes "A^(0) = X". */
  function texToText(tex) {
    let text = tex.replace(/^\s*(\\\(|\\\[|\$\$?)|(\\\)|\\\]|\$\$?)\s*$/g, "");
    text = text.replace(/\\(begin|end)\{[^}]*\}/g, " ")
               .replace(/\\(left|right|big|Big|bigg|Bigg)\b/g, "")
               .replace(/\\(dot|ddot|hat|bar|tilde|vec)\s*(?:\{([^{}]*)\}|([A-Za-z]))/g,
                        (m, accent, group, letter) => (group || letter) + ACCENTS[accent])
               .replace(/\\(mathbf|mathrm|mathit|boldsymbol|text|textrm|operatorname|mathcal)\s*\{([^{}]*)\}/g, "$2")
               .replace(/\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, "($1)/($2)")
               .replace(/\\([A-Za-z]+)/g, (m, name) => (name in TEX_SYMBOLS ? TEX_SYMBOLS[name] : name))
               .replace(/\\[,;:! ]|~|&|\\\\/g, " ")
               .replace(/([_^])\{([^{}]*)\}/g, (m, mark, body) =>
                 (/^(\w|\(.*\))$/.test(body) ? mark + body : `${mark}(${body})`))
               .replace(/[{}]/g, "")
               .replace(/\s+/g, " ");
    return text.trim();
  }

  function setUpSearchSnippets() {
    // Sphinx's searchtools.js declares `const Search` (a global binding, not a property of
    // window); it runs before this deferred script, on the search page only.
    // eslint-disable-next-line no-undef
    const search = typeof Search === "undefined" ? null : Search;
    if (!(search && typeof search.htmlToText === "function")) return;
    const original = search.htmlToText;
    search.htmlToText = (htmlString, anchor) => {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach((el) => el.replaceWith(texToText(el.textContent)));
      // Hidden cells and the notebook's code are not what a reader searches prose for.
      doc.querySelectorAll(".cell_input, .cell_output, .exercise-launch, .toctree-wrapper")
         .forEach((el) => el.remove());
      return original(doc.documentElement.outerHTML, anchor);
    };
    // Hits on API objects (functions, classes) get only "(Python method, in ...)" from Sphinx:
    // add the first paragraph of the object's docstring, as for the pages' hits.
    const results = document.getElementById("search-results");
    if (results) {
      new MutationObserver(() => results.querySelectorAll("ul.search > li").forEach(addDocstring))
        .observe(results, { childList: true, subtree: true });
    }
  }

  const fetchedPages = new Map();

  function addDocstring(item) {
    const link = item.querySelector(":scope > a");
    if (!link || !item.querySelector(":scope > span") || item.dataset.courseDocstring) return;
    item.dataset.courseDocstring = "pending";
    const url = new URL(link.href);
    const id = decodeURIComponent(url.hash.slice(1));
    url.hash = "";
    if (!fetchedPages.has(url.href)) {
      fetchedPages.set(url.href, fetch(url.href).then((response) => response.text())
        .then((html) => new DOMParser().parseFromString(html, "text/html")).catch(() => null));
    }
    fetchedPages.get(url.href).then((doc) => {
      const target = doc && id && doc.getElementById(id);
      const body = target && (target.tagName === "DT" ? target.nextElementSibling : target);
      const first = body && body.querySelector("p");
      if (!first) return;
      first.querySelectorAll(".math").forEach((el) => el.replaceWith(texToText(el.textContent)));
      const snippet = document.createElement("p");
      snippet.className = "context";
      snippet.textContent = first.textContent.replace(/\s+/g, " ").trim().slice(0, 240);
      item.appendChild(snippet);
      item.dataset.courseDocstring = "done";
    });
  }

  // ------------------------------------------------------------------ MathJax's menu
  // The book loads MathJax without its context menu (ui/menu, 420 kB, see _config.yml); the
  // menu is loaded the first time a reader opens it on an equation, attached to every
  // equation, and opened. As with MathJax's own menu, every equation is in the tab order:
  // Space (or the context-menu key, or Shift+F10) opens the menu from the keyboard, a
  // right-click or long press with a pointer.
  let menuLoading = null;

  function loadMathMenu() {
    if (!menuLoading) {
      menuLoading = window.MathJax.loader.load("ui/menu").then(() => {
        const doc = window.MathJax.startup.document;
        const Menu = window.MathJax._.ui.menu.Menu.Menu;
        doc.menu = new Menu(doc, {});
        for (const item of doc.math) doc.menu.addMenu(item);
      });
    }
    return menuLoading;
  }

  const MENU_KEY = (event) => event.key === " " || event.key === "ContextMenu"
    || (event.key === "F10" && event.shiftKey);

  function setUpMathMenu() {
    const ready = () => window.MathJax && window.MathJax.loader && window.MathJax.startup;
    document.addEventListener("contextmenu", (event) => {
      const math = event.target.closest && event.target.closest("mjx-container");
      if (!math || !ready() || menuLoading) return;
      event.preventDefault();
      event.stopPropagation();
      loadMathMenu().then(() => math.dispatchEvent(new MouseEvent("contextmenu", {
        bubbles: true, cancelable: true, clientX: event.clientX, clientY: event.clientY})));
    }, true);
    document.addEventListener("keydown", (event) => {
      const math = event.target.closest && event.target.closest("mjx-container");
      if (!math || !ready() || !MENU_KEY(event)) return;
      if (menuLoading && event.key === " ") return;    // MathJax's menu handles Space itself
      event.preventDefault();
      event.stopPropagation();
      loadMathMenu().then(() => {
        const box = math.getBoundingClientRect();
        math.dispatchEvent(new MouseEvent("contextmenu", {
          bubbles: true, cancelable: true, clientX: box.left, clientY: box.bottom}));
      });
    }, true);
    afterMathJax(() => document.querySelectorAll("mjx-container:not([tabindex])")
      .forEach((math) => { math.tabIndex = 0; }));
  }

  // Exposed for the browser tests.
  window.courseBook = { labTreeUrl, texToText };

  function start() {
    setUpZoom();
    setUpEquations();
    setUpJupyterLab();
    setUpSearchSnippets();
    setUpMathMenu();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
