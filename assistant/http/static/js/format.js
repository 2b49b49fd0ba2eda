// How values read on the pages: numbers as the answers' sentences write them, ages, times.

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

export function ago(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

// An ISO-8601 UTC time as "2024-07-01 12:00:00 UTC".
export function when(iso) {
  return iso ? `${iso.slice(0, 19).replace("T", " ")} UTC` : "";
}
