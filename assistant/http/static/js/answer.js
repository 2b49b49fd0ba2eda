// One answer of the conversation: sentence, table, chart, SQL, how the question was read, numbers
// about the answer, and feedback. ``ctx`` gives what the page knows: metric formats, dataset
// freshness, and the ask/feedback actions.

import { api, el } from "./api.js";
import { ago, formatValue, when } from "./format.js";
import { copyText, resultTable } from "./table.js";

export function renderAnswer(region, answer, ctx) {
  region.dataset.status = answer.status;
  region.removeAttribute("aria-busy");
  const parts = [el("p", { class: "sentence" }, answer.answer || answer.error || "(no answer)")];
  if (answer.status !== "answered" && answer.suggestions?.length) {
    parts.push(el("div", { class: "suggestions", role: "group", "aria-label": "Suggestions" },
      answer.suggestions.map((s) => el("button", { type: "button", onclick: () => ctx.ask(s) }, s))));
  }
  if (answer.chart) parts.push(el("figure", { class: "chart", "aria-label": "Chart" }, el("div", { class: "chart-body" })));
  if (answer.columns?.length && answer.rows?.length) {
    parts.push(resultTable(answer.columns, answer.rows, {
      metricFormats: ctx.metricFormats(answer.dataset), caption: answer.question,
    }));
  }
  if (answer.sql) parts.push(sqlDetails(answer.sql, answer.params));
  const chips = interpretationChips(answer.interpretation);
  if (chips.length) parts.push(el("ul", { class: "chips", "aria-label": "Interpretation" }, chips));
  parts.push(el("p", { class: "meta" }, metaLine(answer, ctx.freshness(answer.dataset))));
  if (answer.answer_id) parts.push(feedbackButtons(answer.answer_id));
  region.replaceChildren(...parts);
  const figure = region.querySelector("figure.chart");
  if (figure) drawChart(figure, answer.chart);
}

export function renderFailure(region, message) {
  region.dataset.status = "error";
  region.removeAttribute("aria-busy");
  region.replaceChildren(el("p", { class: "sentence error", role: "alert" }, message));
}

async function drawChart(figure, spec) {
  const body = figure.querySelector(".chart-body");
  if (typeof window.vegaEmbed !== "function") {
    body.textContent = "The chart library did not load.";
    return;
  }
  const chart = structuredClone(spec);
  const arc = chart.mark === "arc" || chart.mark?.type === "arc";
  if (!arc && chart.width === undefined) chart.width = "container";   // as wide as the answer
  chart.background = "transparent";
  // One x tick per ~90 px rather than Vega's one per 40 px: a wide chart stays readable.
  chart.config = { ...chart.config, axisX: { tickCount: { expr: "ceil(width / 90)" }, ...chart.config?.axisX } };
  const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  try {
    // Compiled here, not by vega-embed, to quieten Vega-Lite's logger: it warns "Dropping fit-y"
    // for every horizontal bar chart sized to its container.
    const { spec: vegaSpec } = window.vegaLite.compile(chart, { logger: window.vega.logger(window.vega.Error) });
    await window.vegaEmbed(body, vegaSpec, {
      mode: "vega", renderer: "svg", ast: true, theme: dark ? "dark" : undefined, downloadFileName: "chart",
      actions: { export: true, source: false, compiled: false, editor: false },
    });
    figure.dataset.drawn = "true";
  } catch (error) {
    body.textContent = `The chart could not be drawn: ${error.message}`;
  }
}

function sqlDetails(sql, params) {
  const text = params?.length ? `${sql}\n-- parameters: ${JSON.stringify(params)}` : sql;
  return el("details", { class: "sql", "aria-label": "SQL" },
    el("summary", {}, "SQL"),
    el("pre", {}, el("code", {}, text)),
    el("button", { type: "button", onclick: (e) => copyText(sql, e.currentTarget) }, "Copy SQL"));
}

