// Handouts web app: the catalogue's live filter, the form's character counters and the
// designer's live preview.
// Plain script, no framework; every page works without it too.
"use strict";

function setUpFilter() {
  const box = document.getElementById("filter");
  if (!box) return;
  const cards = Array.from(document.querySelectorAll(".sheet"));
  const count = document.getElementById("filter-count");
  const none = document.getElementById("no-match");
  box.addEventListener("input", () => {
    // Lower case and without accents, as the server folds each card's words (app.py, folded).
    const words = box.value.trim().toLocaleLowerCase().normalize("NFKD").replace(/\p{M}/gu, "")
      .split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const card of cards) {
      const match = words.every((word) => card.dataset.search.includes(word));
      card.hidden = !match;
      if (match) shown += 1;
    }
    count.textContent = `${shown} of ${cards.length} sheet${cards.length === 1 ? "" : "s"}`;
    none.hidden = shown > 0;
  });
}

// How much room is left in each field, as staff type. The count under the field changes at
// once; screen readers hear it once typing pauses, not at every key.
const SAY_AFTER_MS = 800;

// Characters as the server counts them (code points: an emoji is one, not two).
const length = (field) => [...field.value].length;

function roomLeft(field) {
  const left = Number(field.dataset.limit) - length(field);
  const plural = (n) => (n === 1 ? "" : "s");
  return left < 0 ? `${-left} character${plural(-left)} too many` : `${left} character${plural(left)} left`;
}

function setUpCounters() {
  for (const field of document.querySelectorAll("[data-limit]")) {
    const count = document.getElementById(`${field.id}-count`);
    const said = document.getElementById(`${field.id}-count-said`);
    let timer = 0;
    field.addEventListener("input", () => {
      count.textContent = roomLeft(field);
      count.classList.toggle("over", length(field) > Number(field.dataset.limit));
      clearTimeout(timer);
      timer = setTimeout(() => { said.textContent = roomLeft(field); }, SAY_AFTER_MS);
    });
  }
}

function setUpAutoSubmit() {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  for (const button of document.querySelectorAll(".js-hide")) button.hidden = true;
}

function setUpPreview() {
  const preview = document.querySelector("[data-events]");
  if (!preview || !window.EventSource) return;
  const pages = document.getElementById("pages");
  const status = document.getElementById("status");
  const errorBox = document.getElementById("build-error");
  const errorText = document.getElementById("build-error-text");
  const warnings = document.getElementById("warnings");
  const source = new EventSource(preview.dataset.events);
  source.addEventListener("render", (event) => {
    const state = JSON.parse(event.data);
    errorBox.hidden = !state.error;
    errorText.textContent = state.error || "";
    warnings.replaceChildren(...state.warnings.map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }));
    warnings.hidden = state.warnings.length === 0;
    const items = state.images.map((url, index) => {
      const item = pages.children[index] || document.createElement("li");
      const image = item.querySelector("img") || item.appendChild(document.createElement("img"));
      image.alt = `Page ${index + 1} of ${state.images.length}`;
      image.src = url;
      return item;
    });
    pages.replaceChildren(...items);
    const seconds = state.seconds === null ? "" : ` in ${state.seconds.toFixed(2)} s`;
    status.textContent = state.error
      ? "Does not print. Fix the file and save it."
      : `Updated${seconds}: ${state.pages} page${state.pages === 1 ? "" : "s"}.`;
    preview.dataset.generation = String(state.generation);
  });
}

setUpFilter();
setUpCounters();
setUpAutoSubmit();
setUpPreview();
