// Text formatting for what services print: the kernel's own, pure and shared
// (kernel/format.ts), so a column or a size reads the same from both shells.

export { hex, hex64, padLeft, padRight, parseDecimal, secondsText, sizeText } from "../../kernel/format";
