// The sidebars open and close from the buttons a reader sees.
//
// pydata-sphinx-theme and sphinx-book-theme bind their sidebar toggles to the first
// `.primary-toggle` / `.secondary-toggle` of the page (document.querySelector), which is the
// copy in pydata's header band, hidden by this site; the visible copies in the article header
// did nothing. Each other copy now clicks the bound one.
(function () {
  "use strict";
  for (const kind of ["primary", "secondary"]) {
    const [bound, ...others] = document.querySelectorAll(`.${kind}-toggle`);
    for (const button of others) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    }
  }
})();
