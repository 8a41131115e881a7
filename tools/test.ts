// Runs every test suite and sums them up: `make test` calls this.
//
//   node build/tools/test.mjs [unit] [integration]
//
// Each runner's own output streams through unchanged; at the end comes one
// line per runner and the total, `N passed, N failed`. The exit status is
// non-zero when any runner failed, even one whose summary could not be read.

import { spawn } from "node:child_process";

interface Runner {
  name: string;
  command: string;
  args(): string[]; // read when the runner starts, not when this file loads
  env?: Record<string, string>;
  // Reads [passed, failed] from the runner's output; null when absent.
  count(output: string): [number, number] | null;
}

const ANSI = /\x1b\[[0-9;]*m/g;

const RUNNERS: Record<string, Runner> = {
  unit: {
    name: "unit (as-pect)",
    command: "node_modules/.bin/asp",
    args: () => ["--config", "tests/unit/as-pect.config.js", "--as-config", "tests/unit/as-pect.asconfig.json"],
    count(output) {
      const match = /\[Tests\]:\s*(\d+)\s*\/\s*(\d+)/.exec(output.replace(ANSI, ""));
      return match ? [Number(match[1]), Number(match[2]) - Number(match[1])] : null;
    },
  },
  integration: {
    name: "integration (node --test, QEMU)",
    command: "node",
    // The bundled tests, which the Makefile lists (it knows what it built).
    args: () => ["--test", "--test-concurrency=1", ...(process.env.CAMOS_INTEGRATION_TESTS ?? "").split(" ").filter(Boolean)],
    env: { CAMOS_REQUIRE_IMAGE: "1" },
    // A test cancelled because its suite's set-up failed did not pass:
    // it counts as failed.
    count(output) {
      const pass = /^# pass (\d+)$/m.exec(output);
      const fail = /^# fail (\d+)$/m.exec(output);
      const cancelled = /^# cancelled (\d+)$/m.exec(output);
      return pass && fail ? [Number(pass[1]), Number(fail[1]) + Number(cancelled?.[1] ?? 0)] : null;
    },
  },
};

function run(runner: Runner): Promise<{ output: string; status: number }> {
  return new Promise((resolve) => {
    const child = spawn(runner.command, runner.args(), {
      env: { ...process.env, ...runner.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on("error", (error) => resolve({ output: `${error.message}\n`, status: 127 }));
    child.on("close", (code) => resolve({ output, status: code ?? 1 }));
  });
}

async function main(): Promise<void> {
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(RUNNERS);
  const lines: string[] = [];
  let passed = 0;
  let failed = 0;
  let broken = false;
  for (const name of names) {
    const runner = RUNNERS[name];
    if (!runner) throw new Error(`unknown test suite '${name}' (have: ${Object.keys(RUNNERS).join(", ")})`);
    const { output, status } = await run(runner);
    const counts = runner.count(output);
    if (counts === null) {
      broken = true;
      lines.push(`${runner.name}: no summary found (exit status ${status})`);
      continue;
    }
    passed += counts[0];
    failed += counts[1];
    if (status !== 0 && counts[1] === 0) broken = true;
    lines.push(`${runner.name}: ${counts[0]} passed, ${counts[1]} failed (exit status ${status})`);
  }
  console.log("\n" + lines.join("\n"));
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || broken ? 1 : 0);
}

main();
