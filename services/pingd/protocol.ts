// What ping asks pingd on the "ping" endpoint (services/boot.json). Both
// test services import it; no other service speaks it.
//
//   opcode      w0 in        answer (label E_OK)
//   PING_ECHO   any          w0 as sent: the round trip being measured
//   PING_WHERE  none         w0 = the CPU pingd is pinned to
//
// Any other opcode: E_BAD_ARG.

export const PING_ECHO: u32 = 1;
export const PING_WHERE: u32 = 2;
