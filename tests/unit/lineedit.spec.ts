import {
  LineEditor, LINE_CAPACITY, EVENT_NONE, EVENT_LINE, EVENT_OVERFLOW, EVENT_CANCEL,
} from "../../kernel/lineedit";

// Feeds every character of `s`; returns the event of the last byte.
function feedAll(ed: LineEditor, s: string): i32 {
  let event = EVENT_NONE;
  for (let i = 0; i < s.length; i++) event = ed.feed(<u8>s.charCodeAt(i));
  return event;
}

// Feeds `s`, expecting no event before its last byte; returns that event.
function feedQuiet(ed: LineEditor, s: string): i32 {
  for (let i = 0; i < s.length - 1; i++) {
    expect(ed.feed(<u8>s.charCodeAt(i))).toBe(EVENT_NONE, "byte " + i.toString());
  }
  return ed.feed(<u8>s.charCodeAt(s.length - 1));
}

function repeat(c: string, n: i32): string {
  let s = "";
  for (let i = 0; i < n; i++) s += c;
  return s;
}

describe("LineEditor: typing", () => {
  it("echoes printable characters and completes the line on Enter", () => {
    let ed = new LineEditor();
    expect(feedQuiet(ed, "help")).toBe(EVENT_NONE);
    expect(ed.takeOutput()).toBe("help");
    expect(ed.feed(0x0d)).toBe(EVENT_LINE);
    expect(ed.line()).toBe("help");
    expect(ed.takeOutput()).toBe("\r\n");
  });

  it("accepts \\n alone as Enter", () => {
    let ed = new LineEditor();
    expect(feedAll(ed, "ls\n")).toBe(EVENT_LINE);
    expect(ed.line()).toBe("ls");
  });

  it("counts \\r\\n as a single Enter", () => {
    let ed = new LineEditor();
    expect(feedAll(ed, "a\r")).toBe(EVENT_LINE);
    expect(ed.feed(0x0a)).toBe(EVENT_NONE);
    expect(ed.takeOutput()).toBe("a\r\n");
    expect(feedAll(ed, "b\r\n")).toBe(EVENT_NONE); // the \n after \r: nothing
    expect(ed.line()).toBe("b");
  });

  it("treats \\r\\r as two Enters and \\n\\n as two", () => {
    let ed = new LineEditor();
    expect(ed.feed(0x0d)).toBe(EVENT_LINE);
    expect(ed.feed(0x0d)).toBe(EVENT_LINE);
    expect(ed.feed(0x0a)).toBe(EVENT_NONE);
    expect(ed.feed(0x0a)).toBe(EVENT_LINE);
    expect(ed.line()).toBe("");
  });

  it("completes an empty line", () => {
    let ed = new LineEditor();
    expect(ed.feed(0x0d)).toBe(EVENT_LINE);
    expect(ed.line()).toBe("");
  });

  it("keeps the completed line until the next one completes", () => {
    let ed = new LineEditor();
    feedAll(ed, "first\r");
    feedAll(ed, "sec");
    expect(ed.line()).toBe("first");
    expect(ed.pending).toBe(3);
  });

  it("ignores other control bytes, including tab", () => {
    let ed = new LineEditor();
    feedAll(ed, "a\tb\x01\x02\x07c");
    expect(ed.takeOutput()).toBe("abc");
    expect(feedAll(ed, "\r")).toBe(EVENT_LINE);
    expect(ed.line()).toBe("abc");
  });

  it("ignores bytes above 0x7e", () => {
    let ed = new LineEditor();
    ed.feed(0x41);
    ed.feed(0x80);
    ed.feed(0xff);
    ed.feed(0xe9);
    expect(ed.pending).toBe(1);
    expect(ed.takeOutput()).toBe("A");
  });
});

