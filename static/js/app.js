/* Site-wide behaviour without inline scripts (the Content-Security-Policy forbids them). */
(function () {
  "use strict";
  // Ask for confirmation before irreversible actions: <form data-confirm="Texte"> or <button data-confirm>.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var text = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
    if (text && !window.confirm(text)) {
      event.preventDefault();
    }
  }, true);
  // Auto-submit filters: <select data-autosubmit>.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) {
      event.target.form.requestSubmit();
    }
  });
})();
