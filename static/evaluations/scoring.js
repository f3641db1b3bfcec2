/* Scoring grid: autosave through htmx on every change, safe explicit save, keyboard shortcuts.
   No inline script (CSP): loaded with <script src defer> from templates/evaluations/score.html. */
(function () {
  "use strict";
  var form = document.getElementById("scoring-form");
  if (!form || !form.dataset.autosaveUrl || !window.htmx) { return; }
  var timer = null;
  var inFlight = false;
  var waiting = false;
  var waitingAction = "";

  function paused() {
    var status = document.getElementById("save-status");
    return status && (status.dataset.state === "conflict" || status.dataset.state === "locked");
  }
  function schedule(delay) {
    if (paused()) { return; }
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { htmx.trigger(form, "autosave"); }, delay);
  }
  // Radios save at once, text fields after a pause in typing.
  form.addEventListener("change", function (event) {
    schedule(event.target.type === "radio" ? 150 : 400);
  });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA") { schedule(1500); }
  });
  form.addEventListener("htmx:beforeRequest", function (event) {
    if (paused() || waiting) { event.preventDefault(); return; }
    inFlight = true;
  });
  form.addEventListener("htmx:afterRequest", function () {
    inFlight = false;
    if (waiting) {
      // The response has updated the hidden version: post the form with it (already confirmed).
      window.setTimeout(function () {
        var action = document.createElement("input");
        action.type = "hidden";
        action.name = "action";
        action.value = waitingAction;
        form.appendChild(action);
        form.submit();
      }, 50);
    }
  });
  // Conflict (409) and validation (400) answers carry a status line to show.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 409 || status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // An explicit save must not race an autosave in flight (it would carry an outdated version).
  form.addEventListener("submit", function (event) {
    window.clearTimeout(timer);
    if (inFlight && !event.defaultPrevented) {
      event.preventDefault();
      waiting = true;
      waitingAction = event.submitter ? event.submitter.value : "save";
    }
  });
  // Keyboard: 1 / 2 / 3 choose acquis / non acquis / non observé in the focused criterion.
  form.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey) { return; }
    if (event.target.tagName === "TEXTAREA" || event.target.tagName === "INPUT" && event.target.type === "text") { return; }
    var row = event.target.closest("[data-criterion]");
    if (!row || ["1", "2", "3"].indexOf(event.key) === -1) { return; }
    var radio = row.querySelector('input[type="radio"][data-key="' + event.key + '"]');
    if (radio && !radio.disabled) {
      event.preventDefault();
      radio.checked = true;
      radio.focus();
      radio.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
})();
