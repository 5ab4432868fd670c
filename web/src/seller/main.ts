// The seller console (/seller): list an item with variants and attributes, upload its images straight to S3
// (a presigned form, with progress, then READY or REJECTED), bulk import with the per-row report, edit with
// version conflicts shown, deactivate and activate, restock. The API has no "my items" listing, so the console
// remembers the items this browser listed or opened, per seller.
import "../style.css";
import { ApiError, call, clearErrors, showErrors, tokens } from "../api";
import { clear, field, h, money } from "../dom";
import { authForms, pollUntil, sessionBar, srcset, statusLine } from "../shared";
import type { ImportView, Item, UploadForm } from "../types";

const main = document.getElementById("main") as HTMLElement;

function knownKey(): string {
  return `shop.sellerItems.${tokens()?.email ?? ""}`;
}

function knownItems(): string[] {
  return JSON.parse(localStorage.getItem(knownKey()) ?? "[]") as string[];
}

function rememberItem(itemId: string): void {
  const ids = knownItems().filter((id) => id !== itemId);
  localStorage.setItem(knownKey(), JSON.stringify([itemId, ...ids].slice(0, 50)));
}

/** "key: value" lines (or "key=value" separated by commas) into a map; blank lines are skipped. */
function pairs(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const part of text.split(/\n|,/)) {
    const match = part.match(/^\s*([^:=]+?)\s*[:=]\s*(.+?)\s*$/);
    if (match) map[match[1]] = match[2];
  }
  return map;
}

function toMinor(value: FormDataEntryValue | null): number {
  return Math.round(Number(value) * 100);
}

/** A browser POST of the presigned form to S3, with upload progress (fetch reports none). */
function upload(form: UploadForm, file: File, progress: HTMLProgressElement, contentType?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
    if (contentType) body.append("Content-Type", contentType);
    body.append("file", file);
    const request = new XMLHttpRequest();
    request.open("POST", form.url);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress.value = Math.round((event.loaded / event.total) * 100);
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) {
        progress.value = 100;
        resolve();
      } else reject(new Error(`The upload was refused (${request.status}).`));
    });
    request.addEventListener("error", () => reject(new Error("The upload failed: the storage could not be reached.")));
    request.send(body);
  });
}

// ---------------------------------------------------------------------------------------------- listing

function variantRow(): HTMLFieldSetElement {
  const row = h("fieldset", { class: "variant" },
    h("legend", {}, "Variant"),
    field("Attributes (e.g. color=red, size=M)", "variantAttributes", { required: true }),
    field("Price (USD, empty: the item's)", "variantPrice", { type: "number", min: 0.01, step: 0.01, inputmode: "decimal" }),
    field("Stock", "variantStock", { type: "number", min: 0, step: 1, value: 0, inputmode: "numeric" }));
  row.append(h("button", { type: "button", class: "link", onclick: () => row.remove() }, "Remove variant"));
  return row;
}

