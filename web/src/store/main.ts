// The storefront: search (the URL holds the query), item pages, the cart, checkout, orders and the account.
// Paths: / (search, ?q=&category=&brand=&minPrice=&maxPrice=&inStock=&sort=), /shop/item/ID, /shop/cart,
// /shop/checkout, /shop/orders, /shop/orders/ID, /shop/account, /shop/wishlist, /shop/inbox. None can be an API route (docs/storefront.md).
import "../style.css";
import { ApiError, call, clearErrors, raw, showErrors, tokens, visitorHeaders } from "../api";
import { clear, field, h, money } from "../dom";
import { authForms, pollUntil, sessionBar, srcset, statusLine } from "../shared";
import { FINAL_STATUSES, type Cart, type Item, type Order, type SearchPage } from "../types";
import { getCart, mergeGuestCart, priceChanges, setLine } from "./cart";
import { homeStrips, inboxPage, relatedStrip, unreadCount, wishlistPage, wishlistToggle } from "./recs";

const main = document.getElementById("main") as HTMLElement;
const cartCount = h("span", { class: "badge", "aria-label": "items in cart" }, "0");
const unread = h("span", { class: "badge", "aria-label": "unread notifications" }, "0");
const inboxLink = h("li", { hidden: true }, h("a", { href: "/shop/inbox" }, "Inbox ", unread));
let stopPolling: (() => void) | null = null;

// ---------------------------------------------------------------------------------------------- routing

function go(path: string, replace = false): void {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  void render();
}

document.addEventListener("click", (event) => {
  const link = (event.target as Element).closest("a");
  if (!link || link.target || link.origin !== location.origin || event.metaKey || event.ctrlKey || event.shiftKey) return;
  if (link.pathname !== "/" && !link.pathname.startsWith("/shop/")) return;
  event.preventDefault();
  go(link.pathname + link.search);
});
window.addEventListener("popstate", () => void render());

