// The console's shell while services log onto the same serial line: the
// test image's services (services/spin, urgent, ping, ...) log several lines
// a second. The kernel writes each log line whole, under its lock, but the
// console writes a byte per system call, so a log line can land anywhere in
// what the shell prints: inside a table row, inside the echoed command,
// inside the prompt itself ("cam[spin] progress 3\r\nos> "), where
// QemuHarness.command() would wait for a whole prompt that never comes.
//
//   const out = await shellCommand(vm, "sched");  // the output, log lines cut out
//
// Used by tests/integration/sched.test.ts and tools/figures.ts.

import type { QemuHarness } from "./harness.ts";

// One whole line a service logged: "[spin] progress 17\r\n" (the \r is
// taken by [^\n]*).
const LOG_LINE_SOURCE = String.raw`\[[a-z][a-z0-9_-]*\] [^\n]*\n`;
const LOG_LINES = new RegExp(LOG_LINE_SOURCE, "g");

export function withoutLogLines(text: string): string {
  return text.replaceAll("\r", "").replace(LOG_LINES, "");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// `text` as it reaches the serial line, whole log lines allowed between any
// two of its characters.
function interleaved(text: string): string {
  return [...text].map(escapeRegExp).join(`(?:${LOG_LINE_SOURCE})*`);
}

// Types `line`, waits for its echo (the typed \r comes back before the
// shell's \r\n, and a log line may come between) and then the next
// prompt, and returns what the command printed without log lines, \r, the
// echo or the prompt. Waiting for the echo first skips any prompt still on
// its way from before.
export async function shellCommand(vm: QemuHarness, line: string, timeoutMs: number = vm.timeoutMs): Promise<string> {
  vm.send(`${line}\r`);
  await vm.expect(new RegExp(`${interleaved(line)}(?:\\r|${LOG_LINE_SOURCE})*\\n`), timeoutMs);
  const match = await vm.expect(new RegExp(interleaved(vm.prompt)), timeoutMs);
  return withoutLogLines(match.before).replace(/\n$/, "");
}
