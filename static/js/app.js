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
  // The tutor list follows the chosen company: <select data-filter-by="company"> whose options carry
  // data-company; a tutor of another company is hidden (and unselected). No company: every tutor.
  function filterTutors(form) {
    var company = form && form.querySelector('select[name="company"]');
    var tutor = form && form.querySelector('select[data-filter-by="company"]');
    if (!company || !tutor) { return; }
    tutor.querySelectorAll("option[data-company]").forEach(function (option) {
      var shown = !company.value || option.dataset.company === company.value;
      option.hidden = !shown;
      option.disabled = !shown;
      if (!shown && option.selected) { tutor.value = ""; }
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches('select[name="company"]')) { filterTutors(event.target.form); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('select[data-filter-by="company"]').forEach(function (select) {
      filterTutors(select.form);
    });
  });
  // Auto-submit filters: <select data-autosubmit>.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) {
      event.target.form.requestSubmit();
    }
  });
  // Error summary: a form re-displayed with invalid fields (crispy marks them .is-invalid) gets, at its top,
  // a list of the errors linking to each field, and the focus moves there so screen readers announce it.
  function fieldLabel(form, field) {
    var label = field.id && form.querySelector('label[for="' + field.id + '"]');
    if (field.type === "radio" || field.type === "checkbox") {
      var fieldset = field.closest("fieldset");
      var legend = fieldset && fieldset.querySelector("legend");
      if (legend) { label = legend; }
    }
    return label ? label.textContent.replace(/\*/g, "").trim() : field.name;
  }
  function fieldError(field) {
    var group = field.closest(".mb-3, fieldset, .form-group") || field.parentElement;
    var feedback = group && group.querySelector(".invalid-feedback, .invalid-feedback-block");
    return feedback ? feedback.textContent.trim() : "";
  }
  function buildErrorSummaries(root) {
    var title = document.body.dataset.errorSummaryTitle;
    var focused = false;
    (root || document).querySelectorAll("form").forEach(function (form) {
      if (!title || form.querySelector(".error-summary")) { return; }
      var seen = {};
      var items = [];
      form.querySelectorAll(".is-invalid[id]").forEach(function (field) {
        var key = field.name || field.id;
        if (seen[key]) { return; }
        seen[key] = true;
        items.push({ id: field.id, label: fieldLabel(form, field), error: fieldError(field) });
      });
      if (!items.length) { return; }
      var box = document.createElement("div");
      box.className = "alert alert-danger error-summary";
      box.setAttribute("role", "alert");
      box.tabIndex = -1;
      var heading = document.createElement("p");
      heading.className = "fw-semibold mb-1";
      heading.textContent = title;
      var list = document.createElement("ul");
      list.className = "mb-0";
      items.forEach(function (item) {
        var link = document.createElement("a");
        link.href = "#" + item.id;
        link.textContent = item.error ? item.label + " : " + item.error : item.label;
        var li = document.createElement("li");
        li.appendChild(link);
        list.appendChild(li);
      });
      box.appendChild(heading);
      box.appendChild(list);
      form.insertBefore(box, form.firstChild);
      if (!focused) { box.focus(); focused = true; }
    });
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".error-summary a[href^='#']");
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (field) { event.preventDefault(); field.focus(); }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { buildErrorSummaries(); });
  } else {
    buildErrorSummaries();
  }
  document.addEventListener("htmx:afterSwap", function (event) { buildErrorSummaries(event.target); });
  // « Copier le lien » (the tutor's invitation, for staff who phone him): <form data-copy-link> posts with
  // fetch, gets a fresh link as JSON, shows it in the readonly field of the box named by data-copy-link and
  // copies it. Without JavaScript the form posts and the answer page shows the same readonly field.
  // <button data-copy-target="#field"> (hidden until this script shows it) copies a field's value.
  function copyText(text, status, field) {
    function done(message) {
      if (status) { status.textContent = message; }
    }
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () {
        done(status.dataset.copied);
      }, function () {
        field.focus(); field.select(); done(status.dataset.manual);
      });
    }
    field.focus(); field.select();
    done(status.dataset.manual);
    return Promise.resolve();
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-copy-link]") || event.defaultPrevented) { return; }
    event.preventDefault();
    var box = document.querySelector(form.dataset.copyLink);
    var field = box.querySelector("input");
    var status = document.getElementById(box.id + "-status");  // outside the hidden box: announced
    var button = form.querySelector("[type=submit]");
    button.disabled = true;
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {"Accept": "application/json"},
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    }).then(function (answer) {
      button.disabled = false;
      box.hidden = false;
      if (!answer.ok) {
        field.value = "";
        status.textContent = answer.data.error;
        return;
      }
      field.value = answer.data.url;
      return copyText(answer.data.url, status, field);
    }).catch(function () {
      button.disabled = false;
      box.hidden = false;
      status.textContent = status.dataset.failed;
    });
  });
  function showCopyButtons(root) {
    (root || document).querySelectorAll("button[data-copy-target]").forEach(function (button) {
      button.hidden = false;
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy-target]");
    if (!button) { return; }
    var field = document.querySelector(button.dataset.copyTarget);
    copyText(field.value, document.querySelector(button.dataset.copyStatus), field);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { showCopyButtons(); });
  } else {
    showCopyButtons();
  }
  // Tables wider than their box scroll sideways: keyboard users must be able to focus the box to scroll it
  // (WCAG 2.1.1); it is named after the table's caption.
  function focusableScrollRegions(root) {
    (root || document).querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.scrollWidth <= box.clientWidth + 1 || box.hasAttribute("tabindex")) { return; }
      box.tabIndex = 0;
      if (!box.hasAttribute("role")) { box.setAttribute("role", "region"); }
      if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
        var caption = box.querySelector("caption");
        var name = caption && caption.textContent.trim();
        box.setAttribute("aria-label", name || document.body.dataset.scrollRegionLabel || "");
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { focusableScrollRegions(); });
  } else {
    focusableScrollRegions();
  }
  document.addEventListener("htmx:afterSwap", function (event) { focusableScrollRegions(event.target); });
})();
