/* Grafana's value formats (a subset: the units modeldash dashboards and common panels use).
 * mdFormat(value, unit, decimals) -> text, like Grafana's getValueFormat(unit)(value, decimals). */
(function () {
  "use strict";
  function autoDecimals(v) {
    if (v === 0 || !isFinite(v)) return 0;
    const a = Math.abs(v);
    if (Number.isInteger(v) && a >= 1) return 0;
    return Math.max(0, Math.min(6, 2 - Math.floor(Math.log10(a))));
  }
  function fixed(v, dec) {
    const d = dec == null ? autoDecimals(v) : dec;
    let s = v.toFixed(d);
    if (dec == null && s.indexOf(".") >= 0) s = s.replace(/\.?0+$/, "");
    return s === "-0" ? "0" : s;
  }
  function scaled(v, dec, factor, suffixes, sep) {
    let i = 0, x = v;
    while (Math.abs(x) >= factor && i < suffixes.length - 1) { x /= factor; i++; }
    return fixed(x, dec) + (suffixes[i] ? sep + suffixes[i] : "");
  }
  const SHORT = ["", "K", "Mil", "Bil", "Tri", "Quadr", "Quint", "Sext", "Sept"];
  const SI = ["", "k", "M", "G", "T", "P", "E"];
  function si(unit) { return (v, dec) => scaled(v, dec, 1000, SI.map(p => p + unit), " ").replace(/ $/, ""); }
  function count(unit) { return (v, dec) => scaled(v, dec, 1000, SHORT, " ") + " " + unit; }
  function time(v, dec, baseSeconds) {
    const s = v * baseSeconds, a = Math.abs(s);
    if (a === 0) return "0 s";
    if (a < 1e-6) return fixed(s * 1e9, dec) + " ns";
    if (a < 1e-3) return fixed(s * 1e6, dec) + " µs";
    if (a < 1) return fixed(s * 1e3, dec) + " ms";
    if (a < 60) return fixed(s, dec) + " s";
    if (a < 3600) return fixed(s / 60, dec) + " min";
    if (a < 86400) return fixed(s / 3600, dec) + " hour";
    if (a < 604800) return fixed(s / 86400, dec) + " day";
    return fixed(s / 604800, dec) + " week";
  }
  const FORMATS = {
    none: (v, dec) => fixed(v, dec),
    short: (v, dec) => scaled(v, dec, 1000, SHORT, " "),
    percent: (v, dec) => fixed(v, dec) + "%",
    percentunit: (v, dec) => fixed(v * 100, dec) + "%",
    s: (v, dec) => time(v, dec, 1),
    ms: (v, dec) => time(v, dec, 1e-3),
    "µs": (v, dec) => time(v, dec, 1e-6),
    ns: (v, dec) => time(v, dec, 1e-9),
    dtdurations: (v, dec) => time(v, dec, 1),
    bytes: (v, dec) => scaled(v, dec, 1024, ["B", "KiB", "MiB", "GiB", "TiB", "PiB"], " "),
    decbytes: (v, dec) => scaled(v, dec, 1000, ["B", "kB", "MB", "GB", "TB", "PB"], " "),
    Bps: si("B/s"), bps: si("b/s"), binBps: (v, dec) => scaled(v, dec, 1024, ["B/s", "KiB/s", "MiB/s", "GiB/s"], " "),
    reqps: count("req/s"), rps: count("req/s"), ops: count("ops/s"), cps: count("c/s"), wps: count("wr/s"),
    hertz: si("Hz"), watt: si("W"), volt: si("V"),
    bool: (v) => (v ? "True" : "False"),
  };
  window.mdFormat = function (value, unit, decimals) {
    if (value == null || !isFinite(value)) return "";
    const dec = decimals == null ? null : Number(decimals);
    const u = unit || "short";
    const f = FORMATS[u];
    if (f) return f(value, dec);
    if (u.indexOf("suffix:") === 0) return fixed(value, dec) + u.slice(7);
    if (u.indexOf("prefix:") === 0) return u.slice(7) + fixed(value, dec);
    return fixed(value, dec) + " " + u;  // custom unit: Grafana shows it as a suffix
  };
})();