function listingForm(onListed: (item: Item) => void): HTMLFormElement {
  const variants = h("div", { class: "variants" });
  const form = h("form", { class: "card", "aria-labelledby": "list-title", novalidate: true },
    h("h2", { id: "list-title" }, "List an item"),
    field("Name", "name", { required: true }),
    field("Description", "description", { required: true, rows: 3 }, "textarea"),
    h("div", { class: "row" },
      field("Price (USD)", "price", { type: "number", min: 0.01, step: 0.01, required: true, inputmode: "decimal" }),
      field("Quantity", "quantity", { type: "number", min: 0, step: 1, value: 1, required: true, inputmode: "numeric" })),
    h("div", { class: "row" }, field("SKU", "sku"), field("Brand", "brand"), field("Category", "category")),
    field("Tags (comma separated)", "tags"),
    field("Attributes (one key: value a line)", "attributes", { rows: 2 }, "textarea"),
    field("Specifications (one key: value a line)", "specifications", { rows: 2 }, "textarea"),
    h("p", { "data-error-for": "variants", class: "field-error", hidden: true }),
    variants,
    h("button", { type: "button", class: "secondary", onclick: () => variants.append(variantRow()) }, "Add a variant"),
    h("p", { class: "hint" }, "With variants, the quantity is the sum of their stock."),
    statusLine(),
    h("button", { type: "submit" }, "List item"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    const optional = (name: string): string | undefined => String(data.get(name) ?? "").trim() || undefined;
    const variantList = Array.from(variants.querySelectorAll("fieldset")).map((row) => {
      const value = (name: string): string => (row.querySelector(`[name=${name}]`) as HTMLInputElement).value;
      return { attributes: pairs(value("variantAttributes")), stock: Number(value("variantStock")), ...(value("variantPrice") ? { price: toMinor(value("variantPrice")) } : {}) };
    });
    const body: Record<string, unknown> = {
      name: String(data.get("name")), description: String(data.get("description")), price: toMinor(data.get("price")),
      quantity: variantList.length ? variantList.reduce((sum, v) => sum + v.stock, 0) : Number(data.get("quantity")),
      sku: optional("sku"), brand: optional("brand"), category: optional("category"),
      tags: optional("tags")?.split(",").map((tag) => tag.trim()).filter(Boolean),
      attributes: pairs(String(data.get("attributes") ?? "")), specifications: pairs(String(data.get("specifications") ?? "")),
      ...(variantList.length ? { variants: variantList } : {}),
    };
    try {
      const item = await call<Item>("/items", { method: "POST", auth: true, body, headers: { "Idempotency-Key": crypto.randomUUID() } });
      rememberItem(item.itemId);
      form.reset();
      variants.replaceChildren();
      (form.querySelector("[role=alert]") as HTMLElement).textContent = `Listed “${item.name}”.`;
      onListed(item);
    } catch (error) {
      if (error instanceof ApiError && (error.code === "BANNED_TERM" || error.code === "PRICE_OUT_OF_RANGE")) {
        error.details["fields"] = [{ field: String(error.details["field"] ?? "name"), message: error.message }];
      }
      showErrors(form, error);
    }
  });
  return form;
}

// ---------------------------------------------------------------------------------------------- one item

