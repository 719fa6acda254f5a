// ISO-8601 timer values in words for the properties panel's preview ("30 minutes" / "30 分钟").
const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const CYCLE = /^R(\d*)\/(.+)$/;
const UNITS = ["years", "months", "weeks", "days", "hours", "minutes", "seconds"];

export function isoKind(text) {
  const value = String(text || "").trim();
  if (DURATION.test(value) && value !== "P" && !value.endsWith("T")) { return "duration"; }
  if (DATE.test(value)) { return "date"; }
  const cycle = CYCLE.exec(value);
  if (cycle && cycle[2].split("/").every((part) => isoKind(part))) { return "cycle"; }
  return "";
}

function durationWords(value, t) {
  const match = DURATION.exec(value);
  const parts = [];
  UNITS.forEach((unit, index) => {
    const n = match[index + 1];
    if (n && Number(n) !== 0) { parts.push(t["unit_" + unit].replace("{n}", String(Number(n)))); }
  });
  return parts.length ? parts.join(t.unit_separator) : t["unit_seconds"].replace("{n}", "0");
}

export function durationText(text, lang, t) {
  const value = String(text || "").trim();
  const kind = isoKind(value);
  if (kind === "duration") { return durationWords(value, t); }
  if (kind === "date") {
    const at = new Date(value);
    return isNaN(at.getTime()) ? value : at.toLocaleString(lang || undefined);
  }
  if (kind === "cycle") {
    const cycle = CYCLE.exec(value);
    const parts = cycle[2].split("/");
    const every = parts.map((p) => (isoKind(p) === "duration" ? durationWords(p, t) : p)).join(" / ");
    return (cycle[1] ? t.cycle_times.replace("{n}", cycle[1]) : t.cycle_forever) + " " + every;
  }
  return "";
}
