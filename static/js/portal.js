// The portal's own small behaviours; pages work without them. No inline scripts anywhere (CSP).
(function () {
  "use strict";

  // --- Reader mode for older users (适老化): larger text, higher contrast --------------------------------
  // The choice lives in a cookie (so the server renders <html class="reader-mode"> on the next page, with no
  // flash of small text) and in localStorage (kept should the cookie be cleared).
  var READER = "portal_reader";
  var ONE_YEAR = 365 * 24 * 60 * 60;
  var root = document.documentElement;

  function cookieValue(name) {
    var match = document.cookie.match(new RegExp("(?:^|;\\s*)" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : null;
  }

  function storedValue() {
    try {
      return window.localStorage.getItem(READER);
    } catch (error) {
      return null; // storage switched off: the cookie alone remembers
    }
  }

  function remember(on) {
    var value = on ? "1" : "0";
    var secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = READER + "=" + value + "; Max-Age=" + ONE_YEAR + "; Path=/; SameSite=Lax" + secure;
    try {
      window.localStorage.setItem(READER, value);
    } catch (error) {
      // nothing to do: the cookie remembers
    }
  }

  function applyReader(on) {
    root.classList.toggle("reader-mode", on);
    var switches = document.querySelectorAll("[data-reader-toggle]");
    for (var i = 0; i < switches.length; i++) {
      switches[i].setAttribute("aria-pressed", on ? "true" : "false");
      if (switches[i].name === "reader") {
        switches[i].value = on ? "0" : "1"; // what a submit without JavaScript would set next
      }
    }
  }

  function readerWanted() {
    var cookie = cookieValue(READER);
    if (cookie === "1" || cookie === "0") {
      return cookie === "1";
    }
    return storedValue() === "1";
  }

  var readerOn = readerWanted();
  applyReader(readerOn);
  if (cookieValue(READER) === null && readerOn) {
    remember(true); // restore the cookie from localStorage, so the server renders the next page right
  }
  var toggles = document.querySelectorAll("[data-reader-toggle][hidden]");
  for (var t = 0; t < toggles.length; t++) {
    toggles[t].hidden = false;
  }

  // --- The error summary of a failed form: take the focus, and let its links focus the field -----------
  function focusErrorSummary() {
    var summary = document.getElementById("error-summary");
    if (!summary) {
      return;
    }
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }

  function fieldLabel(field) {
    var fieldset = field.closest("fieldset");
    if ((field.type === "radio" || field.type === "checkbox") && fieldset) {
      return fieldset.querySelector("legend") || fieldset;
    }
    return (field.id && document.querySelector('label[for="' + CSS.escape(field.id) + '"]')) || field;
  }

  function focusField(link) {
    var id = decodeURIComponent(link.getAttribute("href").slice(1));
    var field = document.getElementById(id);
    if (!field) {
      return false;
    }
    fieldLabel(field).scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
    return true;
  }

  document.addEventListener("click", function (event) {
    var printButton = event.target.closest("[data-print]");
    if (printButton) {
      event.preventDefault();
      window.print();
      return;
    }
    var reader = event.target.closest("[data-reader-toggle]");
    if (reader) {
      event.preventDefault();
      readerOn = !root.classList.contains("reader-mode");
      applyReader(readerOn);
      remember(readerOn);
      return;
    }
    var summaryLink = event.target.closest('#error-summary a[href^="#"]');
    if (summaryLink && focusField(summaryLink)) {
      event.preventDefault();
      return;
    }
    // The skip link moves the focus without putting "#main" into the address: a form posting back to the
    // page would carry it, and the browser's jump to it would take the focus from the error summary.
    var skip = event.target.closest(".skip-link");
    var target = skip && document.getElementById(skip.getAttribute("href").slice(1));
    if (target) {
      event.preventDefault();
      target.focus();
    }
  });

  focusErrorSummary();
  window.addEventListener("load", function () {
    var active = document.activeElement;
    if (!active || active === document.body || active.id === "main") {
      focusErrorSummary(); // an address ending in #main took the focus meanwhile
    }
  });
})();
