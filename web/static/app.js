// Progressive enhancement only: every page works without this file.
// Pressing "/" anywhere (outside a text field) puts the cursor in the search box.
(function () {
  "use strict";
  var box = document.getElementById("q");
  if (!box) return;
  var hints = document.querySelectorAll(".slash-hint");
  for (var i = 0; i < hints.length; i++) hints[i].hidden = false;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) return;
    event.preventDefault();
    box.focus();
    box.select();
  });
})();
