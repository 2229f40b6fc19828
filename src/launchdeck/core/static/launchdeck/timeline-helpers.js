// Helpers shared by the pages drawn with vis-timeline (the release timeline, the environment schedule): days from the
// server's "YYYY-MM-DD" as local midnights, and small DOM nodes. Loaded before the page's own script.
(function () {
  "use strict";
  function day(text) {
    var parts = text.split("-");
    return new Date(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]));
  }
  function dayAfter(text) {
    var date = day(text);
    date.setDate(date.getDate() + 1);
    return date;
  }
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  window.LaunchdeckTimeline = { day: day, dayAfter: dayAfter, element: element };
})();
