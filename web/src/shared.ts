// What both pages share: the header with the session, sign-in and sign-up forms, images by srcset.
import { ApiError, call, clearErrors, saveTokens, showErrors, signIn, signUp, tokens } from "./api";
import { clear, field, h } from "./dom";
import type { Image } from "./types";

export function sessionBar(onSignedOut: () => void): HTMLElement {
  const bar = h("div", { class: "session", "aria-live": "polite" });
  const render = (): void => {
    const session = tokens();
    clear(
      bar,
      session
        ? [
            h("span", { class: "who" }, `${session.email} (${session.role})`),
            h("button", { type: "button", class: "link", onclick: () => { saveTokens(null); onSignedOut(); } }, "Sign out"),
          ]
        : null,
    );
  };
  window.addEventListener("shop:session", render);
  render();
  return bar;
}

export function srcset(image: Image): { src: string; srcset?: string } | null {
  if (image.status !== "READY" || !image.url) return null;
  const renditions = Object.entries(image.renditions ?? {}).sort(([a], [b]) => Number(a) - Number(b));
  if (!renditions.length) return { src: image.url };
  return { src: renditions[renditions.length - 1][1], srcset: renditions.map(([width, url]) => `${url} ${width}w`).join(", ") };
}

export function statusLine(): HTMLParagraphElement {
  return h("p", { role: "alert", class: "form-status" });
}

/** Sign-in and sign-up side by side; `role` fixes the kind of account a sign-up makes (the console: seller). */
export function authForms(onSignedIn: () => void | Promise<void>, role?: "seller"): HTMLElement {
  const signInForm = h(
    "form",
    { class: "card", "aria-labelledby": "signin-title", novalidate: true },
    h("h2", { id: "signin-title" }, "Sign in"),
    field("Email", "email", { type: "email", autocomplete: "username", required: true }),
    field("Password", "password", { type: "password", autocomplete: "current-password", required: true }),
    statusLine(),
    h("button", { type: "submit" }, "Sign in"),
  );
  signInForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(signInForm);
    const data = new FormData(signInForm);
    try {
      await signIn(String(data.get("email")), String(data.get("password")));
      await onSignedIn();
    } catch (error) {
      showErrors(signInForm, error);
    }
  });

  const signUpForm = h(
    "form",
    { class: "card", "aria-labelledby": "signup-title", novalidate: true },
    h("h2", { id: "signup-title" }, role === "seller" ? "Open a seller account" : "Create an account"),
    field("Name", "name", { autocomplete: "name", required: true }),
    field("Email", "email", { type: "email", autocomplete: "email", required: true }),
    field("Password", "password", { type: "password", autocomplete: "new-password", required: true }),
    h("p", { class: "hint" }, "At least 8 characters with upper and lower case letters, a digit and a symbol."),
    statusLine(),
    h("button", { type: "submit" }, "Create account"),
  );
  signUpForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(signUpForm);
    const data = new FormData(signUpForm);
    const email = String(data.get("email"));
    const password = String(data.get("password"));
    try {
      await signUp({ email, password, name: String(data.get("name")), role: role ?? "buyer" });
      await signIn(email, password);
      await onSignedIn();
    } catch (error) {
      if (error instanceof ApiError && error.code === "WEAK_PASSWORD") {
        error.details["fields"] = [{ field: "password", message: error.message }];
      }
      showErrors(signUpForm, error);
    }
  });
  return h("div", { class: "auth" }, signInForm, signUpForm);
}

export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, each: (value: T) => void, everyMs = 700): Promise<T> {
  for (;;) {
    const value = await read();
    each(value);
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export { call };
