// Calendar links: copy buttons for the feed URL and the instructions page. Progressive
// enhancement: without JavaScript each URL is still in a read-only text field that can be
// selected and copied, and the buttons stay hidden.
(function () {
  "use strict";
  var rows = document.querySelectorAll("[data-copy-row]");
  Array.prototype.forEach.call(rows, function (row) {
    var target = row.getAttribute("data-copy-target");
    var source = target ? document.getElementById(target) : document.querySelector("[data-copy-source]");
    var button = row.querySelector("[data-copy-button]");
    var status = row.querySelector("[data-copy-status]");
    if (!source || !button || !status) { return; }
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
  });
}());
