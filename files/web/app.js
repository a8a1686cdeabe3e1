// Image search page: calls /api/search, shows thumbnails from /img/, follows next_cursor, and
// offers the result set's colours, orientations, formats and tags (the facets) as filter chips; a
// result opens a detail view (larger image, facts, tags, downloads, more like this). The URL
// holds q, the filters and the open image, so the back button closes the detail view. Each image shows its placeholder (a ThumbHash from the
// catalog, decoded by the vendored reference decoder) until the thumbnail arrives.
import { thumbHashToDataURL } from "./thumbhash.js";

const form = document.getElementById("search");
const input = document.getElementById("q");
const results = document.getElementById("results");
const statusLine = document.getElementById("status");
const suggestion = document.getElementById("suggestion");
const suggestionLink = document.getElementById("suggestion-link");
const empty = document.getElementById("empty");
const more = document.getElementById("more");
const colourChips = document.getElementById("colours");
const kindChips = document.getElementById("kinds");
// The other facets offered as chips: each is a search parameter, a facet and a URL parameter.
const KIND_FILTERS = ["orientation", "format"];
const currentKinds = { orientation: "", format: "" };
const tagChips = document.getElementById("tags");
const TAG_CHIPS = 8; // the result set's most frequent tags offered; chosen ones all apply
let currentTags = [];
// What each colour name of the catalog looks like on a chip.
const SWATCHES = {
  red: "#d22", orange: "#f80", yellow: "#ed2", green: "#3a4", teal: "#199", blue: "#36c",
  purple: "#83b", pink: "#e6a", brown: "#852", black: "#111", grey: "#888", white: "#fff",
};
const detail = document.getElementById("detail");
const DOWNLOAD_WIDTHS = [640, 1280]; // offered when the API serves them (its srcset)
let nextCursor = null;
let latestSearch = 0; // answers to an older search than this one are dropped
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
  paintPlaceholder(image, item);
  return image;
}

// width -> URL of the variants the API offers for an item (its srcset: "url 320w, url 640w, ...").
function variantUrls(item) {
  return new Map(
    item.srcset.split(", ").map((candidate) => {
      const [url, width] = candidate.trim().split(" ");
      return [Number.parseInt(width, 10), url];
    }),
  );
}

// The blurred preview behind an image until it has loaded; the dominant colour without one.
function paintPlaceholder(image, item) {
  if (!item.placeholder) return;
  try {
    const bytes = Uint8Array.from(atob(item.placeholder), (char) => char.charCodeAt(0));
    image.style.setProperty("--placeholder", `url("${thumbHashToDataURL(bytes)}")`);
    image.addEventListener("load", () => image.style.removeProperty("--placeholder"), { once: true });
  } catch {
    // A placeholder the decoder cannot read: the dominant colour stays.
  }
}

