// The shell's line editor: bytes from the console in, events and echo out.
//
// Pure: no I/O. The caller feeds each received byte, prints what
// takeOutput() returns (the echo), and acts on the event:
//
//   EVENT_NONE      keep feeding
//   EVENT_LINE      a line is complete: line() returns it
//   EVENT_OVERFLOW  Enter after more than `capacity` characters: the line
//                   is refused whole (never truncated); the shell prints
//                   "error: line too long (max N characters)"
//   EVENT_CANCEL    Ctrl-C: the line is dropped
//
//   byte                      effect                         echo
//   0x20..0x7e printable      append (stored while <= cap)   the byte
//   0x08 / 0x7f backspace     drop the last character        "\b \b" (none at col 0)
//   \r or \n                  Enter (\r\n counts once)       "\r\n"
//   0x15 Ctrl-U               erase the line                 "\b \b" per character
//   0x03 Ctrl-C               cancel                         "^C\r\n"
//   ESC [ ... final, ESC O x  swallowed (arrow keys, F-keys) nothing
//   other control bytes       ignored                        nothing
//
// Past the capacity, characters are still counted and echoed (so backspace
// stays in step with the screen) but not stored; the count itself stops at
// DISPLAY_FACTOR x capacity, after which typing only rings the bell.
// Drain takeOutput() after every feed: echo that does not fit the output
// buffer is dropped, never written out of bounds.

export const LINE_CAPACITY: i32 = 128;

export const EVENT_NONE: i32 = 0;
export const EVENT_LINE: i32 = 1;
export const EVENT_OVERFLOW: i32 = 2;
export const EVENT_CANCEL: i32 = 3;

const CTRL_C: u8 = 0x03;
const BELL: u8 = 0x07;
const BACKSPACE: u8 = 0x08;
const LINE_FEED: u8 = 0x0a;
const CARRIAGE_RETURN: u8 = 0x0d;
const CTRL_U: u8 = 0x15;
const ESCAPE: u8 = 0x1b;
const DELETE: u8 = 0x7f;
const FIRST_PRINTABLE: u8 = 0x20;
const LAST_PRINTABLE: u8 = 0x7e;

// Escape sequence states.
const ESC_NONE: i32 = 0;
const ESC_START: i32 = 1;   // after ESC
const ESC_CSI: i32 = 2;     // after ESC [
const ESC_SS3: i32 = 3;     // after ESC O
const MAX_ESCAPE_BYTES: i32 = 16; // longer "sequences" are garbage: give up

const DISPLAY_FACTOR: i32 = 4;
// Worst single feed: Ctrl-U over a full display, 3 bytes per character.
const OUTPUT_FACTOR: i32 = 3 * DISPLAY_FACTOR + 4;

export class LineEditor {
  readonly capacity: i32;
  private chars: StaticArray<u8>;     // the line being typed (first `capacity`)
  private done: StaticArray<u8>;      // the last completed line
  private out: StaticArray<u8>;       // echo not yet taken
  private typed: i32 = 0;             // characters on screen, may pass capacity
  private doneLength: i32 = 0;
  private outLength: i32 = 0;
  private escape: i32 = ESC_NONE;
  private escapeBytes: i32 = 0;
  private afterCarriageReturn: bool = false;

  constructor(capacity: i32 = LINE_CAPACITY) {
    let cap = capacity > 0 ? capacity : 1;
    this.chars = new StaticArray<u8>(cap);
    this.done = new StaticArray<u8>(cap);
    this.out = new StaticArray<u8>(cap * OUTPUT_FACTOR);
    this.capacity = cap;
  }

  // Characters typed on the current line (may exceed capacity).
  get pending(): i32 { return this.typed; }

  feed(byte: u8): i32 {
    let afterCR = this.afterCarriageReturn;
    this.afterCarriageReturn = byte == CARRIAGE_RETURN;
    if (this.escape != ESC_NONE && this.swallowEscape(byte)) return EVENT_NONE;

    if (byte == CARRIAGE_RETURN) return this.enter();
    if (byte == LINE_FEED) return afterCR ? EVENT_NONE : this.enter();
    if (byte >= FIRST_PRINTABLE && byte <= LAST_PRINTABLE) this.insert(byte);
    else if (byte == BACKSPACE || byte == DELETE) this.rubout();
    else if (byte == CTRL_U) { while (this.typed > 0) this.rubout(); }
    else if (byte == CTRL_C) return this.cancel();
    else if (byte == ESCAPE) { this.escape = ESC_START; this.escapeBytes = 0; }
    return EVENT_NONE;
  }

  // The last line completed by EVENT_LINE.
  line(): string {
    return String.UTF8.decodeUnsafe(changetype<usize>(this.done), <usize>this.doneLength);
  }

  // The echo produced since the last call, for the terminal.
  takeOutput(): string {
    let text = String.UTF8.decodeUnsafe(changetype<usize>(this.out), <usize>this.outLength);
    this.outLength = 0;
    return text;
  }

  // Forgets the line being typed, any escape in progress, and pending echo.
  reset(): void {
    this.typed = 0;
    this.outLength = 0;
    this.escape = ESC_NONE;
    this.afterCarriageReturn = false;
  }

  private insert(byte: u8): void {
    if (this.typed >= this.capacity * DISPLAY_FACTOR) { this.emit(BELL); return; }
    if (this.typed < this.capacity) unchecked(this.chars[this.typed] = byte);
    this.typed++;
    this.emit(byte);
  }

  private rubout(): void {
    if (this.typed == 0) return;
    this.typed--;
    this.emit(BACKSPACE);
    this.emit(FIRST_PRINTABLE);
    this.emit(BACKSPACE);
  }

  private enter(): i32 {
    this.emit(CARRIAGE_RETURN);
    this.emit(LINE_FEED);
    let length = this.typed;
    this.typed = 0;
    if (length > this.capacity) return EVENT_OVERFLOW;
    memory.copy(changetype<usize>(this.done), changetype<usize>(this.chars), <usize>length);
    this.doneLength = length;
    return EVENT_LINE;
  }

  private cancel(): i32 {
    this.emit(0x5e); // '^'
    this.emit(0x43); // 'C'
    this.emit(CARRIAGE_RETURN);
    this.emit(LINE_FEED);
    this.typed = 0;
    return EVENT_CANCEL;
  }

  // Inside an escape sequence: true when `byte` belongs to it (swallowed),
  // false when it ends the sequence without belonging to it (a control
  // byte, e.g. Enter), which the caller then handles as usual.
  private swallowEscape(byte: u8): bool {
    let state = this.escape;
    if (byte < FIRST_PRINTABLE || byte == DELETE) {
      this.escape = ESC_NONE;
      if (byte == ESCAPE) { this.escape = ESC_START; this.escapeBytes = 0; return true; }
      return false;
    }
    this.escapeBytes++;
    if (state == ESC_START) {
      this.escape = byte == 0x5b ? ESC_CSI : byte == 0x4f ? ESC_SS3 : ESC_NONE; // '[' 'O'
    } else if (state == ESC_CSI) {
      // Parameter and intermediate bytes (0x20..0x3f) continue; 0x40..0x7e ends.
      if (byte >= 0x40 || this.escapeBytes >= MAX_ESCAPE_BYTES) this.escape = ESC_NONE;
    } else {
      this.escape = ESC_NONE; // SS3: one final byte
    }
    return true;
  }

  private emit(byte: u8): void {
    if (this.outLength >= this.out.length) return;
    unchecked(this.out[this.outLength] = byte);
    this.outLength++;
  }
}
