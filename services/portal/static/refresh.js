/* Ask for a peer: while the officer's request waits, check its state every few seconds
   and show it when it changes, without reloading the page. The news is read out through
   the page's status line (#request-news); focus inside the block moves to its heading.
   Checks pause while the page is hidden and stop after 30 minutes (the session may end)
   or once the request is no longer waiting. Without this script, "Check now" reloads. */
(function () {
  "use strict";
  var block = document.getElementById("request-state");
  if (!block || !block.getAttribute("data-refresh") || !window.fetch || !window.DOMParser) {
    return;
  }
  var EVERY = 5000;
  var stopAt = Date.now() + 30 * 60 * 1000;
  var news = document.getElementById("request-news");

  function later(delay) {
    if (Date.now() < stopAt) {
      window.setTimeout(check, delay);
    }
  }

  function show(fresh) {
    var hadFocus = block.contains(document.activeElement);
    block.replaceWith(fresh);
    block = fresh;
    var heading = fresh.querySelector("h2");
    if (heading && news) {
      news.textContent = heading.textContent;
    }
    if (heading && hadFocus) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }

  function check() {
    if (document.hidden) {
      later(EVERY);
      return;
    }
    fetch(block.getAttribute("data-refresh"), {
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
      headers: { Accept: "text/html" }
    })
      .then(function (answer) {
        if (!answer.ok) {
          throw new Error("status " + answer.status);
        }
        return answer.text();
      })
      .then(function (html) {
        var parsed = new DOMParser().parseFromString(html, "text/html");
        var fresh = parsed.getElementById("request-state");
        if (fresh && fresh.getAttribute("data-key") !== block.getAttribute("data-key")) {
          show(document.importNode(fresh, true));
        }
        if (block.getAttribute("data-refresh")) {
          later(EVERY);
        }
      })
      .catch(function () {
        later(EVERY * 3);
      });
  }

  later(EVERY);
})();
