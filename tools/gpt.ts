// GUID partition tables for raw disk images (tools/image.ts `disk`).
//
//   LBA 0            protective MBR: one partition of type 0xEE over the disk;
//                    bytes 0..439 are free for BIOS boot code (GRUB's boot.img)
//   LBA 1            primary GPT header   ─┐ the header's CRC32 covers its 92
//   LBA 2..33        128 entries × 128 B   │ bytes, the entries' CRC32 all of
//   ...              the partitions        │ the 16 KiB array
//   LBA last-32..-1  backup entries        │
//   LBA last         backup GPT header    ─┘ (the same, pointing the other way)
//
//   GPT header (92 bytes, little-endian)
//   0   "EFI PART"          8   revision 1.0       12  header size (92)
//   16  header CRC32        20  reserved           24  this header's LBA
//   32  the other header's  40  first usable LBA   48  last usable LBA
//   56  disk GUID           72  entries' LBA       80  entry count
//   84  entry size (128)    88  entries' CRC32
//
//   Partition entry (128 bytes)
//   0   type GUID   16  unique GUID   32  first LBA   40  last LBA (inclusive)
//   48  attributes  56  name, UTF-16LE, 36 characters
//
// Nothing random: every GUID is given by the caller, so the same inputs give
// the same bytes.

export const SECTOR_BYTES = 512;
const ENTRY_COUNT = 128;
const ENTRY_BYTES = 128;
const ENTRIES_SECTORS = (ENTRY_COUNT * ENTRY_BYTES) / SECTOR_BYTES; // 32
const HEADER_BYTES = 92;
// Bytes of the MBR before its disk signature and partition table.
export const MBR_CODE_BYTES = 440;

export const GUID_EFI_SYSTEM = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
export const GUID_BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649";

export interface Partition {
  name: string; // at most 36 UTF-16 characters
  type: string; // a type GUID, text form
  guid: string; // this partition's GUID, text form
  firstLba: number;
  lastLba: number; // inclusive
}

export interface GptLayout {
  totalSectors: number;
  diskGuid: string;
  partitions: Partition[];
  bootCode?: Buffer; // at most MBR_CODE_BYTES, put at the start of the MBR
}

export class GptError extends Error {}

// A GUID's text form to its 16 bytes on disk: the first three fields are
// little-endian, the last two big-endian.
export function guidBytes(text: string): Buffer {
  const match = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(text);
  if (!match) throw new GptError(`'${text}' is not a GUID`);
  const bytes = Buffer.alloc(16);
  bytes.writeUInt32LE(parseInt(match[1], 16), 0);
  bytes.writeUInt16LE(parseInt(match[2], 16), 4);
  bytes.writeUInt16LE(parseInt(match[3], 16), 6);
  Buffer.from(match[4] + match[5], "hex").copy(bytes, 8);
  return bytes;
}

