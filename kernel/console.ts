// Console output: text to the serial console through arch.console_write.
//
// Text is staged in a static buffer (no allocation, so it is safe on any
// path, including panic) and written out when full or at the end.

import { console_write } from "./arch";

const STAGING_BYTES: i32 = 256;
const staging = memory.data(STAGING_BYTES);

// Writes `text` as bytes; characters outside ASCII become '?', and "\n" is
// sent as "\r\n" for serial terminals.
export function print(text: string): void {
  let used = 0;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (used + 2 > STAGING_BYTES) {
      console_write(staging, used);
      used = 0;
    }
    if (code == 10) store<u8>(staging + used++, 13);
    store<u8>(staging + used++, code < 128 ? <u8>code : 63);
  }
  if (used > 0) console_write(staging, used);
}

export function println(text: string): void {
  print(text);
  print("\n");
}
