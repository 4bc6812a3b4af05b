// A figure wider than its box (on a phone: tools/offline_assets.py keeps its text legible)
// says that it scrolls sideways: the box gets the class book-scrolls, whose note the site's CSS
// shows above the figure. Checked again whenever the box changes size (a rotated phone, a lazy
// figure that has loaded, a widget that swapped its image for its canvas).
(function () {
  "use strict";
  const boxes = document.querySelectorAll(".book-figure-box, .book-widget-figure");
  const mark = (box) => box.classList.toggle("book-scrolls", box.scrollWidth > box.clientWidth + 1);
  const observer = new ResizeObserver((entries) => entries.forEach((entry) =>
    mark(entry.target.closest(".book-figure-box, .book-widget-figure"))));
  boxes.forEach((box) => {
    observer.observe(box);
    box.querySelectorAll("img, canvas").forEach((figure) => observer.observe(figure));
  });
})();
