// The serial shell, moved out of the kernel: bytes in, through the kernel's
// own line editor and command parser (kernel/lineedit.ts, kernel/command.ts,
// both pure), lines run against the command table, text out through a
// Terminal. No system call here: main.ts gives the UART as the Terminal,
// tests/unit/console.spec.ts a recorder; commands.ts fills the table.

import { parseCommand } from "../../kernel/command";
import { LineEditor, LINE_CAPACITY, EVENT_CANCEL, EVENT_LINE, EVENT_OVERFLOW } from "../../kernel/lineedit";
import { errorName } from "../lib/errors";

export const PROMPT = "camos> ";

// Where the shell's text goes. "\n" is a line end; the terminal decides
// how it travels (the UART sends "\r\n").
export abstract class Terminal {
  abstract write(text: string): void;
}

export type Handler = (shell: Shell, args: string[]) => void;

export class ShellCommand {
  constructor(public name: string, public usage: string, public help: string, public run: Handler) {}
}

export class Shell {
  readonly editor: LineEditor = new LineEditor(LINE_CAPACITY);
  readonly commands: ShellCommand[] = [];

  constructor(public terminal: Terminal) {}

  add(name: string, usage: string, help: string, run: Handler): void {
    this.commands.push(new ShellCommand(name, usage, help, run));
  }

  print(text: string): void {
    this.terminal.write(text);
  }

  println(text: string): void {
    this.terminal.write(text + "\n");
  }

  start(): void {
    this.print(PROMPT);
  }

  // One received byte: echo, and at the end of a line, run it.
  feed(byte: u8): void {
    let event = this.editor.feed(byte);
    let echo = this.editor.takeOutput();
    if (echo.length > 0) this.print(echo);
    if (event == EVENT_LINE) {
      this.run(this.editor.line());
      this.print(PROMPT);
    } else if (event == EVENT_OVERFLOW) {
      this.println("error: line too long (max " + LINE_CAPACITY.toString() + " characters)");
      this.print(PROMPT);
    } else if (event == EVENT_CANCEL) {
      this.print(PROMPT);
    }
  }

  run(line: string): void {
    let parsed = parseCommand(line);
    if (!parsed.ok) {
      this.println("error: " + parsed.message);
      return;
    }
    if (parsed.name.length == 0) return;
    for (let i = 0; i < this.commands.length; i++) {
      if (this.commands[i].name == parsed.name) {
        this.commands[i].run(this, parsed.args);
        return;
      }
    }
    this.println("unknown command: " + parsed.name + " (try help)");
  }
}

// How every command reports a refused call: "error: <what>: <E_NAME>".
export function printError(shell: Shell, what: string, status: i32): void {
  shell.println("error: " + what + ": " + errorName(status));
}
