// Small helpers shared by the dashboard.

export function debounce(fn, waitMs) {
  let handle = null;
  return (...args) => {
    clearTimeout(handle);
    handle = setTimeout(() => fn(...args), waitMs);
  };
}

export function formatNumber(value) {
  if (!Number.isFinite(value)) return "n/a";
  const abs = Math.abs(value);
  if (abs >= 1e9) return (value / 1e9).toFixed(1) + "G";
  if (abs >= 1e6) return (value / 1e6).toFixed(1) + "M";
  if (abs >= 1e3) return (value / 1e3).toFixed(1) + "k";
  return value.toFixed(abs < 10 ? 2 : 0);
}

export function clamp(value, lo, hi) {
  return Math.min(hi, Math.max(lo, value));
}
