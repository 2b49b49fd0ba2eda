// A result table: numbers formatted like the answers' sentences (format.js), columns sortable, copy as CSV.

import { el } from "./api.js";
import { columnKinds, formatValue } from "./format.js";

const MAX_SHOWN = 500;
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