function period(window) {
  const dates = window.start === window.end ? window.start : `${window.start} to ${window.end}`;
  const label = window.label && !dates.includes(window.label) ? ` (${window.label})` : "";
  return `${dates}${label}${window.column && window.column !== "order_date" ? ` by ${window.column.replace("_", " ")}` : ""}`;
}

export function interpretationChips(reading) {
  if (!reading) return [];
  const chips = [];
  const add = (text) => chips.push(el("li", {}, text));
  for (const m of reading.metrics || []) add(`metric: ${m}`);
  if (reading.operation && !["breakdown", "total"].includes(reading.operation)) add(reading.operation.replace("_", " "));
  if (reading.top_n) add(`${reading.order === "asc" ? "bottom" : "top"} ${reading.top_n}`);
  for (const d of reading.dimensions || []) add(`by ${d}`);
  if (reading.grain) add(`per ${reading.grain.replace("_", " ")}`);
  for (const f of reading.filters || []) add(`${f.dimension} ${f.negate ? "not " : ""}${f.values.join(" or ")}`);
  for (const c of reading.conditions || []) add(`${c.metric} ${c.op} ${c.value}${c.level !== "group" ? ` per ${c.level}` : ""}`);
  if (reading.time) add(`dates: ${period(reading.time)}`);
  if (reading.compare_time) add(`compared with: ${period(reading.compare_time)}`);
  const follow = reading.follow_up;
  if (follow) {
    add(`follow-up of "${follow.of}"`);
    if (follow.changed?.length) add(`changed: ${follow.changed.join(", ")}`);
    if (follow.carried_over?.length) add(`carried over: ${follow.carried_over.join(", ")}`);
  }
  for (const [typed, readAs] of Object.entries(reading.corrected || {})) add(`read "${typed}" as "${readAs}"`);
  if (reading.ignored?.length) add(`ignored: ${reading.ignored.map((w) => `"${w}"`).join(", ")}`);
  for (const note of reading.assumed || []) add(`assumed: ${note}`);
  return chips;
}

export function metaLine(answer, fresh) {
  const parts = [
    `tier ${answer.tier || "none"}`,
    `${Math.round(answer.latency_ms || 0)} ms`,
    `${formatValue(answer.bytes_read || 0, "integer")} bytes read`,
    `cost $${(answer.cost_usd || 0).toFixed(4)}`,
    `data version ${answer.data_version ?? "n/a"}`,
  ];
  if (fresh?.updated_at && fresh.data_version === answer.data_version) {
    const age = (Date.now() - Date.parse(fresh.updated_at)) / 1000;
    parts.push(`data updated ${ago(Math.max(0, age))} (${when(fresh.updated_at)})`);
  }
  return parts.join(" · ");
}

function feedbackButtons(answerId) {
  const status = el("span", { class: "muted", role: "status" });
  const reason = el("input", { type: "text", maxlength: "2000", "aria-label": "Reason (optional)",
                               placeholder: "What was wrong? (optional)", hidden: true });
  const send = el("button", { type: "button", hidden: true, onclick: () => submit(false, reason.value.trim() || null) }, "Send");
  const helpful = el("button", { type: "button", onclick: () => submit(true, null) }, "Helpful");
  const unhelpful = el("button", { type: "button", onclick: () => {
    reason.hidden = false;
    send.hidden = false;
    reason.focus();
  } }, "Not helpful");

  async function submit(isHelpful, comment) {
    for (const b of [helpful, unhelpful, send]) b.disabled = true;
    try {
      await api("/v1/feedback", { method: "POST", body: { answer_id: answerId, helpful: isHelpful, comment } });
      (isHelpful ? helpful : unhelpful).setAttribute("aria-pressed", "true");
      reason.hidden = true;
      send.hidden = true;
      status.textContent = "Feedback recorded";
      status.className = "ok";
    } catch (error) {
      for (const b of [helpful, unhelpful, send]) b.disabled = false;
      status.textContent = `Feedback not recorded: ${error.message}`;
      status.className = "error";
    }
  }

  return el("div", { class: "feedback", role: "group", "aria-label": "Feedback" }, helpful, unhelpful, reason, send, status);
}
