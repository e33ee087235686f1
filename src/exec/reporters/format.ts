// Small formatting helpers shared by the human-facing reporters, so the terminal, the CI lines
// and the build log spell durations and step labels the same way.

/** `0.4 s`, `42.1 s`, `3 min 05 s`, `1 h 02 min`: precise for short steps, readable for long ones. */
export function formatDuration(ms: number): string {
  const safe = Number.isFinite(ms) && ms > 0 ? ms : 0;
  if (safe < 60_000) return `${(safe / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(safe / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
}

/** `[3/14]`: the position a step was announced with. */
export function stepCounter(index: number, total: number): string {
  return `[${index}/${total}]`;
}

// CSI/OSC escape sequences and the remaining C0 controls (except tab). Tool output carries
// colours and carriage-return progress bars; on a redrawn terminal line or in a log file they
// would corrupt the layout, so human reporters show the text only.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

export function stripControls(text: string): string {
  // A progress bar rewrites its line with \r: the text after the last \r is what a terminal shows.
  const lastCr = text.lastIndexOf("\r");
  const visible = lastCr >= 0 && lastCr < text.length - 1 ? text.slice(lastCr + 1) : text;
  return visible.replace(ESCAPES, "").replace(CONTROLS, "").replace(/\t/g, "  ");
}

/** Cut to `width` characters (code points), marking the cut with an ellipsis. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return "";
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width === 1) return "…";
  return chars.slice(0, width - 1).join("") + "…";
}
