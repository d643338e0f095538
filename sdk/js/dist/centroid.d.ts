// Type declarations of centroid-sdk (the ES module; the classic script puts the same
// functions on `window.centroid`).

/** Options of `init`; every field but `writeKey` is optional. */
export interface Options {
  /** Origin of the Centroid server (or of a proxy in front of it); default: this page's. */
  endpoint?: string;
  /** API path prefix on `endpoint`; default `/v1`. Change it when a proxy renames the API. */
  apiPath?: string;
  /** The public write key. */
  writeKey: string;
  /** false: record nothing (no storage, no requests) until `consent(true)`. Default true. */
  consent?: boolean;
  /** Prefix of the localStorage keys; default `cx_`. */
  storagePrefix?: string;
  /** Most events per request; default 20. */
  batchSize?: number;
  /** Milliseconds an event waits for others before a batch leaves; default 1000. */
  flushInterval?: number;
  /** Most unsent events kept (oldest dropped first); default 200. */
  maxQueue?: number;
  /** Largest stored queue, in characters of JSON; default 60000. */
  maxQueueBytes?: number;
  /** Unsent events older than this (ms) are dropped; default one day. */
  queueTtl?: number;
  /** Sending attempts before an event is dropped; default 8. */
  maxAttempts?: number;
  /** Longest wait between attempts (ms); default 60000. */
  maxBackoff?: number;
  /** Inactivity (ms) after which a new session starts; default 30 minutes. */
  sessionTimeout?: number;
  /** Inactivity (ms) after which the session summary is forgotten; default 7 days. */
  summaryTtl?: number;
  /** Content ids remembered as seen (sent as `exclude`); default 50. */
  maxSeen?: number;
  /** Request timeout (ms); default 5000. */
  timeout?: number;
}

/** A content item: `id` (or `content_id`) plus any catalogue attributes. */
export interface Item {
  id?: string | number;
  content_id?: string | number;
  title?: string;
  /** One category, or several separated by `|`. */
  category?: string;
  categories?: string[];
  price?: number;
  url?: string;
  image_url?: string;
  [attribute: string]: unknown;
}

/** A purchased line: an item and its quantity (default 1). */
export interface LineItem extends Item {
  quantity?: number;
}

/** The compact session summary (`crates/core/src/summary.rs`). */
export interface Summary {
  v: 1;
  counts: Partial<
    Record<
      "view" | "add_to_cart" | "remove_from_cart" | "purchase" | "like" | "rating" | "watch",
      number
    >
  >;
  rating_sum: number;
  watch_seconds: number;
  categories: Record<string, number>;
  first_ts: number;
  last_ts: number;
}

export interface RecommendedItem {
  content_id: string;
  rank: number;
  score: number;
  from_global?: boolean;
  attributes?: {
    content_id: string;
    title?: string;
    categories: string[];
    price?: number;
    url?: string;
    image_url?: string;
    attributes?: Record<string, unknown>;
  } | null;
}

/** The answer of `POST /v1/context`. */
export interface ContextAnswer {
  model_version: number | null;
  assignment: {
    model_version: number | null;
    cluster: number | "global";
    distance?: number;
    runner_up?: { cluster: number; distance: number };
    n_events: number;
  };
  recommendations: {
    model_version: number | null;
    cluster: number | "global";
    metric: string;
    ranking: string;
    items: RecommendedItem[];
    next_cursor?: string;
  };
}

export interface RecommendOptions {
  /** `views`, `purchases`, `add_to_carts`, `likes`, `rating`, `watch_seconds`, `engagement`. */
  metric?: string;
  limit?: number;
  category?: string;
  /** Content ids to leave out, besides those the visitor has seen. */
  exclude?: string[];
}

export interface RenderOptions extends RecommendOptions {
  /** Builds one card; returns an element or an HTML string. */
  template?: (
    item: RecommendedItem,
    options: RenderOptions,
    document: Document,
    index: number,
  ) => Element | string;
  /** The card's link (default: the item's `url` attribute). Prices show with two decimals;
   * a `template` can format them otherwise. */
  link?: (item: RecommendedItem) => string;
  /** Name of the list in impression and click events; default `recommendations`. */
  list?: string;
  /** Called after the list is rendered. */
  onRender?: (answer: ContextAnswer) => void;
}

export function init(options: Options): unknown;
/** Records a view of the page (the server counts it as a view of the page's path). */
export function page(properties?: Record<string, unknown>): string | undefined;
/** A canonical event type with `properties` as the item, or any other name as a custom event. */
export function track(type: string, properties?: Record<string, unknown>): string | undefined;
export function view(item: Item | string): string | undefined;
export function addToCart(item: Item | string, quantity?: number): string | undefined;
export function removeFromCart(item: Item | string, quantity?: number): string | undefined;
export function purchase(
  items: LineItem[],
  properties?: { order_id?: string },
): string[] | undefined;
export function like(item: Item | string): string | undefined;
/** A rating in 0..=10 (the server's range). */
export function rating(item: Item | string, value: number): string | undefined;
/** Follows a video or audio element; returns a function that stops following. */
export function watch(
  media: HTMLMediaElement | EventTarget,
  item: Item | string,
  options?: { every?: number },
): () => void;
/** The visitor logged in: their anonymous history joins the user's profile on the server. */
export function identify(userId: string): string | undefined;
/** The visitor logged out: a new anonymous id, no summary; returns the new id. */
export function reset(): string | undefined;
export function consent(granted: boolean): void;
export function anonymousId(): string | undefined;
/** What `/v1/assign` and `/v1/context` take: the summary, and the seen content. */
export function context(): { summary: Summary; exclude: string[] } | undefined;
export function flush(): Promise<void>;
export function recommend(options?: RecommendOptions): Promise<ContextAnswer | null>;
export function renderRecommendations(
  element: Element,
  options?: RenderOptions,
): Promise<ContextAnswer | null>;
