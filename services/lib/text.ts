// Text across the system-call boundary: names packed into message words,
// and ASCII in a scratch buffer the kernel reads (log) or fills (names).
//
// A name in two words, little endian, NUL-padded (at most NAME_WORD_BYTES):
//
//   w0: bytes 0..7 (byte 0 in bits 0..7)   w1: bytes 8..15
//
// Only ASCII crosses: other characters become '?', so byte counts and
// character counts agree.

export const NAME_WORD_BYTES: i32 = 16;
export const TEXT_BYTES: i32 = 256;

// Scratch for one system call's text at a time (the caller copies out).
export const TEXT_BUFFER: usize = memory.data(TEXT_BYTES, 8);

@inline function asciiAt(text: string, i: i32): u64 {
  let code = text.charCodeAt(i);
  return code < 128 ? <u64>code : 0x3f;
}

// Word `index` (0 or 1) of `text` packed as a name.
export function nameWord(text: string, index: i32): u64 {
  let word: u64 = 0;
  let first = index * 8;
  for (let i = 0; i < 8 && first + i < text.length && first + i < NAME_WORD_BYTES; i++) {
    word |= asciiAt(text, first + i) << (<u64>(i * 8));
  }
  return word;
}

// The name packed in w0, w1 (up to its first NUL).
export function nameFromWords(w0: u64, w1: u64): string {
  let text = "";
  for (let i = 0; i < NAME_WORD_BYTES; i++) {
    let word = i < 8 ? w0 : w1;
    let code = <i32>((word >> (<u64>((i & 7) * 8))) & 0xff);
    if (code == 0) break;
    text += String.fromCharCode(code);
  }
  return text;
}

// Writes `text` as ASCII into TEXT_BUFFER (at most TEXT_BYTES bytes);
// returns the byte count.
export function textToBuffer(text: string): i32 {
  let n = min(text.length, TEXT_BYTES);
  for (let i = 0; i < n; i++) store<u8>(TEXT_BUFFER + <usize>i, <u8>asciiAt(text, i));
  return n;
}

// The text at `offset` in TEXT_BUFFER: up to `length` bytes, stopping at a
// NUL or the buffer's end.
export function textFromBuffer(offset: i32, length: i32): string {
  let text = "";
  for (let i = offset; i < offset + length && i < TEXT_BYTES; i++) {
    let code = <i32>load<u8>(TEXT_BUFFER + <usize>i);
    if (code == 0) break;
    text += String.fromCharCode(code < 128 ? code : 0x3f);
  }
  return text;
}

// Where the NUL-terminated string at `offset` ends, + 1 (the next one's
// start); TEXT_BYTES when it runs to the end.
export function nextTextOffset(offset: i32): i32 {
  for (let i = offset; i < TEXT_BYTES; i++) {
    if (load<u8>(TEXT_BUFFER + <usize>i) == 0) return i + 1;
  }
  return TEXT_BYTES;
}