function itemEditor(initial: Item, onClose: () => void): HTMLElement {
  let item = initial;
  let lastUpload = { progress: 0, note: "" };  // kept across re-renders: the last upload's progress and result
  const panel = h("section", { class: "card editor", "aria-labelledby": `editor-${item.itemId}` });
  const render = (): void => {
    const editForm = h("form", { novalidate: true },
      h("h3", {}, "Edit"),
      field("Name", "name", { value: item.name, required: true }),
      field("Description", "description", { rows: 3 }, "textarea"),
      field("Price (USD)", "price", { type: "number", min: 0.01, step: 0.01, value: (item.price / 100).toFixed(2), inputmode: "decimal" }),
      statusLine(),
      h("button", { type: "submit" }, "Save changes"));
    (editForm.querySelector("textarea") as HTMLTextAreaElement).value = item.description;
    const editing = item.version;
    editForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(editForm);
      const data = new FormData(editForm);
      try {
        item = await call<Item>(`/items/${item.itemId}`, { method: "PATCH", auth: true,
          body: { version: editing, name: String(data.get("name")), description: String(data.get("description")), price: toMinor(data.get("price")) } });
        render();
        (panel.querySelector("[role=alert]") as HTMLElement).textContent = `Saved: version ${item.version}.`;
      } catch (error) {
        showErrors(editForm, error);
        if (error instanceof ApiError && error.code === "VERSION_CONFLICT") {
          const alert = editForm.querySelector("[role=alert]") as HTMLElement;
          alert.textContent = `Someone changed this item meanwhile (you edited version ${editing}, it is now version ${String(error.details["currentVersion"] ?? "newer")}). Your changes were not saved. `;
          alert.append(h("button", { type: "button", class: "link", onclick: async () => { item = await call<Item>(`/items/${item.itemId}`); render(); } }, "Load the current version"));
        }
      }
    });

    const statusButton = h("button", { type: "button", class: "secondary" }, item.status === "ACTIVE" ? "Deactivate" : "Activate");
    statusButton.addEventListener("click", async () => {
      item = await call<Item>(`/items/${item.itemId}/${item.status === "ACTIVE" ? "deactivate" : "activate"}`, { method: "POST", auth: true });
      render();
    });

    const restock = h("form", { novalidate: true }, h("h3", {}, "Restock"),
      item.variants.length ? field("Variant", "variantId", {}, "select", item.variants.map((v) => [v.variantId, Object.values(v.attributes).join(" / ") || v.variantId])) : null,
      field("Units to add", "quantity", { type: "number", min: 1, step: 1, value: 10, inputmode: "numeric" }),
      statusLine(), h("button", { type: "submit" }, "Add stock"));
    restock.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(restock);
      const data = new FormData(restock);
      try {
        const stock = await call<{ available: number }>(`/items/${item.itemId}/stock`, { method: "POST", auth: true,
          body: { quantity: Number(data.get("quantity")), ...(data.get("variantId") ? { variantId: String(data.get("variantId")) } : {}) } });
        item = await call<Item>(`/items/${item.itemId}`);
        render();
        (panel.querySelector("form:nth-of-type(2) [role=alert]") as HTMLElement | null)?.replaceChildren(`Now ${stock.available} available.`);
      } catch (error) {
        showErrors(restock, error);
      }
    });

    const progress = h("progress", { max: 100, value: lastUpload.progress, id: `progress-${item.itemId}`, "aria-label": "Upload progress" });
    const images = h("form", { novalidate: true }, h("h3", {}, "Images"),
      h("ul", { class: "thumbs", "aria-live": "polite" }, item.images.map((image) => {
        const shown = srcset(image);
        return h("li", { "data-image-status": image.status },
          shown ? h("img", { src: shown.src, srcset: shown.srcset, sizes: "120px", alt: `${item.name} picture`, width: 120, height: 120 }) : null,
          h("span", {}, image.status === "REJECTED" ? `REJECTED: ${image.reason ?? ""}` : image.status));
      })),
      field("Picture (JPEG, PNG or WebP)", "file", { type: "file", accept: "image/jpeg,image/png,image/webp", required: true }),
      h("label", { for: progress.id }, "Upload progress"), progress, h("p", { role: "status" }, lastUpload.note),
      statusLine(), h("button", { type: "submit" }, "Upload"));
    images.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(images);
      const file = (images.querySelector("input[type=file]") as HTMLInputElement).files?.[0];
      const note = images.querySelector("[role=alert]") as HTMLElement;
      if (!file) return void (note.textContent = "Choose a picture first.");
      try {
        const started = await call<{ imageId: string; upload: UploadForm }>(`/items/${item.itemId}/images`, { method: "POST", auth: true });
        await upload(started.upload, file, progress, file.type || "image/jpeg");
        note.textContent = "Uploaded; checking the picture…";
        item = await pollUntil(() => call<Item>(`/items/${item.itemId}`),
          (fresh) => fresh.images.find((image) => image.imageId === started.imageId)?.status !== "PENDING", () => undefined, 500);
        const result = item.images.find((image) => image.imageId === started.imageId);
        lastUpload = { progress: progress.value, note: `${file.name}: ${result?.status ?? "?"}${result?.reason ? ` (${result.reason})` : ""}` };
        render();
      } catch (error) {
        showErrors(images, error);
      }
    });

    clear(panel,
      h("h2", { id: `editor-${item.itemId}` }, item.name),
      h("p", { class: "meta" }, `${item.itemId} · ${item.status} · version ${item.version} · ${money(item.price, item.currency)} · ${item.available} available`),
      h("p", {}, h("a", { href: `/shop/item/${item.itemId}` }, "See it in the shop"), " ", statusButton, " ",
        h("button", { type: "button", class: "link", onclick: onClose }, "Close")),
      h("div", { class: "editor-grid" }, editForm, restock, images));
  };
  render();
  return panel;
}

// ---------------------------------------------------------------------------------------------- import

