// Recommendations, the wishlist and the inbox (docs/api.md "Recommendations", "Wishlist and notifications").
import { call, tokens, visitorHeaders } from "../api";
import { clear, h, money } from "../dom";
import { statusLine } from "../shared";

export interface RecItem {
  itemId: string;
  name: string;
  price: number;
  currency: string;
  category: string | null;
  reason?: string;
}

interface HomeRecs {
  strategy: string;
  version: string | null;
  items: RecItem[];
  newArrivals: RecItem[];
}

export interface WishlistEntry {
  itemId: string;
  name: string;
  price: number;
  currency: string;
  status: string;
  available: number;
  inStock: boolean;
}

export interface Notice {
  notificationId: string;
  kind: string;
  title: string;
  body: string;
  orderId: string | null;
  itemId: string | null;
  read: boolean;
  occurredAt: string;
}

const REASONS: Record<string, string> = {
  personalised: "for you",
  trending: "trending",
  bought_together: "bought together",
  viewed_together: "viewed together",
  same_category: "same category",
};

const itemLink = (item: { itemId: string; name: string }): HTMLAnchorElement =>
  h("a", { href: `/shop/item/${encodeURIComponent(item.itemId)}` }, item.name);

/** A labelled list of items (a region named by its heading), or nothing when the list is empty. */
function strip(id: string, title: string, items: RecItem[], note?: string): HTMLElement | null {
  if (!items.length && !note) return null;
  return h("section", { class: "strip", "aria-labelledby": id, "data-testid": id },
    h("h2", { id }, title),
    note ? h("p", { class: "meta" }, note) : null,
    items.length ? null : h("p", {}, "Nothing to recommend yet."),
    h("ul", { class: "strip-list" }, items.map((item) => h("li", {},
      itemLink(item),
      h("span", { class: "price" }, money(item.price, item.currency)),
      item.reason ? h("span", { class: "meta" }, REASONS[item.reason] ?? item.reason) : null))));
}

const signedInBuyer = (): boolean => tokens() !== null && tokens()?.role !== "seller";

/** The home page's "Recommended for you" and "New arrivals": the account's when signed in, else this visitor's. */
export function homeStrips(): HTMLElement {
  const box = h("div", { class: "strips" });
  void (async () => {
    try {
      const recs = tokens()
        ? await call<HomeRecs>("/me/recommendations", { auth: true })
        : await call<HomeRecs>("/recommendations/home", { headers: visitorHeaders() });
      const how = recs.strategy === "personalised" ? "Picked from what you looked at and bought." : "Trending in the shop (we do not know your taste yet).";
      clear(box,
        strip("recommended", "Recommended for you", recs.items, `${how} Strategy: ${recs.strategy}.`),
        strip("new-arrivals", "New arrivals", recs.newArrivals));
    } catch {
      // recommendations are extras: the page works without them
    }
  })();
  return box;
}

/** An item page's "Related items". */
export function relatedStrip(itemId: string): HTMLElement {
  const box = h("div", { class: "strips" });
  void (async () => {
    try {
      const related = await call<{ items: RecItem[] }>(`/items/${encodeURIComponent(itemId)}/related`);
      clear(box, strip("related", "Related items", related.items));
    } catch {
      // as above
    }
  })();
  return box;
}

/** The item page's "Save to wishlist" toggle (a pressed button), for signed-in buyers only. */
export async function wishlistToggle(itemId: string, name: string): Promise<HTMLElement | null> {
  if (!signedInBuyer()) return null;
  let saved = false;
  try {
    saved = (await call<{ items: WishlistEntry[] }>("/wishlist", { auth: true })).items.some((entry) => entry.itemId === itemId);
  } catch {
    return null;
  }
  const button = h("button", { type: "button" });
  const status = statusLine();
  const show = (): void => {
    button.setAttribute("aria-pressed", String(saved));
    button.textContent = saved ? "Saved to wishlist" : "Save to wishlist";
  };
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await call(`/wishlist/items/${encodeURIComponent(itemId)}`, { method: saved ? "DELETE" : "PUT", auth: true });
      saved = !saved;
      show();
      status.textContent = saved ? `${name} is on your wishlist.` : `${name} is off your wishlist.`;
    } catch (error) {
      status.textContent = error instanceof Error ? error.message : String(error);
    } finally {
      button.disabled = false;
    }
  });
  show();
  return h("div", { class: "wish" }, button, status);
}

