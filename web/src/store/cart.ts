// The cart a visitor sees: a buyer's own (/cart) once signed in, else the guest cart (/guest-cart and its
// X-Cart-Token, kept in localStorage), which sign-in folds into the buyer's (POST /cart/merge).
import { call, tokens, visitorHeaders } from "../api";
import type { Cart } from "../types";

const GUEST_TOKEN_KEY = "shop.guestCartToken";
const SEEN_PRICES_KEY = "shop.seenPrices";

function signedInBuyer(): boolean {
  const session = tokens();
  return session !== null && session.role !== "seller";
}

function guestHeaders(): Record<string, string> {
  const token = localStorage.getItem(GUEST_TOKEN_KEY);
  return token ? { ...visitorHeaders(), "X-Cart-Token": token } : visitorHeaders();
}

function remember(cart: Cart): Cart {
  if (cart.cartToken) localStorage.setItem(GUEST_TOKEN_KEY, cart.cartToken);
  return cart;
}

export async function getCart(): Promise<Cart> {
  if (signedInBuyer()) return call<Cart>("/cart", { auth: true });
  if (!localStorage.getItem(GUEST_TOKEN_KEY)) return { cartId: null, lines: [], totals: { subtotal: 0, tax: 0, shipping: 0, total: 0 }, currency: "USD" };
  return remember(await call<Cart>("/guest-cart", { headers: guestHeaders() }));
}

export async function setLine(itemId: string, variantId: string | undefined, quantity: number): Promise<Cart> {
  const body = { itemId, quantity, ...(variantId && variantId !== "default" ? { variantId } : {}) };
  if (signedInBuyer()) return call<Cart>("/cart", { method: "PATCH", auth: true, body });
  return remember(await call<Cart>("/guest-cart", { method: "PATCH", headers: guestHeaders(), body }));
}

/** After a buyer signs in: the guest cart's lines join theirs (idempotent on the API side). */
export async function mergeGuestCart(): Promise<void> {
  const token = localStorage.getItem(GUEST_TOKEN_KEY);
  if (!token || !signedInBuyer()) return;
  await call<Cart>("/cart/merge", { method: "POST", auth: true, body: { cartToken: token } });
  localStorage.removeItem(GUEST_TOKEN_KEY);
}

/** Lines whose unit price moved since this browser last showed them: [name, was, now]. */
export function priceChanges(cart: Cart): [string, number, number][] {
  const seen = JSON.parse(localStorage.getItem(SEEN_PRICES_KEY) ?? "{}") as Record<string, number>;
  const changes: [string, number, number][] = [];
  const now: Record<string, number> = {};
  for (const line of cart.lines) {
    const key = `${line.itemId}/${line.variantId}`;
    now[key] = line.unitPrice;
    if (key in seen && seen[key] !== line.unitPrice) changes.push([line.name, seen[key], line.unitPrice]);
  }
  localStorage.setItem(SEEN_PRICES_KEY, JSON.stringify(now));
  return changes;
}
