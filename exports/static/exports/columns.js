// The export page. Once the form is submitted the download starts and the page stays, so say so, and offer the
// way back. The button stays usable: a second click downloads again.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("exports-columns-form");
  const started = document.getElementById("exports-started");
  if (!form || !started) {
    return;
  }
  // The dialect is CSV's: show it only while CSV is the chosen format.
  const format = document.getElementById("id_exports_format");
  const dialect = form.querySelector(".exports-dialect");
  if (format && dialect) {
    const toggle = () => {
      // The admin's stylesheet gives a form row a display of its own, which the hidden attribute does not override.
      dialect.style.display = format.value === "csv" ? "" : "none";
    };
    format.addEventListener("change", toggle);
    toggle();
  }
  form.addEventListener("submit", () => {
    started.hidden = false;
    const button = form.querySelector("input[type=submit]");
    if (button) {
      button.value = button.dataset.again || button.value;
    }
  });
});
