// Search as you type: completions under the search box (an ARIA 1.2 combobox) and, on the
// results page, results replaced in place while typing, with the address kept in step.
// Progressive enhancement only: without this file the form submits as ever.
(function () {
  "use strict";
  var form = document.querySelector("form[data-complete-url]");
  var box = form && form.querySelector("input[name=q]");
  if (!box || !window.fetch || !window.history || !window.DOMParser) return;

  var COMPLETE_DELAY = 120;  // ms after the last key before asking for completions
  var LIVE_DELAY = 350;      // ms after the last key before searching (results page only)
  var MIN_LIVE = 2;          // characters before searching as you type
  var counts = JSON.parse(form.getAttribute("data-count-messages") || "[]");
  var live = !!document.querySelector("[data-live-results]");

  // The popup: a listbox owned by the input.
  var list = document.createElement("ul");
  list.id = box.id + "-listbox";
  list.className = "completions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", form.getAttribute("data-listbox-label") || "");
  list.hidden = true;
  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  var row = box.parentNode;
  row.classList.add("has-completions");
  row.appendChild(list);
  form.appendChild(status);
  box.setAttribute("role", "combobox");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-expanded", "false");
  box.setAttribute("aria-controls", list.id);

  var options = [];      // the completions shown: [{text, lang, kind}]
  var optionsFor = null; // the box's value they complete
  var pendingLive = false;
  var active = -1;       // index of the highlighted option, -1 for none
  var completeTimer = 0, liveTimer = 0;
  var completeSeq = 0, liveSeq = 0;
  var completeAbort = null, liveAbort = null;
  var typedSincePush = false;  // a live search since the last history entry was added

  function lang() {
    var match = /[?&]lang=(sl|en)(?:&|$)/.exec(window.location.search);
    return match ? match[1] : "";
  }

  function close() {
    list.hidden = true;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    var items = list.children;
    for (var i = 0; i < items.length; i++) {
      items[i].setAttribute("aria-selected", i === index ? "true" : "false");
    }
    active = index;
    if (index >= 0) {
      box.setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({block: "nearest"});
    } else {
      box.removeAttribute("aria-activedescendant");
    }
  }

  function render(found) {
    options = found;
    while (list.firstChild) list.removeChild(list.firstChild);
    found.forEach(function (c, i) {
      var li = document.createElement("li");
      li.id = list.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.setAttribute("lang", c.lang);
      li.className = "completion completion--" + c.kind;
      li.textContent = c.text;  // text, never markup
      var badge = document.createElement("span");
      badge.className = "completion-lang";
      badge.setAttribute("aria-hidden", "true");
      badge.textContent = c.lang.toUpperCase();
      li.appendChild(badge);
      li.addEventListener("mousedown", function (event) {
        event.preventDefault();  // keep the focus in the box
        choose(i);
      });
      list.appendChild(li);
    });
    active = -1;
    box.removeAttribute("aria-activedescendant");
    var open = found.length > 0 && document.activeElement === box;
    list.hidden = !open;
    box.setAttribute("aria-expanded", open ? "true" : "false");
    status.textContent = open ? (counts[found.length] || "") : "";
  }

  function askCompletions() {
    var q = box.value;
    if (!q.trim()) { render([]); return; }
    var seq = ++completeSeq;
    if (completeAbort) completeAbort.abort();
    completeAbort = window.AbortController ? new AbortController() : null;
    var url = form.getAttribute("data-complete-url") + "?q=" + encodeURIComponent(q.slice(0, 100));
    if (lang()) url += "&lang=" + lang();
    fetch(url, {headers: {"Accept": "application/json"},
                signal: completeAbort ? completeAbort.signal : undefined})
      .then(function (r) { return r.ok ? r.json() : {completions: []}; })
      .then(function (body) {
        if (seq !== completeSeq || box.value !== q) return;
        render(body.completions || []);
        optionsFor = q;
        if (pendingLive) liveSearch();
      })
      .catch(function () { /* offline or aborted: no completions, the form still works */ });
  }

  function searchUrl(q) {
    var params = new URLSearchParams(window.location.search);
    params.set("q", q);
    params.delete("page");
    return form.getAttribute("action") + "?" + params.toString();
  }

  // Fetch a results page and put its <main> in place of ours. ``how``: "push" (a new
  // history entry), "replace" (refine the current one) or "none" (going back/forward).
  function showResults(url, how, logged) {
    var seq = ++liveSeq;
    if (liveAbort) liveAbort.abort();
    liveAbort = window.AbortController ? new AbortController() : null;
    var headers = {"Accept": "text/html"};
    if (!logged) headers["X-Search-Live"] = "1";  // not a search of record (query log)
    return fetch(url, {headers: headers, signal: liveAbort ? liveAbort.signal : undefined})
      .then(function (r) {
        if (!r.ok && r.status !== 400) throw new Error(String(r.status));
        return r.text();
      })
      .then(function (html) {
        if (seq !== liveSeq) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        var main = document.getElementById("main");
        if (!fresh || !main) return;
        main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes));
        document.title = doc.title;
        var state = {q: new URLSearchParams(url.split("?")[1] || "").get("q") || ""};
        if (how === "push") window.history.pushState(state, "", url);
        else if (how === "replace") window.history.replaceState(state, "", url);
      })
      .catch(function () { /* keep what is shown; a submit still works */ });
  }

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }

  // Search only once the last word is a whole word: typed with a space after it, or one of
  // the completions is exactly what was typed. Prefixes ("quo") would find nothing and
  // flash "no results" at every key.
  function wordFinished(value) {
    if (/\s$/.test(value)) return true;
    var typed = fold(value);
    return options.some(function (c) { return fold(c.text) === typed; });
  }

  function liveSearch() {
    pendingLive = false;
    var q = box.value.trim();
    if (q.length < MIN_LIVE) return;
    if (optionsFor !== box.value && !/\s$/.test(box.value)) {
      pendingLive = true;  // decide when this value's completions arrive
      return;
    }
    if (!wordFinished(box.value)) return;
    var url = searchUrl(q);
    if (url === window.location.pathname + window.location.search) return;
    // The first search of a burst of typing adds a history entry; the rest refine it, so
    // Back goes to the results before the typing, not to every prefix.
    showResults(url, typedSincePush ? "replace" : "push", false);
    typedSincePush = true;
  }

  function submit(q) {
    close();
    if (live) {
      var url = searchUrl(q);
      var current = window.location.pathname + window.location.search;
      // A query typed live already has its entry (refine it); else this is a new one.
      var how = url === current ? "replace" : (typedSincePush ? "replace" : "push");
      typedSincePush = false;
      showResults(url, how, true);
      return;
    }
    form.submit();
  }

  function choose(index) {
    var c = options[index];
    if (!c) return;
    box.value = c.text;
    submit(c.text);
  }

  box.addEventListener("input", function () {
    pendingLive = false;
    window.clearTimeout(completeTimer);
    completeTimer = window.setTimeout(askCompletions, COMPLETE_DELAY);
    if (live) {
      window.clearTimeout(liveTimer);
      liveTimer = window.setTimeout(liveSearch, LIVE_DELAY);
    }
  });

  box.addEventListener("keydown", function (event) {
    var open = !list.hidden && options.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) {
        if (options.length && box.value.trim()) {
          render(options);
        } else {
          return;
        }
      }
      event.preventDefault();
      var n = options.length;
      var next = event.key === "ArrowDown" ? (active + 1) % n : (active <= 0 ? n - 1 : active - 1);
      highlight(next);
    } else if (event.key === "Enter") {
      window.clearTimeout(liveTimer);
      window.clearTimeout(completeTimer);
      if (open && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (live && box.value.trim()) {
        event.preventDefault();
        submit(box.value.trim());
      } else {
        close();  // the form submits as ever
      }
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        close();
      } else if (box.value) {
        event.preventDefault();
        box.value = "";
        render([]);
      }
    } else if (event.key === "Tab") {
      close();
    }
  });

  box.addEventListener("blur", function () { window.setTimeout(close, 0); });

  window.addEventListener("popstate", function (event) {
    if (!live) return;
    var q = (event.state && event.state.q) ||
      new URLSearchParams(window.location.search).get("q") || "";
    box.value = q;
    close();
    typedSincePush = false;
    showResults(window.location.pathname + window.location.search, "none", false);
  });
  if (live) {
    window.history.replaceState({q: box.value}, "", window.location.href);
  }
})();
