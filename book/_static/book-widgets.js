// The book's widgets on the static site, without a kernel (tools/widget_states.py writes them).
//
// Each widget is a <div class="book-widget"> with its controls and its saved figure. The
// figures of every precomputed setting live in one script per widget (data-states), loaded on
// the reader's first touch (a <script>, so a copy opened from files works too). A control
// moves only to precomputed positions (data-grid): a slider snaps to the next one in the
// direction it moved, so the readout always names the setting the figure shows. The figures one
// move away from the one shown are composed ahead, in idle time, so a move is one drawImage.
(function () {
  "use strict";
  const widgets = {};  // name -> {element, controls, images, ...}
  const timings = [];  // {widget, ms, ahead}: from a control change to the frame showing its figure

  function positions(w) {
    return w.controls.map(c => c.position);
  }

  function stateIndex(w, at = positions(w)) {
    let index = 0;
    w.controls.forEach((c, k) => { index = index * c.grid.length + c.grid.indexOf(at[k]); });
    return index;
  }

  function snap(grid, value, previous) {
    if (grid.includes(value)) return value;
    if (value > previous) return grid.find(p => p >= value) ?? grid[grid.length - 1];
    const below = grid.filter(p => p <= value);
    return below.length ? below[below.length - 1] : grid[0];
  }

  function setStatus(w, text) {
    w.status.textContent = text;
    w.status.hidden = !text;
  }

  function load(w) {
    if (w.loading) return;
    w.loading = true;
    setStatus(w, "Loading the precomputed figures\u2026");
    const script = document.createElement("script");
    script.src = w.element.dataset.states;
    script.onerror = () => setStatus(w, "The precomputed figures could not be loaded.");
    document.head.appendChild(script);
  }

  function decoded(cache, index, uri) {
    if (!cache[index]) {
      const image = new Image();
      image.src = uri;
      cache[index] = image.decode().then(() => image);
    }
    return cache[index];
  }

  // A state is its base figure (one per drop-down/check-box setting) with the pixels that
  // differ drawn over it: exactly the widget's figure. It is composed once, on a canvas of its
  // own, so that showing it again is one drawImage (decoding a WebP takes about a frame).
  function compose(w, index) {
    const [base, diff] = w.data.states[index];
    const parts = [decoded(w.baseImages, base, w.data.bases[base])];
    if (diff) {
      const image = new Image();
      image.src = diff;
      parts.push(image.decode().then(() => image));
    }
    return Promise.all(parts).then(images => {
      const figure = document.createElement("canvas");
      figure.width = w.canvas.width;
      figure.height = w.canvas.height;
      const ctx = figure.getContext("2d");
      for (const image of images) ctx.drawImage(image, 0, 0);
      return figure;
    });
  }

  // The composed figures, least recently used first (a Map keeps insertion order). Bounded:
  // a figure is width x height x 4 bytes (about 1 MB), so at most MAX_FIGURES per widget.
  const MAX_FIGURES = 40;
  function figure(w, index) {
    let entry = w.figures.get(index);
    if (entry) {
      w.figures.delete(index);
    } else {
      entry = {canvas: null};
      entry.promise = compose(w, index).then(canvas => (entry.canvas = canvas));
      entry.promise.catch(() => w.figures.get(index) === entry && w.figures.delete(index));
    }
    w.figures.set(index, entry);
    while (w.figures.size > MAX_FIGURES) w.figures.delete(w.figures.keys().next().value);
    return entry;
  }

  // The states a reader reaches in one move from the positions shown: one step either side on
  // each slider, every other option of a drop-down or check box, each slider's ends (Home/End,
  // a click at the end of the track). Those of the control moved last come first (a drag goes on).
  function neighbours(w) {
    const moved = [], near = [], far = [];
    w.controls.forEach((c, k) => {
      const at = c.grid.indexOf(c.position);
      const steps = c.kind === "slider" ? [at + 1, at - 1] : c.grid.map((_, i) => i);
      const ends = c.kind === "slider" ? [0, c.grid.length - 1] : [];
      for (const [list, moves] of [[k === w.moved ? moved : near, steps], [k === w.moved ? moved : far, ends]]) {
        for (const i of moves) {
          if (i < 0 || i >= c.grid.length || i === at) continue;
          const p = positions(w);
          p[k] = c.grid[i];
          list.push(stateIndex(w, p));
        }
      }
    });
    return [...new Set([...moved, ...near, ...far])].slice(0, MAX_FIGURES - 1);  // the shown one stays cached
  }

  // Compose the neighbours after the frame, one at a time in separate tasks, so an input event
  // that comes meanwhile is handled first; a newer figure replaces the list (w.ahead) with its own
  // neighbours. (Not requestIdleCallback: in Chromium it came so late that 29 of 204 moves of
  // the browser test found their figure not yet composed; with a task after the frame, none.)
  const later = callback => setTimeout(callback, 0);
  function prepareAhead(w) {
    w.ahead = neighbours(w);
    if (w.preparing) return;
    w.preparing = true;
    const next = () => later(() => {
      const index = w.ahead.shift();
      if (index === undefined) { w.preparing = false; return; }
      const entry = figure(w, index);  // composes it, or marks it as recently used
      if (entry.canvas) next();
      else entry.promise.then(next, next);
    });
    next();
  }

  function draw(w, index, canvas, started, ahead) {
    const ctx = w.canvas.getContext("2d");
    ctx.clearRect(0, 0, w.canvas.width, w.canvas.height);
    ctx.drawImage(canvas, 0, 0);
    w.canvas.dataset.state = String(index);
    w.canvas.hidden = false;
    w.img.hidden = true;
    requestAnimationFrame(() => {
      if (started !== undefined) timings.push({widget: w.name, ms: performance.now() - started, ahead});
      w.element.dispatchEvent(new CustomEvent("book-widget-shown", {detail: {index}}));
      prepareAhead(w);
    });
  }

  // Shows the state of the controls' positions: at once when it is composed already, else when
  // it is; only the last change is shown (a fast drag ends on its own figure, never an older one).
  function show(w, started) {
    if (!w.data) { w.pending = true; load(w); return; }
    const index = stateIndex(w);
    const token = ++w.token;
    const entry = figure(w, index);
    if (entry.canvas) { draw(w, index, entry.canvas, started, true); return; }
    entry.promise.then(canvas => {
      if (token === w.token) draw(w, index, canvas, started, false);  // else a later change won
    });
  }

  function setUp(element) {
    const img = element.querySelector(".book-widget-figure img");
    const canvas = document.createElement("canvas");
    canvas.width = Number(img.getAttribute("width"));
    canvas.height = Number(img.getAttribute("height"));
    canvas.hidden = true;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", img.alt);
    img.after(canvas);
    const w = {name: element.dataset.widget, element, token: 0, data: null, baseImages: {}, figures: new Map(),
               ahead: [], preparing: false, img, canvas,
               status: element.querySelector(".book-widget-status"), controls: []};
    widgets[w.name] = w;
    element.querySelectorAll(".book-control").forEach(box => {
      const input = box.querySelector("input, select");
      const c = {input, kind: box.dataset.kind, grid: JSON.parse(box.dataset.grid),
                 labels: box.dataset.labels ? JSON.parse(box.dataset.labels) : null,
                 readout: box.querySelector("output")};
      c.position = Number(c.kind === "checkbox" ? input.checked : input.value);
      w.controls.push(c);
      const changed = (event) => {
        const started = performance.now();
        const value = Number(c.kind === "checkbox" ? input.checked : input.value);
        const position = c.kind === "slider" ? snap(c.grid, value, c.position) : value;
        if (c.kind === "slider") {
          input.value = String(position);
          c.readout.textContent = c.labels[position];
          input.setAttribute("aria-valuetext", c.labels[position]);
        }
        if (position === c.position && event.type === "input") return;
        c.position = position;
        w.moved = w.controls.indexOf(c);
        show(w, started);
      };
      input.addEventListener(c.kind === "slider" ? "input" : "change", changed);
    });
    // the first touch (pointer, finger or keyboard focus) loads the figures
    for (const type of ["pointerdown", "touchstart", "focusin"]) {
      element.addEventListener(type, () => load(w), {passive: true});
    }
  }

  window.bookWidgets = {
    widgets, timings,
    // called by each widget's states script
    loaded(name, data) {
      const w = widgets[name];
      if (!w) return;
      if (JSON.stringify(data.grids) !== JSON.stringify(w.controls.map(c => c.grid))) {
        setStatus(w, "The precomputed figures do not belong to this page (rebuild the site).");
        return;
      }
      w.data = data;
      w.pythonClass = data.widget;
      setStatus(w, "");
      w.element.classList.add("book-widget-ready");
      w.pending = false;
      show(w);  // the saved figure, now drawn from the states (the same pixels)
    },
    // for the tests: the positions shown and the figure's index
    current(name) {
      const w = widgets[name];
      return {positions: positions(w), state: w.canvas.hidden ? null : Number(w.canvas.dataset.state),
              ready: !!w.data, pythonClass: w.pythonClass ?? null};
    },
  };

  document.querySelectorAll(".book-widget").forEach(setUp);
})();
