// The Data health page: GET /v1/health/data, drawn as one section per dataset and one for streams.

import { api, el, openWithKey, storedKey } from "./api.js";
import { ago, formatValue, when } from "./format.js";
import { resultTable } from "./table.js";

const BATCH_COLUMNS = ["batch", "ingested at", "files", "input", "written", "quarantined", "duplicates", "warnings",
                       "accounted", "validation"];
const COUNTS = { input: "integer", written: "integer", quarantined: "integer", duplicates: "integer", warnings: "integer" };

function docsLink(href, text) {
  // With an API key the page is fetched with it; a plain link cannot send the header.
  return el("a", { href, target: "_blank", rel: "noopener", onclick: (event) => {
    if (!storedKey()) return;
    event.preventDefault();
    openWithKey(href).catch((error) => alert(error.message));
  } }, text);
}

// The row accounting of a batch in one line: every input row is written, quarantined or a duplicate.
function accounting(b) {
  const n = (value) => formatValue(value, "integer");
  const verdict = b.accounted ? "every row accounted for" : "ROWS UNACCOUNTED FOR";
  return `Last batch ${b.batch_id} (${when(b.at)}): ${n(b.input_rows)} input = ${n(b.written_rows)} written + ` +
    `${n(b.quarantined_rows)} quarantined + ${n(b.duplicate_rows)} duplicates; ${verdict}.`;
}

function datasetSection(d) {
  const fresh = d.updated_at
    ? `Data version ${d.data_version}, updated ${ago(d.age_s)} (${when(d.updated_at)}).`
    : "No data loaded yet.";
  const parts = [el("h2", { id: `ds-${d.name}` }, d.name), el("p", {}, fresh), el("h3", {}, "Last batches")];
  if (d.batches.length) {
    parts.push(el("p", { class: "accounting" }, accounting(d.batches[0])));
    const rows = d.batches.map((b) => [b.batch_id, when(b.at), b.files.join(", "), b.input_rows, b.written_rows,
      b.quarantined_rows, b.duplicate_rows, b.warning_rows, b.accounted ? "yes" : "NO",
      b.dq_passed === null ? "" : b.dq_passed ? "passed" : "failed"]);
    parts.push(resultTable(BATCH_COLUMNS, rows, { metricFormats: COUNTS, caption: `${d.name}: last batches` }));
    const pages = d.batches.filter((b) => b.data_docs_url);
    if (pages.length) {
      parts.push(el("p", { class: "tools" }, "Data Docs:", pages.map((b) => docsLink(b.data_docs_url, b.batch_id))));
    }
  } else {
    parts.push(el("p", { class: "muted" }, "No file batch ingested on this server yet."));
  }
  parts.push(el("h3", {}, "Quarantine by reason code"));
  const codes = Object.entries(d.quarantine.by_code);
  parts.push(codes.length
    ? resultTable(["reason code", "rows"], codes, { metricFormats: { rows: "integer" }, caption: `${d.name}: quarantine` })
    : el("p", { class: "muted" }, "No quarantined rows."));
  parts.push(el("p", { class: "muted" }, `${formatValue(d.quarantine.total_rows, "integer")} quarantined rows in all.`));
  return el("section", { class: "card", "aria-labelledby": `ds-${d.name}` }, parts);
}

function streamsPart(streams) {
  if (!streams.length) return el("p", { class: "muted" }, "No stream consumer has run here (no consumer metrics).");
  const rows = streams.map((s) => [s.name, when(s.last_batch_at), ago(s.last_batch_age_s), s.lag_p95_s, s.events,
    s.written, s.dlq]);
  return resultTable(["consumer", "last micro-batch", "age", "lag p95 (s)", "events", "written", "dead letters"], rows,
    { metricFormats: { events: "integer", written: "integer", "dead letters": "integer" }, caption: "stream consumers" });
}

async function load() {
  const status = document.getElementById("checked");
  status.textContent = "Loading…";
  try {
    const { data } = await api("/v1/health/data");
    document.getElementById("datasets").replaceChildren(el("div", { class: "cards" }, data.datasets.map(datasetSection)));
    document.getElementById("streams").replaceChildren(streamsPart(data.streams));
    document.getElementById("docs").replaceChildren(data.data_docs_url
      ? docsLink(data.data_docs_url, "Great Expectations Data Docs") : "No Data Docs yet (no validated batch).");
    status.textContent = `Checked ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    status.textContent = "";
    document.getElementById("datasets").replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
  }
}

document.getElementById("refresh").addEventListener("click", load);
load();