async function render(): Promise<void> {
  stopPolling?.();
  stopPolling = null;
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  let title = "Search";
  try {
    let match: RegExpMatchArray | null;
    if (path === "/" || path === "/index.html") await searchPage(params);
    else if ((match = path.match(/^\/shop\/item\/([^/]+)$/))) title = await itemPage(decodeURIComponent(match[1]));
    else if (path === "/shop/cart") (title = "Cart"), await cartPage();
    else if (path === "/shop/checkout") (title = "Checkout"), await checkoutPage();
    else if (path === "/shop/orders") (title = "Orders"), await ordersPage();
    else if ((match = path.match(/^\/shop\/orders\/([^/]+)$/))) (title = "Order"), await orderPage(decodeURIComponent(match[1]));
    else if (path === "/shop/account") (title = "Account"), accountPage(params.get("next"));
    else if (path === "/shop/wishlist") (title = "Wishlist"), tokens() ? await wishlistPage(main) : go("/shop/account?next=/shop/wishlist", true);
    else if (path === "/shop/inbox") (title = "Inbox"), tokens() ? await inboxPage(main, showUnread) : go("/shop/account?next=/shop/inbox", true);
    else (title = "Not found"), clear(main, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/" }, "Back to the shop")));
  } catch (error) {
    clear(main, h("h1", {}, "Something went wrong"), h("p", { role: "alert" }, error instanceof Error ? error.message : String(error)));
  }
  document.title = `${title} · Marketplace`;
  void refreshCartCount();
  if (path !== "/shop/inbox") void unreadCount().then(showUnread);
}

function showUnread(count: number): void {
  inboxLink.hidden = !tokens();
  unread.textContent = String(count);
}

async function refreshCartCount(): Promise<void> {
  try {
    const cart = await getCart();
    cartCount.textContent = String(cart.lines.reduce((sum, line) => sum + line.quantity, 0));
  } catch {
    cartCount.textContent = "0";
  }
}

// ---------------------------------------------------------------------------------------------- search

const FILTERS = ["q", "category", "brand", "minPrice", "maxPrice", "inStock", "sort"] as const;

function searchUrl(params: URLSearchParams, change: Record<string, string | null>): string {
  const next = new URLSearchParams(params);
  for (const [key, value] of Object.entries(change)) {
    if (value === null || value === "") next.delete(key);
    else next.set(key, value);
  }
  const query = next.toString();
  return query ? `/?${query}` : "/";
}

function apiQuery(params: URLSearchParams, cursor: string | null): string {
  const query = new URLSearchParams();
  for (const key of FILTERS) {
    const value = params.get(key);
    if (value) query.set(key === "q" ? "term" : key, value);
  }
  query.set("size", "24");
  if (cursor) query.set("cursor", cursor);
  return `/items?${query}`;
}

function searchBox(params: URLSearchParams): HTMLFormElement {
  const input = h("input", {
    id: "search-input", name: "q", type: "search", value: params.get("q") ?? "", autocomplete: "off",
    role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "suggestions",
    placeholder: "Search the shop",
  });
  const list = h("ul", { id: "suggestions", role: "listbox", class: "suggestions", hidden: true, "aria-label": "Suggestions" });
  let active = -1;
  let timer = 0;
  let asked = "";
  const options = (): HTMLElement[] => Array.from(list.querySelectorAll<HTMLElement>("[role=option]"));
  const close = (): void => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const choose = (text: string): void => {
    input.value = text;
    close();
    form.requestSubmit();
  };
  const highlight = (index: number): void => {
    const all = options();
    if (!all.length) return;
    active = (index + all.length) % all.length;
    all.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
    input.setAttribute("aria-activedescendant", all[active].id);
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const prefix = input.value.trim();
    if (prefix.length < 2) return close();
    timer = window.setTimeout(async () => {
      asked = prefix;
      const answer = await call<{ suggestions: string[] }>(`/items/suggest?prefix=${encodeURIComponent(prefix)}`).catch(() => ({ suggestions: [] }));
      if (asked !== prefix || input.value.trim() !== prefix) return;
      clear(list, answer.suggestions.map((text, i) =>
        h("li", { id: `suggestion-${i}`, role: "option", "aria-selected": "false", onmousedown: (event: Event) => { event.preventDefault(); choose(text); } }, text)));
      list.hidden = answer.suggestions.length === 0;
      input.setAttribute("aria-expanded", String(!list.hidden));
      active = -1;
    }, 150);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown") (event.preventDefault(), highlight(active + 1));
    else if (event.key === "ArrowUp") (event.preventDefault(), highlight(active - 1));
    else if (event.key === "Escape") close();
    else if (event.key === "Enter" && active >= 0) (event.preventDefault(), choose(options()[active].textContent ?? ""));
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
  const form = h("form", { role: "search", class: "search", action: "/" },
    h("label", { for: "search-input", class: "visually-hidden" }, "Search"),
    h("div", { class: "combo" }, input, list),
    h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    close();
    go(searchUrl(new URLSearchParams(), { q: input.value.trim() || null }));
  });
  return form;
}

async function searchPage(params: URLSearchParams): Promise<void> {
  const started = performance.now();
  const results = h("ul", { class: "results", "aria-label": "Results" });
  const summary = h("p", { class: "summary", "aria-live": "polite" }, "Searching…");
  const facets = h("aside", { class: "facets", "aria-label": "Filters" });
  const more = h("button", { type: "button", class: "more", hidden: true }, "More results");
  const sentinel = h("div", { class: "sentinel", "aria-hidden": "true" });
  const term = params.get("q");
  const searching = FILTERS.some((key) => params.get(key));
  clear(main, h("h1", {}, term ? `Results for “${term}”` : "New in the shop"), searchBox(params), searching ? null : homeStrips(), summary,
    h("div", { class: "search-layout" }, facets, h("section", { "aria-label": "Items" }, results, more, sentinel)));

  let cursor: string | null = null;
  let loading = false;
  const load = async (): Promise<void> => {
    if (loading) return;
    loading = true;
    try {
      const page = await call<SearchPage>(apiQuery(params, cursor), { headers: visitorHeaders() });
      if (cursor === null) {
        performance.mark("search-first-result");
        performance.measure("search-to-first-result", { start: started, end: performance.now() });
        const total = page.total ?? page.items.length;
        summary.textContent = `${total.toLocaleString("en-US")} ${total === 1 ? "item" : "items"}`;
        renderFacets(facets, params, page);
      }
      results.append(...page.items.map(resultCard));
      if (!page.items.length && cursor === null) results.append(h("li", { class: "empty" }, "Nothing matches. Try fewer words or other filters."));
      cursor = page.nextCursor;
      more.hidden = cursor === null;
    } finally {
      loading = false;
    }
  };
  more.addEventListener("click", () => void load());
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting) && cursor !== null) void load();
  }, { rootMargin: "400px" });
  observer.observe(sentinel);
  stopPolling = () => observer.disconnect();
  await load();
}

