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
// A queue row opens its incident wherever it is clicked (the links in it keep their own
// target). Here, not in an onclick attribute: the Content-Security-Policy allows no inline code.
document.addEventListener("click", (event) => {
  const row = event.target.closest("tr[data-href]");
  if (row && !event.target.closest("a, input, label")) window.location.href = row.dataset.href;
});
// A poll marked data-poll-when-visible skips its turn while the tab is hidden (an htmx trigger
// filter would do it, but filters are evaluated JavaScript, which the policy forbids).
// It also waits while rows are ticked for a bulk action, which a refresh would untick.
document.addEventListener("htmx:beforeRequest", (event) => {
  const elt = event.detail.elt;
  if (elt.hasAttribute?.("data-poll-when-visible")
      && (document.visibilityState !== "visible" || elt.querySelector(".row-select:checked"))) {
    event.preventDefault();
  }
});

// The people picker (itsm/people.py): ten matches as the agent types, arrows and Enter to
// choose. The hidden input holds the chosen id; typing again clears it until a new choice.
(() => {
  const timers = new WeakMap();
  const parts = (input) => {
    const picker = input.closest("[data-person-picker]");
    return {picker, hidden: picker.querySelector("input[type=hidden]"),
            list: picker.querySelector(".person-results")};
  };
  const close = (list) => { list.hidden = true; list.previousElementSibling.setAttribute("aria-expanded", "false"); };
  const search = async (input) => {
    const {picker, list} = parts(input);
    const url = new URL(picker.dataset.searchUrl, location.href);
    url.searchParams.set("q", input.value);
    const teamField = picker.dataset.teamField && input.form?.elements[picker.dataset.teamField];
    if (teamField?.value) url.searchParams.set("team", teamField.value);
    const response = await fetch(url, {headers: {"X-Requested-With": "fetch"}});
    if (!response.ok || document.activeElement !== input) return;
    list.innerHTML = await response.text();
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  };
  const choose = (input, option) => {
    const {hidden, list} = parts(input);
    hidden.value = option.dataset.id;
    input.value = option.dataset.label;
    input.classList.remove("is-invalid");
    close(list);
  };
  const isPicker = (el) => el?.matches?.("[data-person-picker] input[type=search]");

  document.addEventListener("input", (event) => {
    const input = event.target;
    if (!isPicker(input)) return;
    parts(input).hidden.value = "";
    clearTimeout(timers.get(input));
    timers.set(input, setTimeout(() => search(input), 200));
  });
  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!isPicker(input)) return;
    const {list} = parts(input);
    const options = [...list.querySelectorAll("[role=option]")];
    const current = options.findIndex((o) => o.classList.contains("active"));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) return search(input);
      const next = (current + (event.key === "ArrowDown" ? 1 : -1) + options.length) % options.length;
      options.forEach((o, i) => o.classList.toggle("active", i === next));
    } else if (event.key === "Enter" && !list.hidden && options.length) {
      event.preventDefault();  // choosing is not submitting
      choose(input, options[Math.max(current, 0)]);
    } else if (event.key === "Escape") {
      close(list);
    }
  });
  document.addEventListener("mousedown", (event) => {
    const option = event.target.closest?.(".person-results [role=option]");
    if (option) {
      event.preventDefault();  // keep the focus in the text box
      choose(option.closest("[data-person-picker]").querySelector("input[type=search]"), option);
    }
  });
  document.addEventListener("focusout", (event) => {
    if (isPicker(event.target)) close(parts(event.target).list);
  });
})();

// "Create problem from selected" in the queue: says how many rows are ticked, and waits for one.
(() => {
  const update = () => {
    const button = document.querySelector("[data-testid=bulk-problem]");
    if (!button) return;
    const ticked = document.querySelectorAll(".row-select:checked").length;
    button.disabled = ticked === 0;
    button.textContent = ticked ? `Create problem from ${ticked} selected` : "Create problem from selected";
  };
  document.addEventListener("change", (event) => {
    if (event.target.matches?.(".row-select")) update();
  });
  document.addEventListener("DOMContentLoaded", update);
  document.addEventListener("htmx:afterSwap", update);
})();
