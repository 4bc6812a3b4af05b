// Search ranks the book's pages before the entries of the course_lib reference: a reader who
// searches "momentum" wants the chapter first, then the functions. (Sphinx's default scores,
// with the results of the reference's pages, book/appendix/api and book/appendix/api/*, moved
// after every other page's; tools/offline_assets.py sets html_search_scorer to this file.)
const REFERENCE_PAGE = /(^|\/)appendix\/api(\/|$)/;
var Scorer = {
  score: (result) => {
    const [docname, , , , score] = result;
    return REFERENCE_PAGE.test(docname) ? score - 1000 : score;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: {0: 15, 1: 5, 2: -5},
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