function resultCard(item: SearchPage["items"][number]): HTMLLIElement {
  return h("li", { class: "result" },
    item.image ? h("img", { src: item.image, alt: "", width: 200, height: 200, loading: "lazy" }) : h("div", { class: "no-image", "aria-hidden": "true" }),
    h("a", { href: `/shop/item/${encodeURIComponent(item.itemId)}` }, item.name),
    h("p", { class: "meta" }, [item.brand, item.category].filter(Boolean).join(" · ")),
    h("p", { class: "price" }, money(item.price, item.currency)),
    h("p", { class: item.inStock ? "stock" : "stock out" }, item.inStock ? `${item.available} in stock` : "Out of stock"));
}

function renderFacets(aside: HTMLElement, params: URLSearchParams, page: SearchPage): void {
  const list = (title: string, key: "category" | "brand", values: { value: string; count: number }[]): HTMLElement =>
    h("section", {}, h("h2", {}, title), h("ul", {}, values.map(({ value, count }) => {
      const selected = params.get(key) === value;
      return h("li", {}, h("a", { href: searchUrl(params, { [key]: selected ? null : value }), "aria-current": selected ? "true" : null },
        `${value} (${count})`, selected ? " ✕" : ""));
    })));
  const prices = h("section", {}, h("h2", {}, "Price"), h("ul", {}, (page.facets?.price ?? []).filter((range) => range.count > 0).map((range) => {
    const label = range.from === null ? `under ${money(range.to ?? 0)}` : range.to === null ? `${money(range.from)} and up` : `${money(range.from)} – ${money(range.to)}`;
    const selected = params.get("minPrice") === (range.from === null ? null : String(range.from)) && params.get("maxPrice") === (range.to === null ? null : String(range.to));
    return h("li", {}, h("a", { href: searchUrl(params, selected ? { minPrice: null, maxPrice: null } : { minPrice: range.from === null ? null : String(range.from), maxPrice: range.to === null ? null : String(range.to) }), "aria-current": selected ? "true" : null }, `${label} (${range.count})`));
  })));
  const sort = field("Sort by", "sort", {}, "select", [["relevance", "Relevance"], ["price_asc", "Price, low to high"], ["price_desc", "Price, high to low"], ["newest", "Newest"]]);
  const select = sort.querySelector("select") as HTMLSelectElement;
  select.value = params.get("sort") ?? "relevance";
  select.addEventListener("change", () => go(searchUrl(params, { sort: select.value === "relevance" ? null : select.value })));
  const inStock = h("input", { type: "checkbox", id: "in-stock", checked: params.get("inStock") === "true" });
  inStock.addEventListener("change", () => go(searchUrl(params, { inStock: inStock.checked ? "true" : null })));
  clear(aside, sort, h("div", { class: "check" }, inStock, h("label", { for: "in-stock" }, "In stock only")),
    list("Category", "category", page.facets?.category ?? []), list("Brand", "brand", page.facets?.brand ?? []), prices);
}

// ---------------------------------------------------------------------------------------------- item