function card(item) {
  const entry = document.createElement("li");
  const link = document.createElement("a");
  link.href = item.url; // a new tab still opens the original
  link.title = `${item.title} (${item.width}×${item.height}, ${item.format})`;
  const caption = document.createElement("span");
  caption.textContent = item.title;
  link.append(thumbnail(item), caption);
  link.addEventListener("click", (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    openDetail(item.id, true);
  });
  entry.append(link);
  // Its share of a justified row (app.css); extreme panoramas and strips are cropped to 0.4-3.
  entry.style.setProperty("--ratio", String(Math.min(3, Math.max(0.4, item.aspect_ratio))));
  return entry;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

function showDetail(item, similar) {
  const image = document.getElementById("detail-image");
  // Variant URLs come from the API as they are (they may be signed): never rewritten here.
  const variants = variantUrls(item);
  image.src = variants.get(800) || item.thumbnail_url;
  image.srcset = item.srcset;
  image.sizes = "(max-width: 40rem) 95vw, 40rem";
  image.alt = item.title;
  image.width = 800;
  image.height = Math.round(800 / item.aspect_ratio);
  image.style.setProperty("--swatch", item.colour);
  paintPlaceholder(image, item);
  document.getElementById("detail-title").textContent = item.title;
  document.getElementById("detail-facts").textContent =
    `${item.width}×${item.height} · ${item.format} · ${item.orientation} · ${item.colours.join(", ")}`;
  document.getElementById("detail-tags").replaceChildren(
    ...item.tags.map((tag) => {
      const entry = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = tag;
      button.addEventListener("click", () => {
        input.value = tag;
        closeDetail(true);
        run(tag);
      });
      entry.append(button);
      return entry;
    }),
  );
  const downloads = document.getElementById("detail-downloads");
  const links = [["original", item.url]].concat(
    DOWNLOAD_WIDTHS.filter((w) => w < item.width && variants.has(w)).map((w) => [`${w} px`, variants.get(w)]),
  );
  downloads.replaceChildren(
    "Download: ",
    ...links.map(([label, href]) => {
      const link = document.createElement("a");
      link.href = href;
      link.download = "";
      link.textContent = label;
      return link;
    }),
  );
  document.getElementById("detail-similar").replaceChildren(
    ...similar.map((other) => {
      const entry = card(other);
      entry.querySelector("img").sizes = "8rem";
      return entry;
    }),
  );
  if (!detail.open) detail.showModal();
}

async function openDetail(id, remember) {
  try {
    const [item, similar] = await Promise.all([
      getJson(`/api/images/${encodeURIComponent(id)}`),
      getJson(`/api/images/${encodeURIComponent(id)}/similar?limit=6`),
    ]);
    if (remember) {
      const url = new URL(window.location);
      url.searchParams.set("image", id);
      window.history.pushState({ image: id }, "", url);
    }
    showDetail(item, similar.results);
  } catch (error) {
    statusLine.textContent = `Could not open the image: ${error.message}`;
  }
}

function closeDetail(updateUrl) {
  if (detail.open) detail.close();
  if (updateUrl && new URL(window.location).searchParams.has("image")) {
    const url = new URL(window.location);
    url.searchParams.delete("image");
    window.history.replaceState(null, "", url);
  }
}

async function search(query, cursor) {
  const params = new URLSearchParams({ q: query, limit: "24" });
  if (currentColour) params.set("colour", currentColour);
  for (const name of KIND_FILTERS) if (currentKinds[name]) params.set(name, currentKinds[name]);
  if (currentTags.length) params.set("tags", currentTags.join(","));
  if (cursor) params.set("cursor", cursor);
  else params.set("facets", ["colour", ...KIND_FILTERS, "tags"].join(","));
  statusLine.textContent = "Searching…";
  const ticket = ++latestSearch;
  let body;
  try {
    const response = await fetch(`/api/search?${params}`, { headers: { Accept: "application/json" } });
    body = await response.json();
    if (!response.ok) throw new Error(body.detail || response.statusText);
  } catch (error) {
    if (ticket === latestSearch) statusLine.textContent = `Search failed: ${error.message}`;
    return;
  }
  // The page's first browse and a query typed meanwhile race: only the latest may show.
  if (ticket !== latestSearch) return;
  if (!cursor) {
    results.replaceChildren();
    showColours(body.facets.colour);
    showKinds(body.facets);
    showTags(body.facets.tags, query);
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

// Orientation and format chips: a value the result set holds, with its count; pressed ones filter.
function showKinds(facets) {
  const chips = [];
  for (const name of KIND_FILTERS) {
    const counts = facets[name] || {};
    const values = Object.keys(counts);
    if (currentKinds[name] && !values.includes(currentKinds[name])) values.unshift(currentKinds[name]);
    if (values.length < 2 && !currentKinds[name]) continue; // one value does not narrow anything
    for (const value of values) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.textContent = `${value} ${counts[value] || 0}`;
      chip.setAttribute("aria-pressed", String(value === currentKinds[name]));
      chip.addEventListener("click", () => {
        currentKinds[name] = currentKinds[name] === value ? "" : value;
        run(input.value);
      });
      chips.push(chip);
    }
  }
  kindChips.replaceChildren(...chips);
  kindChips.hidden = chips.length === 0;
}

// The most frequent tags of the result set (not the words already searched for): each narrows.
function showTags(counts, query) {
  const searched = new Set(query.toLowerCase().split(/\s+/));
  const offered = Object.keys(counts).filter((tag) => !searched.has(tag) && !currentTags.includes(tag));
  const tags = [...currentTags, ...offered.slice(0, TAG_CHIPS)];
  tagChips.replaceChildren(
    ...tags.map((tag) => {
      const chip = document.createElement("button");
      chip.type = "button";
      const chosen = currentTags.includes(tag);
      chip.textContent = `#${tag} ${counts[tag] || 0}`;
      chip.setAttribute("aria-pressed", String(chosen));
      chip.addEventListener("click", () => {
        currentTags = chosen ? currentTags.filter((other) => other !== tag) : [...currentTags, tag];
        run(input.value);
      });
      return chip;
    }),
  );
  tagChips.hidden = tags.length === 0;
}

function run(query) {
  currentQuery = query.trim();
  const url = new URL(window.location);
  if (currentQuery) url.searchParams.set("q", currentQuery);
  else url.searchParams.delete("q");
  if (currentColour) url.searchParams.set("colour", currentColour);
  else url.searchParams.delete("colour");
  for (const name of KIND_FILTERS) {
    if (currentKinds[name]) url.searchParams.set(name, currentKinds[name]);
    else url.searchParams.delete(name);
  }
  if (currentTags.length) url.searchParams.set("tags", currentTags.join(","));
  else url.searchParams.delete("tags");
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

// Closed by Escape or its button: the URL forgets the image. Back and forward follow the URL.
detail.addEventListener("close", () => closeDetail(true));
window.addEventListener("popstate", () => {
  const image = new URLSearchParams(window.location.search).get("image");
  if (image) openDetail(image, false);
  else closeDetail(false);
});

const initial = new URLSearchParams(window.location.search);
input.value = initial.get("q") || "";
currentColour = initial.get("colour") || "";
for (const name of KIND_FILTERS) currentKinds[name] = initial.get(name) || "";
currentTags = (initial.get("tags") || "").split(",").filter(Boolean);
run(input.value);
if (initial.get("image")) openDetail(initial.get("image"), false);
