// Small behaviours the service desk adds on top of htmx and Bootstrap.
document.addEventListener("htmx:sendError", () => {
  const box = document.querySelector("main");
  if (box && !document.getElementById("offline-alert")) {
    box.insertAdjacentHTML("afterbegin",
      '<div id="offline-alert" class="alert alert-warning py-2">Cannot reach the service desk — retrying.</div>');
  }
});
document.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail.successful) document.getElementById("offline-alert")?.remove();
});
// With DEBUG on, django-htmx shows any 400/403/404 answer as a full-page error. A partial the
// desk rendered on purpose (a form with its errors, a refused action) is swapped in place
// instead: stopping the event on its way down keeps it from django-htmx's listener.
window.addEventListener("htmx:beforeOnLoad", (event) => {
  if (event.detail.xhr.getResponseHeader("X-Desk-Partial")) event.stopPropagation();
}, true);