async function itemPage(itemId: string): Promise<string> {
  const item = await call<Item>(`/items/${encodeURIComponent(itemId)}`, { headers: visitorHeaders() });
  const related = relatedStrip(item.itemId); // filled when it answers, as the home page's strips
  const wish = await wishlistToggle(item.itemId, item.name);
  const availability = h("p", { class: "availability", "aria-live": "polite" });
  const price = h("p", { class: "price big" });
  const variantField = item.variants.length
    ? field("Variant", "variantId", {}, "select", item.variants.map((variant) => [variant.variantId,
        Object.values(variant.attributes).join(" / ") || variant.sku || variant.variantId]))
    : null;
  const variantSelect = variantField?.querySelector("select") ?? null;
  const quantity = field("Quantity", "quantity", { type: "number", min: 1, max: 10, value: 1, inputmode: "numeric" });
  let current = item;
  const show = (): void => {
    const variant = current.variants.find((v) => v.variantId === variantSelect?.value);
    const available = variant ? variant.available : current.available;
    price.textContent = money(variant ? variant.price : current.price, current.currency);
    availability.textContent = current.status !== "ACTIVE" ? "No longer on sale" : available > 0 ? `${available} available` : "Out of stock";
    availability.className = available > 0 && current.status === "ACTIVE" ? "availability" : "availability out";
  };
  variantSelect?.addEventListener("change", show);
  show();
  const form = h("form", { class: "buy", novalidate: true }, variantField, quantity, statusLine(), h("button", { type: "submit" }, "Add to cart"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const wanted = Number((form.elements.namedItem("quantity") as HTMLInputElement).value);
    try {
      const cart = await getCart();
      const line = cart.lines.find((l) => l.itemId === item.itemId && (!variantSelect || l.variantId === variantSelect.value));
      await setLine(item.itemId, variantSelect?.value, (line?.quantity ?? 0) + wanted);
      (form.querySelector("[role=alert]") as HTMLElement).textContent = "Added to your cart.";
      void refreshCartCount();
    } catch (error) {
      if (error instanceof ApiError && error.code === "OUT_OF_STOCK") error.details["field"] = "quantity";
      showErrors(form, error);
    }
  });
  const images = item.images.map(srcset).filter((image) => image !== null);
  clear(main,
    h("nav", { "aria-label": "Breadcrumb" }, h("a", { href: "/" }, "Shop"), item.category ? [" › ", h("a", { href: searchUrl(new URLSearchParams(), { category: item.category }) }, item.category)] : null),
    h("article", { class: "item" },
      h("div", { class: "gallery" }, images.length
        ? images.map((image, i) => h("img", { src: image.src, srcset: image.srcset, sizes: "(max-width: 700px) 100vw, 400px", alt: `${item.name}, picture ${i + 1}`, width: 400, height: 400 }))
        : h("div", { class: "no-image large", role: "img", "aria-label": "No picture yet" })),
      h("div", { class: "details" },
        h("h1", {}, item.name),
        item.brand ? h("p", { class: "meta" }, item.brand) : null,
        price, availability, form, wish,
        h("p", { class: "description" }, item.description),
        Object.keys(item.specifications ?? {}).length
          ? [h("h2", {}, "Specifications"), h("dl", { class: "specs" }, Object.entries(item.specifications).map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]))]
          : null,
        Object.keys(item.attributes ?? {}).length
          ? [h("h2", {}, "Details"), h("dl", { class: "specs" }, Object.entries(item.attributes).map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]))]
          : null)),
    related);
  // Live availability: the stock others buy shows up while the page is open.
  const timer = window.setInterval(async () => {
    try {
      current = await call<Item>(`/items/${encodeURIComponent(itemId)}`);
      show();
    } catch {
      // keep what is shown; the next tick tries again
    }
  }, 5000);
  stopPolling = () => clearInterval(timer);
  return item.name;
}

// ---------------------------------------------------------------------------------------------- cart

