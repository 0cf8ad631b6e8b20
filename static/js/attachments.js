// The attachment picker (templates/attachments/_picker.html): files chosen by browsing,
// dropped on the form or pasted (screenshots) all end up in the one <input type=file
// name=files>, so the form posts them as it is, by htmx (hx-encoding=multipart/form-data) or
// as a plain POST. Sizes, types and the count are checked here for a quick answer; the server
// checks everything again. Event delegation: pickers swapped in by htmx work as they come.
(() => {
  if (window.deskAttachments) return; // loaded once per page, even if included twice
  const chosen = new WeakMap(); // input → the File objects it should hold

  const human = (size) => {
    if (size < 1024) return size === 1 ? "1 byte" : `${size} bytes`;
    for (const unit of ["KB", "MB", "GB"]) {
      size /= 1024;
      if (size < 1024 || unit === "GB") return `${size.toFixed(1).replace(/\.0$/, "")} ${unit}`;
    }
  };
  const pad = (n) => String(n).padStart(2, "0");
  const pastedName = (file, when = new Date()) => {
    const ext = (file.type.split("/")[1] || "png").replace("jpeg", "jpg").replace(/\W.*/, "");
    return `pasted-${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}-` +
           `${pad(when.getHours())}${pad(when.getMinutes())}.${ext}`;
  };
  const parts = (picker) => ({
    input: picker.querySelector("input[type=file]"),
    list: picker.querySelector("[data-attachment-list]"),
    problems: picker.querySelector("[data-attachment-problems]"),
    maxBytes: Number(picker.dataset.maxBytes),
    maxFiles: Number(picker.dataset.maxFiles),
    accept: (picker.dataset.accept || "").split(",").filter(Boolean),
  });
  const pickerFor = (target) => target?.closest?.("[data-attachment-picker]")
    || target?.closest?.("form")?.querySelector("[data-attachment-picker]") || null;

  const render = (picker) => {
    const {input, list} = parts(picker);
    list.replaceChildren(...(chosen.get(input) || []).map((file, index) => {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.className = "attachment-name";
      name.textContent = file.name;
      const size = document.createElement("span");
      size.className = "attachment-size";
      size.textContent = human(file.size);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "attachment-remove";
      remove.dataset.attachmentRemove = String(index);
      remove.setAttribute("aria-label", `Remove ${file.name}`);
      remove.textContent = "×";
      item.append(name, size, remove);
      return item;
    }));
  };
  // Put the chosen files into the input itself: what the form submits.
  const apply = (picker, files) => {
    const {input} = parts(picker);
    chosen.set(input, files);
    try {
      const transfer = new DataTransfer();
      files.forEach((file) => transfer.items.add(file));
      input.files = transfer.files;
    } catch {
      // No DataTransfer constructor (very old browsers): the input keeps its own choice.
    }
    render(picker);
  };
  const add = (picker, incoming) => {
    const {input, problems, maxBytes, maxFiles, accept} = parts(picker);
    const files = [...(chosen.get(input) || [])];
    const messages = [];
    for (const file of incoming) {
      const dot = file.name.lastIndexOf(".");
      const ext = dot > 0 ? file.name.slice(dot).toLowerCase() : "";
      if (accept.length && !accept.includes(ext)) {
        messages.push(`${file.name}: this type of file cannot be attached.`);
      } else if (file.size === 0) {
        messages.push(`${file.name} is empty.`);
      } else if (file.size > maxBytes) {
        messages.push(`${file.name} is ${human(file.size)}; the limit is ${human(maxBytes)}.`);
      } else if (files.length >= maxFiles) {
        messages.push(`Attach at most ${maxFiles} files at a time; ${file.name} was left out.`);
      } else if (!files.some((f) => f.name === file.name && f.size === file.size
                                   && f.lastModified === file.lastModified)) {
        files.push(file);
      }
    }
    problems.replaceChildren(...messages.map((text) => {
      const line = document.createElement("div");
      line.textContent = text;
      return line;
    }));
    apply(picker, files);
  };

  // Browsing: the dialog replaces the input's files; keep the earlier ones too.
  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!input.matches?.("[data-attachment-picker] input[type=file]")) return;
    const picker = pickerFor(input);
    const picked = [...input.files];
    apply(picker, chosen.get(input) || []); // back to what was chosen before (or nothing)
    add(picker, picked);
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("[data-attachment-remove]");
    if (!button) return;
    const picker = pickerFor(button);
    const {input, list} = parts(picker);
    const files = [...(chosen.get(input) || [])];
    const index = Number(button.dataset.attachmentRemove);
    files.splice(index, 1);
    apply(picker, files);
    // Keep the keyboard where it was: the next file's button, or the picker itself.
    const next = list.querySelectorAll("[data-attachment-remove]")[Math.min(index, files.length - 1)];
    (next || input).focus();
  });

  // Dropping anywhere on a form with a picker (not only on the zone): a file dropped on the
  // text would otherwise make the browser open it and lose what was typed.
  let dragDepth = 0;
  const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
  document.addEventListener("dragenter", (event) => {
    const picker = pickerFor(event.target);
    if (!picker || !hasFiles(event)) return;
    dragDepth += 1;
    picker.classList.add("is-dragover");
  });
  document.addEventListener("dragover", (event) => {
    if (pickerFor(event.target) && hasFiles(event)) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    }
  });
  document.addEventListener("dragleave", (event) => {
    const picker = pickerFor(event.target);
    if (!picker || !hasFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) picker.classList.remove("is-dragover");
  });
  document.addEventListener("drop", (event) => {
    const picker = pickerFor(event.target);
    if (!picker || !hasFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    picker.classList.remove("is-dragover");
    add(picker, [...event.dataTransfer.files]);
  });

  // Pasting a screenshot (or copied files) while typing in the form adds them; pasted text
  // stays text.
  document.addEventListener("paste", (event) => {
    const picker = pickerFor(event.target);
    const files = [...(event.clipboardData?.files || [])];
    if (!picker || !files.length) return;
    event.preventDefault();
    const when = new Date();
    add(picker, files.map((file, i) => {
      if (!file.type.startsWith("image/") || (file.name && !/^image\.\w+$/.test(file.name))) {
        return file;
      }
      const name = pastedName(file, when);
      const unique = i ? name.replace(/(\.\w+)$/, `-${i + 1}$1`) : name;
      return new File([file], unique, {type: file.type, lastModified: when.getTime()});
    }));
  });

  // A refused post (400, 403…) re-renders the form without files (browsers never let a page
  // fill a file input from the server): give the new picker back what was chosen.
  const pending = new WeakMap(); // the element that sent the request → {input id: files}
  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    const kept = new Map();
    elt.querySelectorAll?.("[data-attachment-picker] input[type=file]").forEach((input) => {
      if (input.id && chosen.get(input)?.length) kept.set(input.id, chosen.get(input));
    });
    if (kept.size) pending.set(elt, kept);
  });
  // After the swap: htmx fires afterRequest once the new content is in place.
  document.addEventListener("htmx:afterRequest", (event) => {
    const kept = pending.get(event.detail.elt);
    pending.delete(event.detail.elt);
    if (!kept || event.detail.successful) return;
    for (const [id, files] of kept) {
      const input = document.getElementById(id);
      if (input && !chosen.get(input)?.length) {
        apply(pickerFor(input), files);
      }
    }
  });
  document.addEventListener("reset", (event) => {
    event.target.querySelectorAll?.("[data-attachment-picker]").forEach((picker) => {
      apply(picker, []);
      parts(picker).problems.replaceChildren();
    });
  });

  window.deskAttachments = {human, pastedName};
})();