// A GUID (RFC 9562 version 8: "custom") made of the first 16 bytes of `seed`.
export function guidFromBytes(seed: Buffer): string {
  const b = Buffer.from(seed.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString("hex").toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// The first usable and last usable LBA of a disk of `totalSectors`.
export function usableRange(totalSectors: number): { first: number; last: number } {
  return { first: 2 + ENTRIES_SECTORS, last: totalSectors - 2 - ENTRIES_SECTORS };
}

function checkLayout(layout: GptLayout): void {
  const { first, last } = usableRange(layout.totalSectors);
  if (layout.partitions.length > ENTRY_COUNT) throw new GptError(`at most ${ENTRY_COUNT} partitions`);
  const sorted = [...layout.partitions].sort((a, b) => a.firstLba - b.firstLba);
  sorted.forEach((p, i) => {
    if (p.firstLba < first || p.lastLba > last || p.lastLba < p.firstLba) {
      throw new GptError(`partition '${p.name}' (LBA ${p.firstLba}..${p.lastLba}) is outside ${first}..${last}`);
    }
    if (i > 0 && sorted[i - 1].lastLba >= p.firstLba) throw new GptError(`partitions '${sorted[i - 1].name}' and '${p.name}' overlap`);
    if (p.name.length > 36) throw new GptError(`partition name '${p.name}' is longer than 36 characters`);
  });
  if (layout.bootCode && layout.bootCode.length > MBR_CODE_BYTES) throw new GptError(`MBR boot code is over ${MBR_CODE_BYTES} bytes`);
}

function protectiveMbr(layout: GptLayout): Buffer {
  const mbr = Buffer.alloc(SECTOR_BYTES);
  layout.bootCode?.copy(mbr, 0);
  const entry = 0x1be;
  mbr[entry + 0] = 0x00; // not active: the UEFI specification asks for 0
  mbr.writeUIntLE(0x000200, entry + 1, 3); // CHS of LBA 1
  mbr[entry + 4] = 0xee;
  mbr.writeUIntLE(0xffffff, entry + 5, 3); // CHS: past what CHS can say
  mbr.writeUInt32LE(1, entry + 8);
  mbr.writeUInt32LE(Math.min(layout.totalSectors - 1, 0xffffffff), entry + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return mbr;
}

function entryArray(layout: GptLayout): Buffer {
  const entries = Buffer.alloc(ENTRY_COUNT * ENTRY_BYTES);
  layout.partitions.forEach((p, i) => {
    const at = i * ENTRY_BYTES;
    guidBytes(p.type).copy(entries, at);
    guidBytes(p.guid).copy(entries, at + 16);
    entries.writeBigUInt64LE(BigInt(p.firstLba), at + 32);
    entries.writeBigUInt64LE(BigInt(p.lastLba), at + 40);
    entries.write(p.name, at + 56, 72, "utf16le");
  });
  return entries;
}

function header(layout: GptLayout, entries: Buffer, primary: boolean): Buffer {
  const lastLba = layout.totalSectors - 1;
  const { first, last } = usableRange(layout.totalSectors);
  const h = Buffer.alloc(SECTOR_BYTES);
  h.write("EFI PART", 0, "latin1");
  h.writeUInt32LE(0x00010000, 8);
  h.writeUInt32LE(HEADER_BYTES, 12);
  h.writeBigUInt64LE(BigInt(primary ? 1 : lastLba), 24);
  h.writeBigUInt64LE(BigInt(primary ? lastLba : 1), 32);
  h.writeBigUInt64LE(BigInt(first), 40);
  h.writeBigUInt64LE(BigInt(last), 48);
  guidBytes(layout.diskGuid).copy(h, 56);
  h.writeBigUInt64LE(BigInt(primary ? 2 : lastLba - ENTRIES_SECTORS), 72);
  h.writeUInt32LE(ENTRY_COUNT, 80);
  h.writeUInt32LE(ENTRY_BYTES, 84);
  h.writeUInt32LE(crc32(entries), 88);
  h.writeUInt32LE(crc32(h.subarray(0, HEADER_BYTES)), 16);
  return h;
}

// The sectors to write at the start of the disk (MBR, header, entries) and at
// its end (entries, header).
export function gptSectors(layout: GptLayout): { head: Buffer; tail: Buffer } {
  checkLayout(layout);
  const entries = entryArray(layout);
  return {
    head: Buffer.concat([protectiveMbr(layout), header(layout, entries, true), entries]),
    tail: Buffer.concat([entries, header(layout, entries, false)]),
  };
}

// Reads a GPT back (for tests and checks): the partitions of the primary
// header, after checking both headers' and both arrays' CRC32s.
export function readGpt(disk: Buffer): { diskGuid: string; partitions: Partition[] } {
  const totalSectors = Math.floor(disk.length / SECTOR_BYTES);
  const read = (lba: number) => {
    const h = disk.subarray(lba * SECTOR_BYTES, lba * SECTOR_BYTES + HEADER_BYTES);
    if (h.toString("latin1", 0, 8) !== "EFI PART") throw new GptError(`no GPT header at LBA ${lba}`);
    const copy = Buffer.from(h);
    copy.writeUInt32LE(0, 16);
    if (crc32(copy) !== h.readUInt32LE(16)) throw new GptError(`bad header CRC32 at LBA ${lba}`);
    const entriesLba = Number(h.readBigUInt64LE(72));
    const entries = disk.subarray(entriesLba * SECTOR_BYTES, entriesLba * SECTOR_BYTES + h.readUInt32LE(80) * h.readUInt32LE(84));
    if (crc32(entries) !== h.readUInt32LE(88)) throw new GptError(`bad entries CRC32 for the header at LBA ${lba}`);
    return { h, entries };
  };
  const { h, entries } = read(1);
  read(totalSectors - 1);
  const text = (b: Buffer) => {
    const hex = Buffer.from([b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], ...b.subarray(8, 16)]).toString("hex").toUpperCase();
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  const partitions: Partition[] = [];
  for (let at = 0; at < entries.length; at += ENTRY_BYTES) {
    const type = entries.subarray(at, at + 16);
    if (type.every((byte) => byte === 0)) continue;
    partitions.push({
      type: text(type),
      guid: text(entries.subarray(at + 16, at + 32)),
      firstLba: Number(entries.readBigUInt64LE(at + 32)),
      lastLba: Number(entries.readBigUInt64LE(at + 40)),
      name: entries.toString("utf16le", at + 56, at + 128).replace(/\0+$/, ""),
    });
  }
  return { diskGuid: text(h.subarray(56, 72)), partitions };
}
