// The session summary: the browser's copy of the server reducer's per-user aggregate
// (crates/core/src/reducer.rs, crates/core/src/summary.rs). Every sum is kept in the same
// integer units as the server (millionths for ratings and seconds, 1/720720 of an event for
// category shares), so folding the same events gives the same numbers bit for bit.

/** The canonical event types, in the server's order. */
export const TYPES = [
  "view",
  "add_to_cart",
  "remove_from_cart",
  "purchase",
  "like",
  "rating",
  "watch",
];

/** One event's weight in category totals (lcm of 1..16, as `CATEGORY_UNIT` on the server). */
export const CATEGORY_UNIT = 720720;
const FIXED = 1e6;
/** Most categories per content (`MAX_CATEGORIES_PER_CONTENT`). */
export const MAX_CATEGORIES = 16;
/** Most categories a posted summary may carry (`MAX_SUMMARY_CATEGORIES`). */
export const MAX_SUMMARY_CATEGORIES = 256;

const encoder = new TextEncoder();

/** True when the server accepts `id` as an identifier (`check_id`). */
export function validId(id) {
  return (
    typeof id == "string" &&
    id.length > 0 &&
    encoder.encode(id).length <= 256 &&
    !/[\u0000-\u001f\u007f-\u009f]/.test(id)
  );
}

/**
 * Categories as the server reads them: a string splits on `|`, a list is taken item by item;
 * names are trimmed, empty names and repeats dropped, invalid names left out, at most 16.
 */
export function categoriesOf(value) {
  const names = [];
  const list =
    value == null
      ? []
      : Array.isArray(value)
        ? value
        : typeof value == "string"
          ? value.split("|")
          : [value];
  for (const item of list) {
    if (typeof item != "string" && typeof item != "number") continue;
    const name = String(item).trim();
    if (name && validId(name) && !names.includes(name)) names.push(name);
  }
  return names.slice(0, MAX_CATEGORIES);
}

/** An empty summary (internal form: integer units). */
export function emptySummary() {
  return { counts: {}, rating: 0, watch: 0, cats: {}, first: 0, last: 0 };
}

/**
 * Folds one message as the server would (`UserState::apply`): a canonical event, or a Segment
 * page call (a view of the page, its category from `properties.category`). Other messages
 * (identify, custom track calls) change nothing.
 */
export function fold(summary, message) {
  const p = message.properties || {};
  let type = message.type;
  let categories;
  if (type == "page") {
    type = "view";
    categories = categoriesOf(p.category);
  } else {
    if (!TYPES.includes(type)) return summary;
    categories = categoriesOf(message.category);
    if (!categories.length) categories = categoriesOf(p.category);
    if (!categories.length) categories = categoriesOf(p.categories);
  }
  const fixed = Math.round((Number(message.value) || 0) * FIXED);
  const ts = message.timestamp;
  const first = !Object.keys(summary.counts).length;
  summary.first = first ? ts : Math.min(summary.first, ts);
  summary.last = first ? ts : Math.max(summary.last, ts);
  summary.counts[type] = (summary.counts[type] || 0) + 1;
  if (type == "rating") summary.rating += fixed;
  if (type == "watch") summary.watch += fixed;
  const names = categories.length ? categories : [""];
  const share = CATEGORY_UNIT / names.length;
  for (const name of names) summary.cats[name] = (summary.cats[name] || 0) + share;
  return summary;
}

/** The summary as `POST /v1/assign` and `/v1/context` take it (`summary_of` on the server). */
export function toWire(summary) {
  // `trim` keeps a stored summary within MAX_SUMMARY_CATEGORIES.
  const categories = {};
  for (const name of Object.keys(summary.cats).sort()) {
    categories[name] = summary.cats[name] / CATEGORY_UNIT;
  }
  const counts = {};
  for (const type of TYPES) if (summary.counts[type]) counts[type] = summary.counts[type];
  return {
    v: 1,
    counts,
    rating_sum: summary.rating / FIXED,
    watch_seconds: summary.watch / FIXED,
    categories,
    first_ts: summary.first,
    last_ts: summary.last,
  };
}

/** Keeps a stored summary bounded: only the largest categories survive. */
export function trim(summary) {
  const names = Object.keys(summary.cats);
  if (names.length > MAX_SUMMARY_CATEGORIES) {
    names.sort((a, b) => summary.cats[b] - summary.cats[a]);
    for (const name of names.slice(MAX_SUMMARY_CATEGORIES)) delete summary.cats[name];
  }
  return summary;
}
