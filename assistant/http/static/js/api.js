// Calls to the /v1 API from the pages: JSON in and out, the API key when the server wants one.
//
// With API keys on, the first 401 opens a dialog asking for a key; the key is kept in
// sessionStorage (this tab only, gone when it closes) and every call sends it as a Bearer token.
// Concurrent calls that meet a 401 wait for the same dialog, so the key is asked for once.

const KEY_STORE = "retail-insights.api-key";
let pendingKey = null;

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

function describe(status, body) {
  const detail = body && body.detail;
  if (Array.isArray(detail)) {   // FastAPI's 422: one entry per bad field
    return detail.map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`).join("; ");
  }
  return detail || `the server answered ${status}`;
}

export function storedKey() {
  return sessionStorage.getItem(KEY_STORE);
}

export async function api(path, { method = "GET", body, signal } = {}) {
  for (;;) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const key = storedKey();
    if (key) headers.Authorization = `Bearer ${key}`;
    const response = await fetch(path, {
      method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (response.status === 401) {
      sessionStorage.removeItem(KEY_STORE);
      await askForKey(describe(401, data));
      continue;
    }
    if (!response.ok) {
      throw new ApiError(response.status, data, Number(response.headers.get("Retry-After")) || null);
    }
    return { status: response.status, data };
  }
}

// A page fetched with the key and shown from memory: links cannot send an Authorization header.
export async function openWithKey(href) {
  const response = await fetch(href, { headers: { Authorization: `Bearer ${storedKey()}` } });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const url = URL.createObjectURL(new Blob([await response.text()], { type: "text/html" }));
  window.open(url, "_blank", "noopener");
}

function askForKey(reason) {
  if (!pendingKey) {
    pendingKey = new Promise((resolve) => {
      const dialog = keyDialog();
      dialog.querySelector(".reason").textContent = `The server needs an API key (${reason})`;
      dialog.querySelector("form").onsubmit = (event) => {
        event.preventDefault();
        const value = dialog.querySelector("input").value.trim();
        if (!value) return;
        sessionStorage.setItem(KEY_STORE, value);
        dialog.close();
        pendingKey = null;
        resolve();
      };
      dialog.showModal();
      dialog.querySelector("input").focus();
    });
  }
  return pendingKey;
}

function keyDialog() {
  let dialog = document.getElementById("key-dialog");
  if (dialog) return dialog;
  dialog = document.createElement("dialog");
  dialog.id = "key-dialog";
  dialog.setAttribute("aria-label", "API key");
  dialog.innerHTML = `<form method="dialog">
      <p class="reason"></p>
      <label for="api-key">API key</label>
      <input id="api-key" type="password" autocomplete="off" required>
      <p class="hint">Kept in this tab only (sessionStorage).</p>
      <button type="submit" class="primary">Use key</button>
    </form>`;
  dialog.addEventListener("cancel", (event) => event.preventDefault());   // no key, no page
  document.body.append(dialog);
  return dialog;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}
