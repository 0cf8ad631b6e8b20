// The agent workspace: action dialogs, the composer's mode, narrowing pickers, the queue's bulk
// bar and keyboard shortcuts. Plain listeners on document, so htmx swaps need no re-binding.
(() => {
  const modal = (el) => window.bootstrap?.Modal.getOrCreateInstance(el);

  // --- action dialogs (templates/incidents/_action_form.html) ---------------------------------
  // A swap replaces the dialog that sent the form: close it first, so no backdrop stays behind,
  // and open the one the answer marks (a form returned with its errors).
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target?.id !== "incident") return;
    document.querySelectorAll(".action-modal.show").forEach((el) => modal(el)?.dispose());
    document.querySelectorAll(".modal-backdrop").forEach((el) => el.remove());
    document.body.classList.remove("modal-open");
    document.body.style.removeProperty("overflow");
    document.body.style.removeProperty("padding-right");
  });
  const openMarked = () => {
    const el = document.querySelector(".action-modal[data-open]");
    if (el) { el.removeAttribute("data-open"); modal(el)?.show(); }
    restoreMode();
    narrowSubcategories();
  };
  document.addEventListener("DOMContentLoaded", openMarked);
  document.addEventListener("htmx:afterSettle", openMarked);
  document.addEventListener("shown.bs.modal", (event) => {
    event.target.querySelector("textarea, select, input:not([type=hidden])")?.focus();
  });
  document.addEventListener("htmx:afterSwap", (event) => {  // a lazily loaded dialog form
    const dialog = event.detail.elt.closest?.(".action-modal.show");
    dialog?.querySelector("textarea, select, input:not([type=hidden])")?.focus();
  });

  // --- the composer: internal note or reply, remembered -------------------------------------
  const MODE = "desk.composer.mode";
  function restoreMode() {
    const saved = localStorage.getItem(MODE);
    const radio = saved && document.getElementById(`mode-${saved}`);
    if (radio) radio.checked = true;
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches?.(".composer-modes input")) {
      localStorage.setItem(MODE, event.target.value === "false" ? "public" : "internal");
    }
  });

  // --- subcategories follow the chosen category -----------------------------------------------
  function narrowSubcategories(form) {
    (form ? [form] : document.querySelectorAll("form")).forEach((f) => {
      const category = f.elements?.category, sub = f.elements?.subcategory;
      if (!category || !sub || category.tagName !== "SELECT") return;
      const chosen = category.selectedOptions[0]?.textContent.trim();
      sub.querySelectorAll("optgroup").forEach((group) => {
        const show = !category.value || group.label === chosen;
        group.hidden = !show;
        group.disabled = !show;
      });
      if (sub.selectedOptions[0]?.parentElement.disabled) sub.value = "";
    });
  }
  document.addEventListener("change", (event) => {
    if (event.target.name === "category") narrowSubcategories(event.target.form);
  });

  // --- queue: the bulk bar --------------------------------------------------------------------
  const updateBulk = () => {
    const bar = document.getElementById("bulk-bar");
    if (!bar) return;
    const ticked = document.querySelectorAll(".row-select:checked").length;
    bar.hidden = ticked === 0;
    bar.dataset.action = document.getElementById("bulk-action").value;  // shows its inputs
    bar.querySelector("[data-bulk-count]").textContent =
      `${ticked} incident${ticked === 1 ? "" : "s"} selected`;
    const all = document.getElementById("select-all");
    if (all) all.checked = ticked > 0 && ticked === document.querySelectorAll(".row-select").length;
  };
  document.addEventListener("change", (event) => {
    if (event.target.id === "select-all") {
      document.querySelectorAll(".row-select").forEach((box) => { box.checked = event.target.checked; });
    }
    if (event.target.matches?.(".row-select, #select-all, #bulk-action")) updateBulk();
  });
  document.addEventListener("click", (event) => {
    const problem = event.target.closest?.("[data-testid=bulk-problem]");
    if (problem) {  // a new problem from the ticked incidents (its form lists them)
      const url = new URL(problem.dataset.url, location.href);
      document.querySelectorAll(".row-select:checked").forEach((box) => {
        url.searchParams.append("incident", box.value);
      });
      window.location.href = url.href;
    }
    if (event.target.closest?.("[data-bulk-clear]")) {
      document.querySelectorAll(".row-select:checked").forEach((box) => { box.checked = false; });
      updateBulk();
    }
  });
  document.addEventListener("DOMContentLoaded", updateBulk);
  document.addEventListener("htmx:afterSwap", updateBulk);

  // --- keyboard shortcuts (the ? overlay lists them) ------------------------------------------
  const typing = (el) => el.closest?.("input, textarea, select, [contenteditable], .modal.show");
  const rows = () => [...document.querySelectorAll("tr.desk-row")];
  const current = () => document.querySelector("tr.desk-row.is-current");
  const moveTo = (row) => {
    if (!row) return;
    current()?.classList.remove("is-current");
    row.classList.add("is-current");
    row.querySelector("a")?.focus({preventScroll: true});
    row.scrollIntoView({block: "nearest"});
  };
  const click = (selector) => {
    const el = document.querySelector(selector);
    if (el) { el.click(); return true; }
    return false;
  };
  // "a" on a queue row: the same action as the detail page's button, then the list refreshes.
  const take = async (row) => {
    const body = new URLSearchParams({version: row.dataset.version || ""});
    const token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
    const response = await fetch(`${row.dataset.href}assign_to_me/`, {
      method: "POST", body, headers: {"X-CSRFToken": token}});
    say(response.redirected ? `${row.dataset.number} is assigned to you.`
      : `${row.dataset.number} was not assigned to you: it may be taken, or not your team's.`,
      response.redirected);
    document.getElementById("results")?.dispatchEvent(new Event("desk-refresh"));
  };
  const say = (text, ok) => {
    const box = document.getElementById("queue-status");
    if (!box) return;
    box.className = `alert py-2 small ${ok ? "alert-success" : "alert-warning"}`;
    box.textContent = text;
    box.hidden = false;
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const list = rows();
    const row = current();
    switch (event.key) {
      case "j": case "k": {
        if (!list.length) return;
        const at = list.indexOf(row);
        const next = event.key === "j" ? Math.min(at + 1, list.length - 1) : Math.max(at - 1, 0);
        moveTo(list[at < 0 ? 0 : next]);
        break;
      }
      case "Enter":
        if (!row || event.target.closest?.("a, button")) return;
        window.location.href = row.dataset.href;
        break;
      case "x":
        if (row) row.querySelector(".row-select")?.click();
        break;
      case "a":
        if (row) take(row);  // in the queue: take the current row
        else if (!click("[data-action=assign_to_me] button")) return;
        break;
      case "c": {
        const box = document.querySelector(".composer textarea");
        if (!box) return;
        box.focus();
        break;
      }
      case "/": {
        const search = document.getElementById("id_q") || document.querySelector(".desk-search");
        if (!search) return;
        search.focus();
        search.select();
        break;
      }
      case "?":
        click("[data-shortcuts]");
        break;
      default:
        return;
    }
    event.preventDefault();
  });
})();
