import { parseCommand, COMMAND_OK, E_UNTERMINATED_QUOTE } from "../../kernel/command";

describe("parseCommand", () => {
  it("gives an empty name for an empty or blank line", () => {
    let empty = parseCommand("");
    expect(empty.ok).toBe(true);
    expect(empty.name).toBe("");
    expect(empty.args.length).toBe(0);
    let blank = parseCommand(" \t  ");
    expect(blank.name).toBe("");
    expect(blank.args.length).toBe(0);
  });

  it("splits the name from its arguments", () => {
    let c = parseCommand("echo hello world");
    expect(c.error).toBe(COMMAND_OK);
    expect(c.name).toBe("echo");
    expect(c.args.length).toBe(2);
    expect(c.args[0]).toBe("hello");
    expect(c.args[1]).toBe("world");
  });

  it("splits on runs of spaces and tabs, ignoring the edges", () => {
    let c = parseCommand("  \tmem \t\t stats   now\t");
    expect(c.name).toBe("mem");
    expect(c.args.length).toBe(2);
    expect(c.args[0]).toBe("stats");
    expect(c.args[1]).toBe("now");
  });

  it("keeps spaces inside double quotes", () => {
    let c = parseCommand("ctx write \"my key\"  \"a  b\t c\"");
    expect(c.name).toBe("ctx");
    expect(c.args.length).toBe(3);
    expect(c.args[1]).toBe("my key");
    expect(c.args[2]).toBe("a  b\t c");
  });

  it("takes an empty quoted argument", () => {
    let c = parseCommand("set name \"\"");
    expect(c.args.length).toBe(2);
    expect(c.args[1]).toBe("");
  });

  it("joins quoted and bare parts that touch", () => {
    let c = parseCommand("echo a\"b c\"d e");
    expect(c.args.length).toBe(2);
    expect(c.args[0]).toBe("ab cd");
    expect(c.args[1]).toBe("e");
  });

  it("understands \\\" and \\\\ inside quotes only", () => {
    let c = parseCommand("say \"he said \\\"hi\\\" \\\\ \\n\" a\\b");
    expect(c.args.length).toBe(2);
    expect(c.args[0]).toBe("he said \"hi\" \\ \\n");
    expect(c.args[1]).toBe("a\\b");
  });

  it("allows a quoted name", () => {
    let c = parseCommand("\"odd name\" x");
    expect(c.name).toBe("odd name");
    expect(c.args[0]).toBe("x");
  });

  it("reports an unterminated quote as an error value", () => {
    let c = parseCommand("echo \"oops");
    expect(c.ok).toBe(false);
    expect(c.error).toBe(E_UNTERMINATED_QUOTE);
    expect(c.message).toBe("unterminated quote");
    expect(c.name).toBe("");
    expect(c.args.length).toBe(0);
  });

  it("treats an escaped closing quote as still open", () => {
    expect(parseCommand("echo \"a\\\"").error).toBe(E_UNTERMINATED_QUOTE);
  });
});
