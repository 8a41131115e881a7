// The shell's command parser: one line in, a name and its arguments out.
//
// Pure: no I/O. Words are split on runs of spaces and tabs. Double quotes
// group a word that holds spaces; inside them \" and \\ stand for " and \,
// and any other backslash is kept as is. Quoted and bare parts join when
// they touch (a"b c"d is one word: ab cd), and "" is an empty word.
//
//   line                      name     args
//   ""  or  "   "             ""       []
//   "echo  a\tb"              "echo"   ["a", "b"]
//   "ctx write \"x y\" 1"     "ctx"    ["write", "x y", "1"]
//   "echo \"oops"             error E_UNTERMINATED_QUOTE
//
// Errors are values: the shell prints `error: <message>`.

export const COMMAND_OK: i32 = 0;
export const E_UNTERMINATED_QUOTE: i32 = 1;

const SPACE: i32 = 0x20;
const TAB: i32 = 0x09;
const QUOTE: i32 = 0x22;
const BACKSLASH: i32 = 0x5c;

export class Command {
  name: string = "";
  args: string[] = [];
  error: i32 = COMMAND_OK;
  message: string = "";

  get ok(): bool { return this.error == COMMAND_OK; }
}

export function parseCommand(line: string): Command {
  let command = new Command();
  let words = splitWords(line, command);
  if (!command.ok) return command;
  if (words.length > 0) {
    command.name = words[0];
    command.args = words.slice(1);
  }
  return command;
}

// The words of `line`; sets command.error on an unterminated quote.
function splitWords(line: string, command: Command): string[] {
  let words: string[] = [];
  let word = "";
  let inWord = false;
  let inQuote = false;
  let n = line.length;
  for (let i = 0; i < n; i++) {
    let c = line.charCodeAt(i);
    if (inQuote) {
      if (c == QUOTE) {
        inQuote = false;
      } else if (c == BACKSLASH && i + 1 < n && isQuotable(line.charCodeAt(i + 1))) {
        i++;
        word += String.fromCharCode(line.charCodeAt(i));
      } else {
        word += String.fromCharCode(c);
      }
    } else if (c == SPACE || c == TAB) {
      if (inWord) { words.push(word); word = ""; inWord = false; }
    } else if (c == QUOTE) {
      inQuote = true;
      inWord = true;
    } else {
      word += String.fromCharCode(c);
      inWord = true;
    }
  }
  if (inQuote) {
    command.error = E_UNTERMINATED_QUOTE;
    command.message = "unterminated quote";
    return [];
  }
  if (inWord) words.push(word);
  return words;
}

@inline function isQuotable(c: i32): bool {
  return c == QUOTE || c == BACKSLASH;
}
