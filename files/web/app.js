// Image search page: calls /api/search, shows thumbnails from /img/, follows next_cursor, and
// offers the result set's colours (the colour facet) as filter chips; the URL holds q and colour.
"use strict";

const form = document.getElementById("search");
const input = document.getElementById("q");
const results = document.getElementById("results");
const statusLine = document.getElementById("status");
const suggestion = document.getElementById("suggestion");
const suggestionLink = document.getElementById("suggestion-link");
const empty = document.getElementById("empty");
const more = document.getElementById("more");
const colourChips = document.getElementById("colours");
// What each colour name of the catalog looks like on a chip.
const SWATCHES = {
  red: "#d22", orange: "#f80", yellow: "#ed2", green: "#3a4", teal: "#199", blue: "#36c",
  purple: "#83b", pink: "#e6a", brown: "#852", black: "#111", grey: "#888", white: "#fff",
};
let nextCursor = null;
let currentQuery = "";
let currentColour = "";

function thumbnail(item) {
  const image = document.createElement("img");
  image.src = item.thumbnail_url;
  image.srcset = item.srcset; // the widths the API serves, up to the image's own
  image.sizes = "(max-width: 40rem) 50vw, 16rem";
  image.alt = item.title;
  image.loading = "lazy";
  image.decoding = "async";
  image.width = 320; // with the height, the image's own ratio: the layout does not shift when it loads
  image.height = Math.round(320 / item.aspect_ratio);
  image.style.setProperty("--swatch", item.colour);
  return image;
}

function card(item) {
  const entry = document.createElement("li");
  const link = document.createElement("a");
  link.href = item.url;
  link.title = `${item.title} (${item.width}×${item.height}, ${item.format})`;
  const caption = document.createElement("span");
  caption.textContent = item.title;
  link.append(thumbnail(item), caption);
  entry.append(link);
  return entry;
}

async function search(query, cursor) {
  const params = new URLSearchParams({ q: query, limit: "24" });
  if (currentColour) params.set("colour", currentColour);
  if (cursor) params.set("cursor", cursor);
  else params.set("facets", "colour");
  statusLine.textContent = "Searching…";
  let body;
  try {
    const response = await fetch(`/api/search?${params}`, { headers: { Accept: "application/json" } });
    body = await response.json();
    if (!response.ok) throw new Error(body.detail || response.statusText);
  } catch (error) {
    statusLine.textContent = `Search failed: ${error.message}`;
    return;
  }
  if (!cursor) {
    results.replaceChildren();
    showColours(body.facets.colour);
  }
  results.append(...body.results.map(card));
  nextCursor = body.next_cursor;
  more.hidden = !nextCursor;
  empty.hidden = body.total > 0;
  suggestion.hidden = !body.fuzzy;
  if (body.fuzzy) suggestionLink.textContent = body.suggestion;
  const shown = results.children.length;
  statusLine.textContent = body.total
    ? `${body.total} image${body.total === 1 ? "" : "s"}${query ? ` for “${query}”` : ""}, ${shown} shown`
    : "";
}

function showColours(counts) {
  const names = Object.keys(counts);
  if (currentColour && !names.includes(currentColour)) names.unshift(currentColour);
  colourChips.replaceChildren(
    ...names.map((name) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.textContent = `${name} ${counts[name] || 0}`;
      chip.setAttribute("aria-pressed", String(name === currentColour));
      chip.style.setProperty("--swatch", SWATCHES[name] || "#888");
      chip.addEventListener("click", () => {
        currentColour = currentColour === name ? "" : name;
        run(input.value);
      });
      return chip;
    }),
  );
  colourChips.hidden = names.length < 2 && !currentColour;
}

function run(query) {
  currentQuery = query.trim();
  const url = new URL(window.location);
  if (currentQuery) url.searchParams.set("q", currentQuery);
  else url.searchParams.delete("q");
  if (currentColour) url.searchParams.set("colour", currentColour);
  else url.searchParams.delete("colour");
  window.history.replaceState(null, "", url);
  search(currentQuery, null);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  run(input.value);
});
suggestionLink.addEventListener("click", (event) => {
  event.preventDefault();
  input.value = suggestionLink.textContent;
  run(input.value);
});
more.addEventListener("click", () => search(currentQuery, nextCursor));

const initial = new URLSearchParams(window.location.search);
input.value = initial.get("q") || "";
currentColour = initial.get("colour") || "";
run(input.value);