describe("LineEditor: editing", () => {
  it("does nothing on backspace at column 0", () => {
    let ed = new LineEditor();
    expect(ed.feed(0x08)).toBe(EVENT_NONE);
    expect(ed.feed(0x7f)).toBe(EVENT_NONE);
    expect(ed.takeOutput()).toBe("");
    expect(ed.pending).toBe(0);
  });

  it("removes the last character on backspace (0x08) and DEL (0x7f)", () => {
    let ed = new LineEditor();
    feedAll(ed, "lss");
    ed.takeOutput();
    ed.feed(0x7f);
    expect(ed.takeOutput()).toBe("\b \b");
    feedAll(ed, "x\x08");
    expect(ed.takeOutput()).toBe("x\b \b");
    expect(feedAll(ed, " -l\r")).toBe(EVENT_LINE);
    expect(ed.line()).toBe("ls -l");
  });

  it("erases the whole line on Ctrl-U", () => {
    let ed = new LineEditor();
    feedAll(ed, "abc");
    ed.takeOutput();
    ed.feed(0x15);
    expect(ed.takeOutput()).toBe("\b \b\b \b\b \b");
    expect(ed.pending).toBe(0);
    feedAll(ed, "ok\r");
    expect(ed.line()).toBe("ok");
  });

  it("cancels on Ctrl-C and echoes ^C", () => {
    let ed = new LineEditor();
    feedAll(ed, "reboot");
    ed.takeOutput();
    expect(ed.feed(0x03)).toBe(EVENT_CANCEL);
    expect(ed.takeOutput()).toBe("^C\r\n");
    expect(ed.pending).toBe(0);
    expect(feedAll(ed, "up\r")).toBe(EVENT_LINE);
    expect(ed.line()).toBe("up");
  });

  it("swallows CSI escape sequences such as arrow keys", () => {
    let ed = new LineEditor();
    feedAll(ed, "ab\x1b[Dc\x1b[A\x1b[1;5C\x1b[3~d");
    expect(ed.takeOutput()).toBe("abcd");
    expect(feedAll(ed, "\r")).toBe(EVENT_LINE);
    expect(ed.line()).toBe("abcd");
  });

  it("swallows SS3 sequences and Alt-key pairs", () => {
    let ed = new LineEditor();
    feedAll(ed, "a\x1bOPb\x1bxc");
    expect(feedAll(ed, "\r")).toBe(EVENT_LINE);
    expect(ed.line()).toBe("abc");
  });

  it("lets Enter end a broken escape sequence and still count", () => {
    let ed = new LineEditor();
    feedAll(ed, "ok\x1b[12");
    expect(ed.feed(0x0d)).toBe(EVENT_LINE);
    expect(ed.line()).toBe("ok");
  });

  it("gives up on an endless escape sequence", () => {
    let ed = new LineEditor();
    feedAll(ed, "\x1b[" + repeat("1", 40) + "z");
    // The first parameter bytes were swallowed; the editor then resumed.
    expect(ed.pending).toBeGreaterThan(0);
    expect(ed.pending).toBeLessThan(40);
  });
});

describe("LineEditor: capacity", () => {
  it("accepts a line of exactly the capacity", () => {
    let ed = new LineEditor();
    let text = repeat("x", LINE_CAPACITY);
    expect(feedAll(ed, text + "\r")).toBe(EVENT_LINE);
    expect(ed.line()).toBe(text);
  });

  it("refuses, not truncates, a line over the capacity", () => {
    let ed = new LineEditor();
    feedAll(ed, "keep\r");
    let event = feedAll(ed, repeat("y", LINE_CAPACITY + 1) + "\r");
    expect(event).toBe(EVENT_OVERFLOW);
    expect(ed.line()).toBe("keep"); // the refused line replaced nothing
    expect(ed.pending).toBe(0);
    expect(feedAll(ed, "next\r")).toBe(EVENT_LINE);
    expect(ed.line()).toBe("next");
  });

  it("echoes but does not store past the capacity, and backspace brings it back", () => {
    let ed = new LineEditor(4);
    feedAll(ed, "abcdEF");
    expect(ed.takeOutput()).toBe("abcdEF");
    expect(ed.pending).toBe(6);
    feedAll(ed, "\x7f\x7f");
    expect(feedAll(ed, "\r")).toBe(EVENT_LINE);
    expect(ed.line()).toBe("abcd");
  });

  it("survives a flood of input and rings the bell past the display limit", () => {
    let ed = new LineEditor(8);
    for (let i = 0; i < 200; i++) {
      ed.feed(0x7a);
      ed.takeOutput();
    }
    expect(ed.pending).toBe(32);
    ed.feed(0x7a);
    expect(ed.takeOutput()).toBe("\x07");
    ed.feed(0x15);
    expect(ed.takeOutput().length).toBe(32 * 3);
    expect(feedAll(ed, "ok\r")).toBe(EVENT_LINE);
    expect(ed.line()).toBe("ok");
  });

  it("drops echo that is never drained instead of overrunning", () => {
    let ed = new LineEditor(8);
    for (let i = 0; i < 500; i++) ed.feed(i % 2 == 0 ? 0x61 : 0x7f);
    let out = ed.takeOutput();
    expect(out.length).toBeLessThanOrEqual(8 * 16);
    expect(out.length).toBeGreaterThan(0);
  });
});
