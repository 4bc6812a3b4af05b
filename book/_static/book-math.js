// The formulas on screen are typeset first, the others afterwards in small batches while the
// page is idle (MathJax's own typesetting at start-up is off: mathjax3_config in _config.yml).
// Typeset all at once, a chapter's 300-500 formulas held Chromium's main thread for 2-3 s before
// its first view was readable (issue 17). Every typesetting call is queued on
// MathJax.startup.promise, as MathJax asks (the widget labels' calls are queued there too).
// window.bookMath.inView: a promise of the time (performance.now()) at which the formulas on
// screen were typeset; window.bookMath.all: a promise that every formula of the page is.
(function () {
  "use strict";
  const BATCH = 40;  // formulas per idle moment: a few tens of milliseconds of work
  let markInView, markAll;
  window.bookMath = {inView: new Promise((resolve) => { markInView = resolve; }),
                     all: new Promise((resolve) => { markAll = resolve; })};
  const idle = window.requestIdleCallback || ((callback) => setTimeout(callback, 50));
  // how far a formula is from the screen, in px: 0 on screen, Infinity hidden (a folded solution)
  const distance = (element) => {
    const box = element.getBoundingClientRect();
    if (box.height === 0) return Infinity;
    return Math.max(0, -box.bottom, box.top - window.innerHeight);
  };
  document.addEventListener("DOMContentLoaded", () => {  // after every deferred script, MathJax's too
    const mathjax = window.MathJax;
    if (!mathjax || !mathjax.startup || !mathjax.startup.promise) {  // a page without formulas
      markInView(performance.now());
      markAll();
      return;
    }
    const queue = (job) => (mathjax.startup.promise = mathjax.startup.promise.then(job));
    // what MathJax typesets in these pages (processHtmlClass; the chapters' text is in an ignored
    // section): the outermost of those elements, since typesetting an element again would also
    // typeset the MathML that MathJax put into it for screen readers
    const selector = ".math, .output_area, .tex2jax_process, .mathjax_process";
    const formulas = Array.from(document.querySelectorAll(selector))
      .filter((element) => !element.parentElement.closest(selector));
    // those on screen first, then the nearest; sorted again when the page has scrolled (a page
    // opened at a section's link scrolls there after this first sort)
    const rest = formulas;
    let sortedAt = null;
    const sortByDistance = () => {
      const far = new Map(rest.map((formula) => [formula, distance(formula)]));
      rest.sort((a, b) => far.get(a) - far.get(b));
      sortedAt = window.scrollY;
      return far;
    };
    const far = sortByDistance();
    const offScreen = rest.findIndex((formula) => far.get(formula) > 0);
    const first = rest.splice(0, offScreen === -1 ? rest.length : offScreen);
    const next = () => {
      if (!rest.length) {
        markAll();
        return;
      }
      if (window.scrollY !== sortedAt) sortByDistance();
      const batch = rest.splice(0, BATCH);
      queue(() => mathjax.typesetPromise(batch)).then(() => idle(next), () => idle(next));
    };
    queue(() => first.length ? mathjax.typesetPromise(first) : null).then(() => {
      markInView(performance.now());
      idle(next);
    });
  });
})();
