// A result table: numbers formatted like the answers' sentences, columns sortable, copy as CSV.

import { el } from "./api.js";

const MAX_SHOWN = 500;
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

// The format of each column: a metric's own (from /v1/datasets), its _compare/_change the same,
// shares and percentage changes in %, other numbers with separators.
export function columnKinds(columns, metricFormats = {}) {
  return columns.map((name) => {
    if (name === "share" || name.endsWith("_pct_change")) return "percent";
    const base = name.replace(/_(compare|change)$/, "");
    return metricFormats[name] || metricFormats[base] || "number";
  });
}

export function formatValue(value, kind) {
  if (value === null || value === undefined) return "";
  if (typeof value !== "number") return String(value);
  if (kind === "currency") return money.format(value);
  if (kind === "integer") return whole.format(value);
  if (kind === "percent") return `${(value * 100).toFixed(2)}%`;
  return Number.isInteger(value) ? String(value) : decimal.format(value);
}

export function toCsv(columns, rows) {
  const cell = (value) => {
    if (value === null || value === undefined) return "";
    let text = String(value);
    // A text cell a spreadsheet would run as a formula is kept as text.
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(text) && Number.isNaN(Number(text))) text = `'${text}`;
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns, ...rows].map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

export async function copyText(text, button) {
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed";
  }
  setTimeout(() => { button.textContent = label; }, 1500);
}

export function resultTable(columns, rows, { metricFormats, caption } = {}) {
  const kinds = columnKinds(columns, metricFormats);
  const numeric = columns.map((_, i) => rows.some((r) => typeof r[i] === "number"));
  const body = el("tbody");
  const state = { rows: [...rows], column: null, descending: false };
  const heads = columns.map((name, i) => el("th", { scope: "col", class: numeric[i] ? "num" : null, "aria-sort": "none" },
    el("button", { type: "button", onclick: () => sortBy(i) }, name)));

  function draw() {
    body.replaceChildren(...state.rows.slice(0, MAX_SHOWN).map((row) => el("tr", {},
      row.map((value, i) => el("td", { class: numeric[i] ? "num" : null }, formatValue(value, kinds[i]))))));
  }

  function sortBy(i) {
    state.descending = state.column === i && !state.descending;   // ascending first, then toggles
    state.column = i;
    const sign = state.descending ? -1 : 1;
    state.rows.sort((a, b) => {
      if (a[i] === b[i]) return 0;
      if (a[i] === null || a[i] === undefined) return 1;   // empty cells last either way
      if (b[i] === null || b[i] === undefined) return -1;
      return (numeric[i] ? a[i] - b[i] : String(a[i]).localeCompare(String(b[i]))) * sign;
    });
    heads.forEach((th, j) => th.setAttribute("aria-sort", j !== i ? "none" : state.descending ? "descending" : "ascending"));
    draw();
  }

  draw();
  const table = el("table", {}, caption ? el("caption", { class: "visually-hidden" }, caption) : null,
    el("thead", {}, el("tr", {}, heads)), body);
  const copy = el("button", { type: "button", onclick: (e) => copyText(toCsv(columns, rows), e.currentTarget) }, "Copy CSV");
  const shown = rows.length > MAX_SHOWN ? `showing ${MAX_SHOWN} of ${rows.length} rows` : `${rows.length} row${rows.length === 1 ? "" : "s"}`;
  return el("div", { class: "result" }, el("div", { class: "table-wrap" }, table),
    el("div", { class: "tools" }, el("span", { class: "muted" }, shown), copy));
}
