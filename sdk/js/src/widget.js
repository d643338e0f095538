// The recommendation widget: asks `/v1/context` for the visitor's list and renders it, then
// reports impressions and clicks as custom events that carry the model version and the rank.

/** Name of the impression event (a Segment track call; see docs/tracker.md). */
export const SHOWN = "Recommendation Shown";
/** Name of the click event. */
export const CLICKED = "Recommendation Clicked";

function text(doc, tag, className, content) {
  const node = doc.createElement(tag);
  node.className = className;
  node.textContent = content;
  return node;
}

/** The default card: image, title and price inside a link. */
export function defaultTemplate(item, options, doc) {
  const a = item.attributes || {};
  const card = doc.createElement(a.url || options.link ? "a" : "div");
  card.className = "cx-item";
  const href = options.link ? options.link(item) : a.url;
  if (href) card.href = href;
  if (a.image_url) {
    const img = doc.createElement("img");
    img.src = a.image_url;
    img.alt = "";
    img.loading = "lazy";
    card.appendChild(img);
  }
  card.appendChild(text(doc, "span", "cx-title", a.title || item.content_id));
  if (a.price != null) card.appendChild(text(doc, "span", "cx-price", Number(a.price).toFixed(2)));
  return card;
}

/**
 * Fetches and renders the visitor's recommendations into `element`; resolves to the
 * `/v1/context` answer, or null (leaving the element as it was) when the API is unreachable.
 */
export function renderRecommendations(tracker, element, options, env) {
  options = options || {};
  const doc = env.document;
  return tracker.recommend(options).then((answer) => {
    const list = answer && answer.recommendations;
    if (!list || !doc || !element) return answer;
    const context = {
      model_version: list.model_version,
      cluster: list.cluster,
      metric: list.metric,
      list: options.list || "recommendations",
    };
    const root = doc.createElement("div");
    root.className = "cx-recs";
    const observer =
      env.IntersectionObserver &&
      new env.IntersectionObserver(
        (entries) => {
          for (const entry of entries) {
            if (!entry.isIntersecting) continue;
            observer.unobserve(entry.target);
            tracker.track(SHOWN, entry.target.cxProps);
          }
        },
        { threshold: 0.5 },
      );
    list.items.forEach((item, index) => {
      let node = (options.template || defaultTemplate)(item, options, doc, index);
      if (typeof node == "string") {
        const holder = doc.createElement("div");
        holder.innerHTML = node;
        node = holder.firstElementChild || holder;
      }
      node.cxProps = Object.assign(
        { content_id: item.content_id, rank: item.rank, from_global: !!item.from_global },
        context,
      );
      node.addEventListener("click", () => tracker.track(CLICKED, node.cxProps));
      root.appendChild(node);
    });
    element.replaceChildren(root);
    for (const node of root.children) {
      if (observer) observer.observe(node);
      else tracker.track(SHOWN, node.cxProps);
    }
    if (options.onRender) options.onRender(answer);
    return answer;
  });
}
