// Text formatting for the console: columns, hex, sizes, seconds, decimal
// arguments. Pure; the services' library re-exports it (services/lib/format.ts).

// Left-pads `text` with spaces to `width` characters.
export function padLeft(text: string, width: i32): string {
  return text.length >= width ? text : " ".repeat(width - text.length) + text;
}

export function padRight(text: string, width: i32): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

// "0x" and 16 hex digits: addresses line up in tables.
export function hex64(value: u64): string {
  let digits = value.toString(16);
  return "0x" + "0".repeat(16 - digits.length) + digits;
}

// "0x3f8": the shortest hex.
export function hex(value: u64): string {
  return "0x" + value.toString(16);
}

// Whole MiB when at least 1 MiB, else KiB: "255 MiB", "640 KiB".
export function sizeText(bytes: u64): string {
  if (bytes >= 1 << 20) return (bytes >> 20).toString() + " MiB";
  return (bytes >> 10).toString() + " KiB";
}

// Nanoseconds as seconds with three decimals: "12.345".
export function secondsText(ns: u64): string {
  let ms = ns / 1_000_000;
  let fraction = (ms % 1000).toString();
  return (ms / 1000).toString() + "." + "0".repeat(3 - fraction.length) + fraction;
}

// A decimal argument ("42"), or -1 when it is not one.
export function parseDecimal(text: string): i64 {
  if (text.length == 0 || text.length > 18) return -1;
  let value: i64 = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    value = value * 10 + (c - 0x30);
  }
  return value;
}
