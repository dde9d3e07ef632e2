import { initAll } from "/vendor/govuk/govuk-frontend.min.js";

initAll();

// htmx requests carry the session's CSRF token from the form that sends them.
document.body.addEventListener("htmx:configRequest", (event) => {
  const form = event.detail.elt.closest("form");
  const token = form && form.querySelector("input[name=csrf_token]");
  if (token) {
    event.detail.headers["X-CSRF-Token"] = token.value;
  }
});
