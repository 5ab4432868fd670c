// The API's shapes the pages read (docs/openapi.json has them all).

export interface Totals {
  subtotal: number;
  tax: number;
  shipping: number;
  total: number;
}

export interface ItemSummary {
  itemId: string;
  name: string;
  brand: string | null;
  category: string | null;
  price: number;
  currency: string;
  available: number;
  inStock: boolean;
  image: string | null;
}

export interface Facet {
  value: string;
  count: number;
}

export interface SearchPage {
  items: ItemSummary[];
  nextCursor: string | null;
  total: number | null;
  facets: { category: Facet[]; brand: Facet[]; price: { from: number | null; to: number | null; count: number }[] } | null;
}

export interface Image {
  imageId: string;
  status: "PENDING" | "READY" | "REJECTED";
  reason?: string | null;
  url?: string | null;
  renditions?: Record<string, string> | null;
}

export interface Variant {
  variantId: string;
  sku: string | null;
  attributes: Record<string, string>;
  price: number;
  available: number;
}

export interface Item {
  itemId: string;
  name: string;
  description: string;
  price: number;
  currency: string;
  brand: string | null;
  category: string | null;
  tags: string[];
  attributes: Record<string, string>;
  specifications: Record<string, string>;
  variants: Variant[];
  images: Image[];
  status: string;
  version: number;
  available: number;
}

export interface CartLine {
  itemId: string;
  variantId: string;
  name: string;
  quantity: number;
  unitPrice: number;
  lineTotal: number;
  lowStock: boolean;
}

export interface Cart {
  cartId: string | null;
  lines: CartLine[];
  totals: Totals;
  currency: string;
  cartToken?: string | null;
}

export interface Order {
  orderId: string;
  status: string;
  reason: string | null;
  amount: number;
  currency: string;
  paymentId: string;
  paymentStatus: string;
  cardLast4: string;
  lines: { itemId: string; variantId: string; quantity: number; unitPrice: number; name: string }[];
  createdAt: string;
  history: { status: string; at: string; reason: string | null }[];
  archived: boolean;
}

export interface UploadForm {
  url: string;
  fields: Record<string, string>;
  maxBytes: number;
}

export interface ImportView {
  importId: string;
  status: "PENDING" | "PROCESSING" | "COMPLETED" | "FAILED";
  total: number;
  created: number;
  failed: number;
  errors: { row: number; field: string | null; code: string; message: string }[];
  errorsTruncated: boolean;
  failureReason: string | null;
}

/** Statuses after which an order does not change any more. */
export const FINAL_STATUSES = new Set(["SHIPPED", "REJECTED", "PAYMENT_FAILED", "EXPIRED", "CANCELLED"]);