async function cartPage(): Promise<void> {
  const cart = await getCart();
  const changes = priceChanges(cart);
  const notices = h("div", { "aria-live": "polite" },
    changes.map(([name, was, now]) => h("p", { class: "notice" }, `The price of ${name} changed from ${money(was)} to ${money(now)}.`)),
    cart.lines.filter((line) => line.lowStock).map((line) => h("p", { class: "notice" }, `Only a few of ${line.name} are left.`)));
  const status = statusLine();
  const lines = cart.lines.map((line) => {
    const input = h("input", { type: "number", min: 0, max: 10, value: line.quantity, id: `qty-${line.itemId}-${line.variantId}`, inputmode: "numeric" });
    const update = async (quantity: number): Promise<void> => {
      try {
        await setLine(line.itemId, line.variantId, quantity);
        await cartPage();
        void refreshCartCount();
      } catch (error) {
        status.textContent = error instanceof Error ? error.message : String(error);
      }
    };
    input.addEventListener("change", () => void update(Number(input.value)));
    return h("tr", {},
      h("th", { scope: "row" }, h("a", { href: `/shop/item/${encodeURIComponent(line.itemId)}` }, line.name), line.lowStock ? h("span", { class: "tag" }, "Low stock") : null),
      h("td", {}, money(line.unitPrice, cart.currency)),
      h("td", {}, h("label", { for: input.id, class: "visually-hidden" }, `Quantity of ${line.name}`), input),
      h("td", {}, money(line.lineTotal, cart.currency)),
      h("td", {}, h("button", { type: "button", class: "link", onclick: () => void update(0) }, h("span", {}, "Remove"), h("span", { class: "visually-hidden" }, ` ${line.name}`))));
  });
  clear(main, h("h1", {}, "Your cart"), notices, status,
    cart.lines.length
      ? [h("table", { class: "cart" },
          h("thead", {}, h("tr", {}, ["Item", "Price", "Quantity", "Total", h("span", { class: "visually-hidden" }, "Actions")].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, lines)),
        totalsBlock(cart),
        h("p", {}, h("a", { class: "button", href: tokens() ? "/shop/checkout" : "/shop/account?next=/shop/checkout" }, tokens() ? "Check out" : "Sign in to check out"))]
      : h("p", {}, "Your cart is empty. ", h("a", { href: "/" }, "Find something")));
}

function totalsBlock(cart: Cart): HTMLElement {
  const row = (label: string, value: number): HTMLElement[] => [h("dt", {}, label), h("dd", {}, money(value, cart.currency))];
  return h("dl", { class: "totals" }, row("Subtotal", cart.totals.subtotal), row("Tax", cart.totals.tax), row("Shipping", cart.totals.shipping), row("Total", cart.totals.total));
}

// ---------------------------------------------------------------------------------------------- checkout

const TEST_CARDS: [string, string][] = [
  ["4242 4242 4242 4242", "4242 4242 4242 4242 (approved)"],
  ["4000 0000 0000 0002", "4000 0000 0000 0002 (declined)"],
  ["4000 0000 0000 3220", "4000 0000 0000 3220 (needs confirmation)"],
];

async function checkoutPage(): Promise<void> {
  if (!tokens()) return go("/shop/account?next=/shop/checkout", true);
  let cart = await getCart();
  if (!cart.lines.length) return go("/shop/cart", true);
  const totals = h("div", {}, totalsBlock(cart));
  const card = field("Card number", "cardNo", { inputmode: "numeric", autocomplete: "cc-number", value: TEST_CARDS[0][0], list: "test-cards", required: true });
  const form = h("form", { class: "card", novalidate: true },
    h("h2", {}, "Payment"), card,
    h("datalist", { id: "test-cards" }, TEST_CARDS.map(([value, label]) => h("option", { value }, label))),
    h("p", { class: "hint" }, "Test cards: 4242… approved, …0002 declined, …3220 needs your confirmation."),
    statusLine(), h("button", { type: "submit" }, "Place order"));
  const idempotencyKey = crypto.randomUUID();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const cardNo = String(new FormData(form).get("cardNo"));
    try {
      const placed = await call<{ orderId: string }>("/checkout", {
        method: "POST", auth: true, headers: { "Idempotency-Key": idempotencyKey },
        body: { cartId: cart.cartId, amount: cart.totals.total, paymentInfo: { paymentType: "CARD", cardNo } },
      });
      go(`/shop/orders/${encodeURIComponent(placed.orderId)}`);
    } catch (error) {
      if (error instanceof ApiError && (error.code === "PRICE_CHANGED" || error.code === "AMOUNT_MISMATCH")) {
        cart = await getCart();
        clear(totals, h("p", { class: "notice" }, "Prices changed since you filled your cart: check the new total and place the order again."), totalsBlock(cart));
      }
      showErrors(form, error);
    }
  });
  clear(main, h("h1", {}, "Checkout"), h("ul", { class: "plain" }, cart.lines.map((line) => h("li", {}, `${line.quantity} × ${line.name}`))), totals, form);
}

// ---------------------------------------------------------------------------------------------- orders

