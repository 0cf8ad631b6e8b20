// Time zones in the browser: the banner offering the browser's zone to a person whose profile
// has none (templates/itsm/_time_zone_prompt.html), and the hint under the profile's zone
// picker ("It is now 29 Nov 2026, 14:23 CET in Europe/Berlin."), in the desk's one format
// (itsm/templatetags/desk.py: abstime). No inline code anywhere: the CSP forbids it.
(function () {
  "use strict";

  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                  "Dec"];

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return "";
    }
  }

  // "29 Nov 2026, 14:23 CET" now in a zone of the picker's list: each <option> carries the
  // zone's offset and abbreviation as the server computed them (itsm.views._zone_offsets),
  // so the hint reads exactly as the pages will once it is saved.
  function formatNow(option) {
    const local = new Date(Date.now() + Number(option.dataset.offset) * 60000);
    const pad = (n) => String(n).padStart(2, "0");
    return `${local.getUTCDate()} ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()}, ` +
      `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())} ${option.dataset.abbr}`;
  }

  function setUpPrompt() {
    const prompt = document.querySelector("[data-tz-prompt][hidden]");
    if (!prompt) return;
    const zone = browserZone();
    // Nothing to offer: the browser does not say, or says the zone already in use.
    if (!zone || zone === prompt.dataset.currentZone) return;
    prompt.querySelectorAll("[data-tz-browser-name]").forEach((el) => { el.textContent = zone; });
    prompt.querySelector("[data-tz-browser-input]").value = zone;
    prompt.hidden = false;
  }

  function setUpPicker() {
    const input = document.querySelector("[data-zone-input]");
    const hint = document.querySelector("[data-zone-hint]");
    if (!input || !hint) return;
    const options = new Map(Array.from(
      document.querySelectorAll(`#${input.getAttribute("list")} option`),
      (option) => [option.value, option]));
    const fallback = hint.textContent;
    const update = () => {
      const zone = input.value.trim();
      const option = options.get(zone);
      hint.textContent = option ? `It is now ${formatNow(option)} in ${zone}.` : fallback;
    };
    input.addEventListener("input", update);
    input.addEventListener("change", update);
    // The browser's own zone, one click away: a button next to the box (hidden without JS).
    const suggest = document.querySelector("[data-zone-use-browser]");
    const zone = browserZone();
    if (suggest && zone && options.has(zone)) {
      suggest.querySelector("[data-tz-browser-name]").textContent = zone;
      suggest.hidden = false;
      suggest.addEventListener("click", () => {
        input.value = zone;
        update();
        input.focus();
      });
    }
  }

  function start() {
    setUpPrompt();
    setUpPicker();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
