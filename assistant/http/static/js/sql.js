// The SQL page: one read-only query through POST /v1/sql; the table, or the guard's reason, inline.

import { api, el } from "./api.js";
import { formatValue } from "./format.js";
import { resultTable } from "./table.js";

const form = document.getElementById("sql-form");
const editor = document.getElementById("sql");
const picker = document.getElementById("dataset");
const result = document.getElementById("result");

async function run() {
  const sql = editor.value.trim();
  if (!sql) {
    result.replaceChildren(el("p", { class: "error", role: "alert" }, "Type a query first, e.g. SELECT * FROM superstore_yearly."));
    return;
  }
  result.replaceChildren(el("p", { class: "progress", role: "status" }, "Running…"));
  try {
    const { data } = await api("/v1/sql", { method: "POST", body: { sql, dataset: picker.value || undefined } });
    result.replaceChildren(
      resultTable(data.columns, data.rows, { caption: "query result" }),
      el("p", { class: "meta" }, `${formatValue(data.row_count, "integer")} rows · ${Math.round(data.elapsed_ms)} ms · ` +
        `${formatValue(data.bytes_read || 0, "integer")} bytes read`),
      el("details", { class: "sql" }, el("summary", {}, "What ran"), el("pre", {}, el("code", {}, data.sql))));
  } catch (error) {
    result.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  run();
});
editor.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    run();
  }
});

api("/v1/datasets").then(({ data }) => {
  picker.replaceChildren(...data.datasets.map((d) => el("option", { value: d.name, selected: d.name === "superstore" || undefined }, d.name)));
}).catch((error) => result.replaceChildren(el("p", { class: "error", role: "alert" }, error.message)));
