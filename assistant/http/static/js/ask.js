// The Ask page: questions in, answers (see answer.js) out; follow-ups keep the conversation id.
//
// Nothing here blocks: each question gets its own answer region and its own request, so a second
// question can be asked while the first is still answering, and a question the server queues
// (202 with a task) is polled in the background with its progress shown in its region.

import { api, el } from "./api.js";
import { metaLine, renderAnswer, renderFailure } from "./answer.js";

const form = document.getElementById("ask-form");
const input = document.getElementById("question");
const datasetPicker = document.getElementById("dataset");
const asOf = document.getElementById("as-of");
const background = document.getElementById("background");
const conversation = document.getElementById("conversation");
const examples = document.getElementById("examples");
const BUSY_RETRIES = 3;
const POLL_LIMIT_MS = 15 * 60 * 1000;

let conversationId = null;
let summaries = {};
let freshness = {};

const ctx = {
  metricFormats: (name) => Object.fromEntries((summaries[name]?.metrics || []).map((m) => [m.name, m.format])),
  freshness: (name) => freshness[name],
  ask: (question) => ask(question),
};

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const question = input.value.trim();
  if (!question) {
    input.focus();
    return;
  }
  input.value = "";
  ask(question);
});

document.getElementById("new-conversation").addEventListener("click", () => startOver("New conversation"));
datasetPicker.addEventListener("change", () => {
  startOver(`New conversation about ${datasetPicker.value}`);
  showExamples();
});

function startOver(label) {
  conversationId = null;
  if (conversation.lastElementChild && !conversation.lastElementChild.matches("[role=separator]")) {
    conversation.append(el("p", { class: "hint", role: "separator" }, label));
  }
  input.focus();
}

async function ask(question) {
  const region = el("section", { class: "answer", role: "region", "aria-label": "Answer", "aria-busy": "true" },
    progress("Answering…"));
  const turn = el("article", { class: "turn" }, el("p", { class: "you" }, question), region);
  conversation.append(turn);
  examples.hidden = true;
  turn.scrollIntoView({ block: "nearest" });
  const body = { question, dataset: datasetPicker.value || undefined };
  if (asOf.value) body.as_of = asOf.value;
  if (conversationId) body.conversation_id = conversationId;
  if (background.checked) body.async = true;
  try {
    const { status, data } = await askWhenFree(body, region);
    const answer = status === 202 ? await waitForTask(data, region) : data;
    if (answer) show(region, answer);
  } catch (error) {
    renderFailure(region, error.message);
  }
}

// A full queue of new questions is a 503 with Retry-After: wait that long and try again, a few times.
async function askWhenFree(body, region) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api("/v1/ask", { method: "POST", body });
    } catch (error) {
      if (error.status !== 503 || !error.retryAfter || attempt >= BUSY_RETRIES) throw error;
      region.replaceChildren(progress(`The service is busy; asking again in ${error.retryAfter} s…`));
      await sleep(error.retryAfter * 1000);
    }
  }
}

async function waitForTask(accepted, region) {
  const started = Date.now();
  let delay = 400;
  while (Date.now() - started < POLL_LIMIT_MS) {
    let task = null;
    try {
      task = (await api(accepted.status_url)).data;
    } catch (error) {
      if (error.status !== 503) throw error;   // Redis down for a moment: keep trying
    }
    const waited = Math.round((Date.now() - started) / 1000);
    if (task?.status === "done") return task.result;
    if (task?.status === "failed") {
      renderFailure(region, `The question failed: ${task.error}`);
      return null;
    }
    const what = task?.status === "running" ? "Running" : task ? "Queued, waiting for a worker" : "Task status unavailable, retrying";
    region.replaceChildren(progress(`${what} (${waited} s; task ${accepted.task_id.slice(0, 8)})`));
    await sleep(delay);
    delay = Math.min(delay * 1.5, 2000);
  }
  renderFailure(region, `Still not answered after ${POLL_LIMIT_MS / 60000} minutes; task ${accepted.task_id}.`);
  return null;
}

function show(region, answer) {
  if (answer.conversation_id) conversationId = answer.conversation_id;
  renderAnswer(region, answer, ctx);
  if (freshness[answer.dataset]?.data_version !== answer.data_version) {
    loadFreshness().then(() => {   // new data since the page loaded: say how fresh it is
      const meta = region.querySelector(".meta");
      if (meta) meta.textContent = metaLine(answer, freshness[answer.dataset]);
    });
  }
}

function progress(text) {
  return el("p", { class: "progress", role: "status" }, el("progress", { "aria-label": "Progress" }), text);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function loadDatasets() {
  try {
    const { data } = await api("/v1/datasets");
    summaries = Object.fromEntries(data.datasets.map((d) => [d.name, d]));
    datasetPicker.replaceChildren(...data.datasets.map((d) =>
      el("option", { value: d.name, selected: d.default, title: d.description }, d.name)));
    showExamples();
  } catch (error) {
    conversation.append(el("p", { class: "error", role: "alert" }, `Could not list the datasets: ${error.message}`));
  }
}

function showExamples() {
  const summary = summaries[datasetPicker.value];
  examples.replaceChildren(...(summary?.examples || []).slice(0, 4).map((q) =>
    el("button", { type: "button", onclick: () => ask(q) }, q)));
  examples.hidden = conversation.querySelector(".turn") !== null;
}

async function loadFreshness() {
  try {
    const { data } = await api("/v1/health/data?last=1");
    freshness = Object.fromEntries(data.datasets.map((d) => [d.name, d]));
  } catch {
    // The meta line then shows the data version without its age.
  }
}

loadDatasets();
loadFreshness();
input.focus();
