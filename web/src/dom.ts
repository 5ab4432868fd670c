// A tiny element builder: enough for forms and lists without a framework (the storefront's JS budget is 100 KB gzip).

type Child = Node | string | number | null | undefined | false;
type Children = Child | Children[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Children[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.replace(/^on/, ""), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of (children as unknown[]).flat(Infinity) as Child[]) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function clear(element: Element, ...children: Children[]): void {
  element.replaceChildren();
  for (const child of (children as unknown[]).flat(Infinity) as Child[]) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

export function money(minor: number, currency = "USD"): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(minor / 100);
}

/** A labelled input: the label's `for` names the input, so screen readers and tests find it by its text. */
export function field(
  label: string,
  name: string,
  attrs: Attrs = {},
  kind: "input" | "textarea" | "select" = "input",
  options: [string, string][] = [],
): HTMLDivElement {
  const id = `${name}-${Math.random().toString(36).slice(2, 8)}`;
  const control =
    kind === "select"
      ? h("select", { id, name, ...attrs }, ...options.map(([value, text]) => h("option", { value }, text)))
      : kind === "textarea"
        ? h("textarea", { id, name, ...attrs })
        : h("input", { id, name, ...attrs });
  const error = h("p", { class: "field-error", id: `${id}-error`, "data-error-for": name, hidden: true });
  control.setAttribute("aria-describedby", error.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, error);
}
