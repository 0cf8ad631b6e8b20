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
