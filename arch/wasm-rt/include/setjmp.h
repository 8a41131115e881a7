/*
 * Freestanding <setjmp.h>: wasm-rt.h names jmp_buf in declarations for wasm
 * exceptions, which CAM-OS modules do not use. A kernel trap is a panic, so
 * nothing here ever unwinds; only the type is needed.
 */
#ifndef CAMOS_SETJMP_H
#define CAMOS_SETJMP_H
typedef long jmp_buf[8];
#endif