export async function wishlistPage(main: HTMLElement): Promise<void> {
  const answer = await call<{ items: WishlistEntry[]; count: number }>("/wishlist", { auth: true });
  const status = statusLine();
  const list = h("ul", { class: "plain wishlist" });
  const fill = (entries: WishlistEntry[]): void => clear(list, entries.length
    ? entries.map((entry) => {
        const remove = h("button", { type: "button", class: "link" }, "Remove", h("span", { class: "visually-hidden" }, ` ${entry.name}`));
        remove.addEventListener("click", async () => {
          try {
            await call(`/wishlist/items/${encodeURIComponent(entry.itemId)}`, { method: "DELETE", auth: true });
            entries = entries.filter((other) => other.itemId !== entry.itemId);
            fill(entries);
            status.textContent = `${entry.name} removed.`;
            (list.querySelector("button") ?? main.querySelector("h1"))?.focus();
          } catch (error) {
            status.textContent = error instanceof Error ? error.message : String(error);
          }
        });
        const state = entry.status === "GONE" ? "no longer sold" : entry.inStock ? "in stock" : "out of stock";
        return h("li", {}, entry.status === "GONE" ? entry.name : itemLink(entry), ` · ${money(entry.price, entry.currency)} · ${state} `, remove);
      })
    : h("li", {}, "Your wishlist is empty. ", h("a", { href: "/" }, "Find something")));
  fill(answer.items);
  clear(main, h("h1", { tabindex: -1 }, "Your wishlist"), status, list);
}

/** The header's unread count: GET /notifications answers it with the first page. */
export async function unreadCount(): Promise<number> {
  if (!tokens()) return 0;
  try {
    return (await call<{ unreadCount: number }>("/notifications?size=1", { auth: true })).unreadCount;
  } catch {
    return 0;
  }
}

export async function inboxPage(main: HTMLElement, onCount: (count: number) => void): Promise<void> {
  const list = h("ul", { class: "plain inbox", "aria-label": "Notifications" });
  const more = h("button", { type: "button", hidden: true }, "Older notifications");
  const summary = h("p", { "aria-live": "polite" });
  clear(main, h("h1", {}, "Inbox"), summary, list, more);
  let cursor: string | null = null;
  const load = async (): Promise<void> => {
    const page = await call<{ notifications: Notice[]; nextCursor: string | null; unreadCount: number }>(
      `/notifications?size=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { auth: true });
    const count = (unread: number): void => {
      summary.textContent = `${unread} unread`;
      onCount(unread);
    };
    count(page.unreadCount);
    list.append(...page.notifications.map((notice) => {
      const mark = h("button", { type: "button", class: "link" }, "Mark as read", h("span", { class: "visually-hidden" }, `: ${notice.title}`));
      const item = h("li", { class: notice.read ? "notice-read" : "notice-unread", "data-kind": notice.kind },
        h("h2", {}, notice.read ? "" : h("span", { class: "tag" }, "New"), " ", notice.title),
        h("p", {}, notice.body),
        h("p", { class: "meta" }, new Date(notice.occurredAt).toLocaleString(),
          notice.orderId ? [" · ", h("a", { href: `/shop/orders/${encodeURIComponent(notice.orderId)}` }, "See the order")] : null,
          notice.itemId ? [" · ", h("a", { href: `/shop/item/${encodeURIComponent(notice.itemId)}` }, "See the item")] : null),
        notice.read ? null : mark);
      mark.addEventListener("click", async () => {
        try {
          const answer = await call<{ unreadCount: number }>(`/notifications/${encodeURIComponent(notice.notificationId)}/read`, { method: "POST", auth: true });
          item.className = "notice-read";
          item.querySelector(".tag")?.remove();
          mark.remove();
          count(answer.unreadCount);
          summary.focus();
        } catch (error) {
          summary.textContent = error instanceof Error ? error.message : String(error);
        }
      });
      return item;
    }));
    if (!list.children.length) list.append(h("li", {}, "Nothing here yet."));
    cursor = page.notifications.length ? page.nextCursor : null;
    more.hidden = cursor === null;
  };
  summary.tabIndex = -1;
  more.addEventListener("click", () => void load());
  await load();
}