async function orderPage(orderId: string): Promise<void> {
  const status = h("p", { class: "order-status", "aria-live": "polite", "data-testid": "order-status" });
  const history = h("ol", { class: "history" });
  const actions = h("div", {});
  clear(main, h("h1", {}, "Order"), h("p", { class: "meta" }, orderId), status, actions, h("h2", {}, "History"), history);
  let etag = "";
  let last: Order | null = null;
  let stopped = false;
  let awaitsConfirmation = false;
  let asking = false;
  stopPolling = () => { stopped = true; };
  // The order does not say that its payment waits for the buyer; the inbox does (a paymentNeedsConfirmation
  // notification for this order, docs/api.md "Wishlist and notifications").
  const askForConfirmation = async (order: Order): Promise<void> => {
    asking = true;
    try {
      const inbox = await call<{ notifications: { kind: string; orderId: string | null }[] }>("/notifications?size=20", { auth: true });
      awaitsConfirmation = inbox.notifications.some((n) => n.kind === "paymentNeedsConfirmation" && n.orderId === order.orderId);
    } catch {
      return;
    } finally {
      asking = false;
    }
    if (!awaitsConfirmation || stopped) return;
    const confirm = h("button", { type: "button" }, "Confirm payment");
    const note = statusLine();
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      try {
        await call(`/payments/${encodeURIComponent(order.paymentId)}/confirm`, { method: "POST", auth: true });
        note.textContent = "Payment confirmed.";
      } catch (error) {
        confirm.disabled = false;
        note.textContent = error instanceof Error ? error.message : String(error);
      }
    });
    clear(actions, h("p", {}, "Your bank asks you to confirm this payment."), confirm, note);
  };
  const read = async (): Promise<Order> => {
    const response = await raw(`/orders/${encodeURIComponent(orderId)}`, { auth: true, headers: etag ? { "If-None-Match": etag } : {} });
    if (response.status === 304 && last) return last;
    if (!response.ok) throw new Error(`The order could not be read (${response.status}).`);
    etag = response.headers.get("ETag") ?? "";
    return (last = (await response.json()) as Order);
  };
  await pollUntil(read, (order) => stopped || FINAL_STATUSES.has(order.status), (order) => {
    status.textContent = `Status: ${order.status}${order.reason ? ` (${order.reason})` : ""}`;
    status.dataset["status"] = order.status;
    clear(history, order.history.map((step) => h("li", {}, `${step.status} at ${new Date(step.at).toLocaleTimeString()}`, step.reason ? ` (${step.reason})` : "")));
    if (order.status === "CREATED" && !awaitsConfirmation && !asking) void askForConfirmation(order);
    if (order.status !== "CREATED") clear(actions);
  }, 500);
}

async function ordersPage(): Promise<void> {
  if (!tokens()) return go("/shop/account?next=/shop/orders", true);
  const list = h("ul", { class: "plain orders" });
  const more = h("button", { type: "button", hidden: true }, "Older orders");
  clear(main, h("h1", {}, "Your orders"), list, more);
  let cursor: string | null = null;
  const load = async (): Promise<void> => {
    const page = await call<{ orders: Order[]; nextCursor: string | null }>(`/orders?size=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { auth: true });
    list.append(...page.orders.map((order) => h("li", {},
      h("a", { href: `/shop/orders/${encodeURIComponent(order.orderId)}` }, new Date(order.createdAt).toLocaleString()),
      ` · ${order.status} · ${money(order.amount, order.currency)}`, order.archived ? " · archived" : "")));
    if (!list.children.length) list.append(h("li", {}, "No orders yet."));
    cursor = page.nextCursor;
    more.hidden = cursor === null;
  };
  more.addEventListener("click", () => void load());
  await load();
}

// ---------------------------------------------------------------------------------------------- account

function accountPage(next: string | null): void {
  if (tokens()) {
    clear(main, h("h1", {}, "Account"), h("p", {}, `Signed in as ${tokens()?.email}.`), h("p", {}, h("a", { href: "/shop/orders" }, "Your orders")),
      h("p", {}, h("a", { href: "/shop/wishlist" }, "Your wishlist")), h("p", {}, h("a", { href: "/shop/inbox" }, "Your inbox")));
    return;
  }
  const target = next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
  clear(main, h("h1", {}, "Sign in"), authForms(async () => {
    await mergeGuestCart();
    go(target);
  }));
}

// ---------------------------------------------------------------------------------------------- shell

const header = document.getElementById("header") as HTMLElement;
clear(header,
  h("a", { href: "/", class: "brand" }, "Marketplace"),
  h("nav", { "aria-label": "Main" }, h("ul", {},
    h("li", {}, h("a", { href: "/shop/cart" }, "Cart ", cartCount)),
    h("li", {}, h("a", { href: "/shop/orders" }, "Orders")),
    h("li", {}, h("a", { href: "/shop/wishlist" }, "Wishlist")),
    inboxLink,
    h("li", {}, h("a", { href: "/shop/account" }, "Account")),
    h("li", {}, h("a", { href: "/seller" }, "Sell")))),
  sessionBar(() => go("/")));
void render();
