// The client library for services: typed wrappers over sys.syscall for
// every call of kernel/abi.ts, named errors, text helpers, and the
// protocols services share. Import from here:
//
//   import { call, Message, log, errorName } from "../lib";

export * from "./sys";
export * from "./errors";
export * from "./text";
export * from "./log";
export * from "./ipc";
export * from "./caps";
export * from "./process";
export * from "./device";
export * from "./audit";
export * from "./sched";
export * from "./system";
export * from "./protocol";
export * from "./format";
export * from "./abort";
