// The smartmod web page: sends the comment to POST /v1/explain and shows what comes back:
// each category's score as a labelled <meter>, the flagged state, and the comment's words
// highlighted by their importance, with the passages judged harmful underlined.
//
// Every string from the user or the server is inserted as text (textContent, createTextNode)
// and never parsed as HTML, so a comment cannot inject markup or run script. The server's
// Content-Security-Policy forbids inline script as a second line of defence.
"use strict";

const TOP_WORDS = 5;
// Background of a word of the largest importance; smaller importances are paler.
const PUSHES_UP_COLOUR = [214, 40, 40];
const PUSHES_DOWN_COLOUR = [37, 99, 235];

const page = {thresholds: {}, categories: [], latestRequest: 0};

function byId(id) {
  return document.getElementById(id);
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function percent(probability) {
  return `${(100 * probability).toFixed(1)}%`;
}

function showError(message) {
  const box = byId("error");
  box.textContent = message;
  box.hidden = false;
}

function clearError() {
  const box = byId("error");
  box.textContent = "";
  box.hidden = true;
}

// The JSON body of a reply, or an Error carrying the API's own error message.
async function readReply(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (notJson) {
    body = null;
  }
  if (!response.ok) {
    const reason = body && body.error && body.error.message ? body.error.message : `HTTP ${response.status}`;
    throw new Error(`The server refused the request: ${reason}`);
  }
  return body;
}

async function request(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (networkError) {
    throw new Error("The server could not be reached; check that 'smartmod serve' is running, then try again.");
  }
  return readReply(response);
}

async function loadModel() {
  try {
    const model = (await request("/v1/models", {method: "GET"})).models[0];
    page.thresholds = model.thresholds;
    page.categories = model.categories;
    byId("model").textContent = `Model: ${model.name}, version ${model.version}`;
  } catch (error) {
    byId("model").textContent = "Model: unknown";
    showError(error.message);
  }
}

function renderVerdict(explanation) {
  const verdict = byId("verdict");
  verdict.className = explanation.flagged ? "verdict flagged" : "verdict";
  verdict.textContent = explanation.flagged
    ? `Flagged for ${explanation.categories.join(", ")}.`
    : "Not flagged: no category reaches its threshold.";
  return verdict.textContent;
}

// One list item per category: its name as the <label> of a <meter>, then the score as text.
function renderScores(explanation) {
  const known = page.categories.filter((category) => category in explanation.scores);
  const categories = known.length ? known : Object.keys(explanation.scores);
  const items = categories.map((category) => {
    const score = explanation.scores[category];
    const flagged = explanation.categories.includes(category);
    const item = element("li", undefined, flagged ? "score flagged" : "score");
    const label = element("label", category, "category");
    const meter = element("meter", percent(score));
    meter.id = `score-${category}`;
    label.htmlFor = meter.id;
    meter.min = 0;
    meter.max = 1;
    meter.optimum = 0;
    meter.value = score;
    const threshold = page.thresholds[category];
    let detail = percent(score);
    if (threshold !== undefined) {
      meter.low = threshold;
      meter.high = threshold;
      detail += ` (threshold ${percent(threshold)})`;
    }
    if (flagged) detail += " flagged";
    item.append(label, meter, element("span", detail, "score-value"));
    return item;
  });
  byId("scores").replaceChildren(...items);
}

// The cut points of the text: every token's and span's start and end, in increasing order.
function boundaries(length, tokens, spans) {
  const cuts = new Set([0, length]);
  for (const piece of [...tokens, ...spans]) {
    cuts.add(Math.max(0, Math.min(length, piece.start)));
    cuts.add(Math.max(0, Math.min(length, piece.end)));
  }
  return [...cuts].sort((a, b) => a - b);
}

function tokenNode(token, text, largest) {
  const node = element("span", text, "token");
  const strength = largest > 0 ? Math.abs(token.importance) / largest : 0;
  const [red, green, blue] = token.importance >= 0 ? PUSHES_UP_COLOUR : PUSHES_DOWN_COLOUR;
  node.style.backgroundColor = `rgba(${red}, ${green}, ${blue}, ${(0.85 * strength).toFixed(3)})`;
  node.dataset.importance = String(token.importance);
  node.title = `importance ${token.importance.toFixed(4)}`;
  return node;
}

// The comment as text nodes and word <span>s, with runs inside a harmful span wrapped in <mark>.
// Offsets count Unicode code points (as Python does), so the text is cut as an array of them.
function renderHighlight(explanation) {
  const characters = Array.from(explanation.text);
  const tokens = [...explanation.tokens].sort((a, b) => a.start - b.start);
  const spans = explanation.spans;
  const largest = tokens.reduce((most, token) => Math.max(most, Math.abs(token.importance)), 0);
  const cuts = boundaries(characters.length, tokens, spans);
  const container = byId("highlighted");
  container.replaceChildren();
  let mark = null;
  let tokenIndex = 0;
  for (let cut = 0; cut + 1 < cuts.length; cut += 1) {
    const start = cuts[cut];
    const end = cuts[cut + 1];
    const text = characters.slice(start, end).join("");
    while (tokenIndex < tokens.length && tokens[tokenIndex].end <= start) tokenIndex += 1;
    const token = tokenIndex < tokens.length && tokens[tokenIndex].start <= start ? tokens[tokenIndex] : null;
    const node = token ? tokenNode(token, text, largest) : document.createTextNode(text);
    const harmful = spans.some((span) => span.start <= start && end <= span.end);
    if (!harmful) {
      mark = null;
      container.append(node);
      continue;
    }
    if (mark === null) {
      mark = element("mark", undefined, "harmful");
      container.append(mark);
    }
    mark.append(node);
  }
}

function renderTopWords(explanation) {
  const ranked = [...explanation.tokens].filter((token) => token.importance > 0)
    .sort((a, b) => b.importance - a.importance).slice(0, TOP_WORDS);
  const items = ranked.map((token) => element("li", `${token.text} (${token.importance.toFixed(4)})`));
  if (!items.length) items.push(element("li", "No word pushed the score up."));
  byId("top-words").replaceChildren(...items);
}

function render(explanation) {
  byId("explained-category").textContent = explanation.category;
  byId("explain-method").textContent = explanation.method;
  renderScores(explanation);
  renderHighlight(explanation);
  renderTopWords(explanation);
  byId("results").hidden = false;
  return renderVerdict(explanation);
}

async function check() {
  const text = byId("comment").value;
  const status = byId("status");
  if (!text.trim()) {
    showError("Type or paste a comment first.");
    return;
  }
  const requestNumber = ++page.latestRequest;
  clearError();
  status.textContent = "Checking the comment\u2026";
  byId("check-form").setAttribute("aria-busy", "true");
  try {
    const explanation = await request("/v1/explain", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({text}),
    });
    if (requestNumber !== page.latestRequest) return;
    status.textContent = render(explanation);
  } catch (error) {
    if (requestNumber !== page.latestRequest) return;
    byId("results").hidden = true;
    status.textContent = "";
    showError(error.message);
  } finally {
    if (requestNumber === page.latestRequest) byId("check-form").removeAttribute("aria-busy");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  byId("check-form").addEventListener("submit", (event) => {
    event.preventDefault();
    check();
  });
  byId("comment").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      byId("check-form").requestSubmit();
    }
  });
  loadModel();
});
