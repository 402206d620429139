// Figures for clinical safety officers and rota managers (docs/operations.md): how long the
// bleeps of the last 30 days took to be acknowledged, by role; when they came, hour by hour
// of the week; and how many escalated, day by day. Each chart has its table beside it, the
// same numbers in rows a screen reader reads.
//
// The charts are drawn here as plain SVG rectangles rather than with a charting library:
// the app loads only its own files (no bundler, a policy allowing no inline script), and
// three charts of bars and cells are fewer lines than a library's setup, with nothing of
// it on a phone that never opens this screen.

import { wholeList } from "../api.js";
import { h, replace } from "../ui.js";

const SVG = "http://www.w3.org/2000/svg";
const DAYS = 30;
const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

export function renderFigures(view) {
  const status = h("p", { class: "small", id: "figures-status", role: "status" }, "Loading the last 30 days…");
  const body = h("div", { id: "figures" });
  replace(
    view,
    h("section", { class: "panel", "aria-labelledby": "figures-title" },
      h("h1", { id: "figures-title" }, "Figures"),
      h("p", { class: "lead" }, `The bleeps of the last ${DAYS} days that you may see.`),
      status,
      body,
    ),
  );
  load(status, body);
  return () => {};
}

async function load(status, body) {
  const to = new Date();
  const from = new Date(to.getTime() - DAYS * 24 * 3600 * 1000);
  const period = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
  const ask = (by) => wholeList(`/analytics/response-times?${period}&by=${by}`);
  try {
    const [roles, weekHours, days] = await Promise.all([ask("role"), ask("weekhour"), ask("day")]);
    const total = roles.reduce((sum, group) => sum + group.bleeps, 0);
    status.textContent = total ? `${total} bleeps.` : "No bleeps in the last 30 days.";
    replace(body, byRole(roles), byWeekHour(weekHours), escalations(days));
  } catch (error) {
    status.textContent = `Could not load the figures: ${error.message}`;
  }
}

function minutes(seconds) {
  return seconds === null || seconds === undefined ? "—" : `${(seconds / 60).toFixed(1)} min`;
}

function figure(id, title, chart, table) {
  return h("figure", { class: "chart", id },
    h("h2", {}, title),
    chart,
    h("details", {}, h("summary", {}, "The numbers"), table),
  );
}

function table(caption, head, rows) {
  return h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, head.map((cell) => h("th", { scope: "col" }, cell)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell, i) => (i === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell)))))),
  );
}

// Time to acknowledge by role: a bar to the median, a mark at the 90th centile. The names
// are the page's own text (they grow with the phone's text size); only the bars are SVG.
function byRole(groups) {
  const answered = groups.filter((g) => g.acknowledged.count);
  const longest = Math.max(1, ...answered.map((g) => g.acknowledged.p90));
  const chart = h("div", {
    class: "barrows",
    role: "img",
    "aria-label": "Median and 90th centile minutes to acknowledge, by role; the numbers are in the table below",
  }, answered.map((group) => {
    const bar = svg("svg", { viewBox: "0 0 200 20", preserveAspectRatio: "none" },
      svg("rect", { x: 0, y: 4, width: Math.max(1, (group.acknowledged.median / longest) * 196), height: 12, class: "bar" }),
      svg("line", { x1: (group.acknowledged.p90 / longest) * 196, x2: (group.acknowledged.p90 / longest) * 196, y1: 0, y2: 20, class: "mark" }),
    );
    return h("div", { class: "barrow" }, h("span", { class: "label" }, group.name), bar);
  }));
  const rows = groups.map((g) => [g.name, String(g.bleeps), minutes(g.acknowledged.median), minutes(g.acknowledged.p90), String(g.escalated)]);
  return figure("figure-roles", "Time to acknowledge, by role", chart,
    table("Minutes from sending to acknowledgement, by role", ["Role", "Bleeps", "Median", "90th centile", "Escalated"], rows));
}

// When the bleeps came: a cell for each hour of the week, darker the more there were.
function byWeekHour(groups) {
  const counts = new Map(groups.map((g) => [Number(g.key), g.bleeps]));
  const most = Math.max(1, ...counts.values());
  const chart = h("div", {
    class: "barrows",
    role: "img",
    "aria-label": "Bleeps in each hour of the week; the numbers are in the table below",
  }, DAY_NAMES.map((day, d) => {
    const cells = svg("svg", { viewBox: "0 0 240 10", preserveAspectRatio: "none" });
    for (let hour = 0; hour < 24; hour += 1) {
      const count = counts.get(d * 24 + hour) || 0;
      cells.append(svg("rect", {
        x: hour * 10, y: 0, width: 9, height: 10,
        class: "cell", "fill-opacity": String(count ? 0.15 + 0.85 * (count / most) : 0.04),
      }));
    }
    return h("div", { class: "barrow" }, h("span", { class: "label" }, day), cells);
  }));
  const rows = DAY_NAMES.map((day, d) => [day, ...Array.from({ length: 24 }, (_, hour) => String(counts.get(d * 24 + hour) || 0))]);
  return figure("figure-load", "When bleeps come, by hour of the week", chart,
    table("Bleeps in each hour of the week, on the site's clock", ["Day", ...Array.from({ length: 24 }, (_, hour) => `${String(hour).padStart(2, "0")}`)], rows));
}

// Escalations, day by day: a bar for the bleeps sent, its escalated part darker.
function escalations(groups) {
  const most = Math.max(1, ...groups.map((g) => g.bleeps));
  const width = 10;
  const chart = svg("svg", {
    viewBox: `0 0 ${Math.max(1, groups.length) * width} 100`,
    role: "img",
    "aria-label": "Bleeps and escalations each day; the numbers are in the table below",
    class: "bars",
  });
  groups.forEach((g, i) => {
    const all = (g.bleeps / most) * 96;
    const escalated = (g.escalated / most) * 96;
    chart.append(
      svg("rect", { x: i * width, y: 100 - all, width: width - 2, height: all, class: "bar soft" }),
      svg("rect", { x: i * width, y: 100 - escalated, width: width - 2, height: escalated, class: "bar" }),
    );
  });
  const rows = groups.map((g) => [g.name, String(g.bleeps), String(g.escalated), String(g.reached_switchboard)]);
  return figure("figure-escalations", "Escalations, day by day", chart,
    table("Bleeps, escalations and bleeps that reached switchboard, each day", ["Day", "Bleeps", "Escalated", "Reached switchboard"], rows));
}
