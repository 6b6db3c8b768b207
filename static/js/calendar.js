// Calendar links: a copy button for the feed URL. Progressive enhancement: without JavaScript
// the URL is still in a read-only text field that can be selected and copied.
(function () {
  "use strict";
  var source = document.querySelector("[data-copy-source]");
  var row = document.querySelector("[data-copy-row]");
  if (!source || !row) { return; }
  var button = row.querySelector("[data-copy-button]");
  var status = row.querySelector("[data-copy-status]");
  row.hidden = false;
  source.addEventListener("focus", function () { source.select(); });
  button.addEventListener("click", function () {
    var done = function () { status.textContent = button.getAttribute("data-copied-text"); };
    source.focus();
    source.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(done, function () {
        if (document.execCommand("copy")) { done(); }
      });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
}());