function importForm(): HTMLFormElement {
  const progress = h("progress", { max: 100, value: 0, id: "import-progress" });
  const report = h("div", { "aria-live": "polite", class: "report" });
  const form = h("form", { class: "card", "aria-labelledby": "import-title", novalidate: true },
    h("h2", { id: "import-title" }, "Bulk import"),
    h("p", { class: "hint" }, "JSONL: one item a line, as POST /items takes it. CSV: a header with name, description, price, quantity and optionally sku, brand, category, tags (separated by ;)."),
    field("Format", "format", {}, "select", [["csv", "CSV"], ["jsonl", "JSONL"]]),
    field("File", "file", { type: "file", accept: ".csv,.jsonl,.json,text/csv,application/json", required: true }),
    h("label", { for: progress.id }, "Upload progress"), progress,
    statusLine(), h("button", { type: "submit" }, "Import"), report);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    const file = data.get("file");
    const note = form.querySelector("[role=alert]") as HTMLElement;
    if (!(file instanceof File) || !file.size) return void (note.textContent = "Choose a file first.");
    try {
      const started = await call<{ importId: string; upload: UploadForm }>("/imports", { method: "POST", auth: true, body: { format: data.get("format") } });
      await upload(started.upload, file, progress);
      note.textContent = "Uploaded; importing…";
      const done = await pollUntil(() => call<ImportView>(`/imports/${started.importId}`, { auth: true }),
        (view) => view.status === "COMPLETED" || view.status === "FAILED", (view) => { note.textContent = `Import ${view.status.toLowerCase()}…`; }, 700);
      note.textContent = done.status === "FAILED" ? `The import failed: ${done.failureReason ?? "unknown reason"}.` : `Import completed: ${done.created} created, ${done.failed} failed of ${done.total}.`;
      clear(report, done.errors.length
        ? h("table", { class: "import-report" }, h("caption", {}, "Rows not imported"),
            h("thead", {}, h("tr", {}, ["Row", "Field", "Code", "Message"].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", {}, done.errors.map((e) => h("tr", {}, h("td", {}, e.row), h("td", {}, e.field ?? ""), h("td", {}, e.code), h("td", {}, e.message)))))
        : null, done.errorsTruncated ? h("p", {}, "Only the first 1,000 errors are shown.") : null);
    } catch (error) {
      showErrors(form, error);
    }
  });
  return form;
}

// ---------------------------------------------------------------------------------------------- page

async function render(): Promise<void> {
  const session = tokens();
  if (!session || session.role !== "seller") {
    clear(main, h("h1", {}, "Seller console"),
      session ? h("p", { role: "alert" }, `You are signed in as a ${session.role}; sign in with a seller account to sell.`) : h("p", {}, "Sign in with your seller account, or open one."),
      authForms(render, "seller"));
    return;
  }
  const editorSlot = h("div", {});
  const itemsList = h("ul", { class: "plain seller-items" });
  const open = async (itemId: string): Promise<void> => {
    const item = await call<Item>(`/items/${encodeURIComponent(itemId)}`);
    rememberItem(item.itemId);
    clear(editorSlot, itemEditor(item, () => clear(editorSlot)));
    (editorSlot.querySelector("h2") as HTMLElement).setAttribute("tabindex", "-1");
    (editorSlot.querySelector("h2") as HTMLElement).focus();
    void listItems();
  };
  const listItems = async (): Promise<void> => {
    const items = await Promise.all(knownItems().map((id) => call<Item>(`/items/${id}`).catch(() => null)));
    clear(itemsList, items.filter((item) => item !== null).map((item) => h("li", {},
      h("button", { type: "button", class: "link", onclick: () => void open(item.itemId) }, `Edit ${item.name}`),
      ` · ${item.status} · ${money(item.price, item.currency)} · ${item.available} available`)));
    if (!itemsList.children.length) itemsList.append(h("li", {}, "Nothing listed from this browser yet."));
  };
  const openForm = h("form", { class: "inline", novalidate: true }, field("Open an item by id", "itemId", { required: true }), statusLine(), h("button", { type: "submit" }, "Open"));
  openForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(openForm);
    try {
      await open(String(new FormData(openForm).get("itemId")).trim());
    } catch (error) {
      showErrors(openForm, error);
    }
  });
  clear(main, h("h1", {}, "Seller console"),
    h("div", { class: "console" },
      listingForm((item) => void open(item.itemId)),
      h("section", { class: "card", "aria-labelledby": "items-title" }, h("h2", { id: "items-title" }, "Your items"), itemsList, openForm),
      importForm()),
    editorSlot);
  const wanted = new URLSearchParams(location.search).get("item");
  await listItems();
  if (wanted) await open(wanted).catch(() => undefined);
}

const header = document.getElementById("header") as HTMLElement;
clear(header, h("a", { href: "/", class: "brand" }, "Marketplace"),
  h("nav", { "aria-label": "Main" }, h("ul", {}, h("li", {}, h("a", { href: "/" }, "Shop")), h("li", {}, h("a", { href: "/seller", "aria-current": "page" }, "Seller console")))),
  sessionBar(() => void render()));
void render();
