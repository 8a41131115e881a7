// Ed25519 signature verification (RFC 8032 section 5.1.7), pure Ed25519:
// no prehash, no context string. Verification only: everything it touches
// is public (a module image, its signature, a public key), so nothing here
// needs to run in constant time; it needs to be right.
//
//   signature (64 bytes):  | R: point, 32 bytes | S: scalar, 32 bytes LE |
//   public key (32 bytes): | A: point |
//   point encoding:        y, 255 bits little-endian | bit 255: x is odd
//
// The signature is valid when A and R decode to curve points, S < L, and
//
//   [S]B = R + [k]A,   k = SHA-512(R || A || M) mod L.
//
// That is the cofactorless equation RFC 8032 allows as sufficient (what
// OpenSSL, and so Node's crypto.verify, checks too). It is evaluated as
// [S]B + [k](-A) == R in projective coordinates, with one interleaved
// double-and-add over width-w NAF digits of S and k: odd multiples of B
// (up to 63B) are computed once, on the first call; odd multiples of -A
// (up to 15A) on every call.
//
// Nothing on the verify path allocates: field elements, points, tables and
// digits live in static memory (memory.data) and the SHA-512 hasher is made
// once, on the first call. Nothing here is re-entrant either, which is fine
// because every kernel entry runs to completion.

import { Sha512, SHA512_DIGEST_BYTES } from "./sha512";

export const ED25519_OK: i32 = 0;
export const E_BAD_SIGNATURE: i32 = -1;   // well-formed, but [S]B != R + [k]A
export const E_BAD_PUBLIC_KEY: i32 = -2;  // A is not a canonical encoding of a curve point
export const E_BAD_S: i32 = -3;           // S >= L (non-canonical: malleable)
export const E_BAD_R: i32 = -4;           // R is not a canonical encoding of a curve point

export const ED25519_SIGNATURE_BYTES: usize = 64;
export const ED25519_PUBLIC_KEY_BYTES: usize = 32;
const R_BYTES: usize = 32;   // S follows R in the signature

// ---------------------------------------------------------------------------
// Field elements, integers mod p = 2^255 - 19.
//
// Ten signed 64-bit limbs, alternately 26 and 25 bits wide (radix 2^25.5):
//
//   limb   0    1    2    3    4    5    6    7    8    9
//   bit    0   26   51   77  102  128  153  179  204  230    value = sum limb[i] * 2^bit[i]
//   width 26   25   26   25   26   25   26   25   26   25
//
//   memory: 80 bytes, limb i as an i64 at offset 8*i
//
// Why this layout: wasm multiplies 64 x 64 -> 64 bits only (no 128-bit
// product), so limbs must be narrow enough that a whole column of a product
// fits in one i64 without intermediate carries. Ten limbs give 100 multiplies
// per product (55 per square); sixteen 16-bit limbs would take 256. Signed
// limbs make subtraction a plain limb-wise difference, no borrows.
//
// Magnitudes (the proof that nothing overflows):
//   carried  |limb| < 2^26 + 2^16: what feMul, feSquare, feCarry and
//            feFromBytes produce.
//   loose    the sum or difference of two carried elements, |limb| < 2^27 + 2^17.
//   feMul and feSquare take loose inputs: the largest column (limb 0) sums
//   products with total weight 267 (factors 2 and 19 from the wrap-around
//   2^255 = 19), 267 * (2^27 + 2^17)^2 < 2^62.1 < 2^63.
//   Anything longer than one add or subtract must go through feCarry first.

const LIMBS: i32 = 10;
const FE_BYTES: i32 = 80;          // i32: memory.data takes an i32 size
const MASK_26: i64 = (1 << 26) - 1;
const MASK_25: i64 = (1 << 25) - 1;

@inline function limbBit(i: i32): i32 {
  return 25 * i + ((i + 1) >> 1);
}

@inline function limbWidth(i: i32): i32 {
  return 26 - (i & 1);
}

@inline function limbAt(f: usize, i: i32): usize {
  return f + (<usize>i << 3);
}

// Constants, computed by prepare() from their definitions.
const FE_ONE = memory.data(FE_BYTES, 8);
const FE_D = memory.data(FE_BYTES, 8);          // d = -121665/121666
const FE_D2 = memory.data(FE_BYTES, 8);         // 2d
const FE_SQRT_M1 = memory.data(FE_BYTES, 8);    // 2^((p-1)/4), a square root of -1

function feSetSmall(h: usize, value: i64): void {
  memory.fill(h, 0, <usize>FE_BYTES);
  store<i64>(h, value);
}

@inline function feCopy(h: usize, f: usize): void {
  memory.copy(h, f, <usize>FE_BYTES);
}

// Loose results; see "Magnitudes".
function feAdd(h: usize, f: usize, g: usize): void {
  for (let i = 0; i < LIMBS; i++) {
    store<i64>(limbAt(h, i), load<i64>(limbAt(f, i)) + load<i64>(limbAt(g, i)));
  }
}

function feSub(h: usize, f: usize, g: usize): void {
  for (let i = 0; i < LIMBS; i++) {
    store<i64>(limbAt(h, i), load<i64>(limbAt(f, i)) - load<i64>(limbAt(g, i)));
  }
}

function feNegate(h: usize, f: usize): void {
  for (let i = 0; i < LIMBS; i++) store<i64>(limbAt(h, i), -load<i64>(limbAt(f, i)));
}

// One carry pass from limb 0 up; the carry out of limb 9 is worth
// 2^255 = 19 (mod p) and goes back into limb 0. Brings |limb| < 2^45 to
// carried form (limb 0 gains at most 19 * 2^20).
function feCarry(h: usize): void {
  let carry: i64 = 0;
  for (let i = 0; i < LIMBS; i++) {
    let at = limbAt(h, i);
    let width = limbWidth(i);
    let value = load<i64>(at) + carry;
    carry = value >> width;                        // arithmetic: floor division
    store<i64>(at, value & ((<i64>1 << width) - 1));
  }
  store<i64>(h, load<i64>(h) + 19 * carry);
}

// The product's column sums, carried (limb 0 -> 9, 9 -> 0 times 19, 0 -> 1
// once more) and stored to h. Shared tail of feMul and feSquare.
@inline function carryAndStore(
  h: usize, h0: i64, h1: i64, h2: i64, h3: i64, h4: i64,
  h5: i64, h6: i64, h7: i64, h8: i64, h9: i64,
): void {
  let c: i64;
  c = h0 >> 26; h0 &= MASK_26; h1 += c;
  c = h1 >> 25; h1 &= MASK_25; h2 += c;
  c = h2 >> 26; h2 &= MASK_26; h3 += c;
  c = h3 >> 25; h3 &= MASK_25; h4 += c;
  c = h4 >> 26; h4 &= MASK_26; h5 += c;
  c = h5 >> 25; h5 &= MASK_25; h6 += c;
  c = h6 >> 26; h6 &= MASK_26; h7 += c;
  c = h7 >> 25; h7 &= MASK_25; h8 += c;
  c = h8 >> 26; h8 &= MASK_26; h9 += c;
  c = h9 >> 25; h9 &= MASK_25; h0 += 19 * c;
  c = h0 >> 26; h0 &= MASK_26; h1 += c;
  store<i64>(h, h0, 0);
  store<i64>(h, h1, 8);
  store<i64>(h, h2, 16);
  store<i64>(h, h3, 24);
  store<i64>(h, h4, 32);
  store<i64>(h, h5, 40);
  store<i64>(h, h6, 48);
  store<i64>(h, h7, 56);
  store<i64>(h, h8, 64);
  store<i64>(h, h9, 72);
}

// h = f * g. Inputs loose, output carried; h may alias f or g.
//
// Limb i times limb j lands at limb i + j, or at i + j - 10 times 19 when it
// passes 2^255; when i and j are both odd the two half bits add up to one
// more bit, hence the factor 2 (bit[i] + bit[j] = bit[i + j] + 1).
function feMul(h: usize, f: usize, g: usize): void {
  let f0 = load<i64>(f, 0), f1 = load<i64>(f, 8), f2 = load<i64>(f, 16), f3 = load<i64>(f, 24);
  let f4 = load<i64>(f, 32), f5 = load<i64>(f, 40), f6 = load<i64>(f, 48), f7 = load<i64>(f, 56);
  let f8 = load<i64>(f, 64), f9 = load<i64>(f, 72);
  let g0 = load<i64>(g, 0), g1 = load<i64>(g, 8), g2 = load<i64>(g, 16), g3 = load<i64>(g, 24);
  let g4 = load<i64>(g, 32), g5 = load<i64>(g, 40), g6 = load<i64>(g, 48), g7 = load<i64>(g, 56);
  let g8 = load<i64>(g, 64), g9 = load<i64>(g, 72);
  let f1x2 = f1 << 1, f3x2 = f3 << 1, f5x2 = f5 << 1, f7x2 = f7 << 1, f9x2 = f9 << 1;
  let g1x19 = 19 * g1, g2x19 = 19 * g2, g3x19 = 19 * g3, g4x19 = 19 * g4, g5x19 = 19 * g5;
  let g6x19 = 19 * g6, g7x19 = 19 * g7, g8x19 = 19 * g8, g9x19 = 19 * g9;

  let h0 = f0 * g0 + f1x2 * g9x19 + f2 * g8x19 + f3x2 * g7x19 + f4 * g6x19 + f5x2 * g5x19 + f6 * g4x19 + f7x2 * g3x19 + f8 * g2x19 + f9x2 * g1x19;
  let h1 = f0 * g1 + f1 * g0 + f2 * g9x19 + f3 * g8x19 + f4 * g7x19 + f5 * g6x19 + f6 * g5x19 + f7 * g4x19 + f8 * g3x19 + f9 * g2x19;
  let h2 = f0 * g2 + f1x2 * g1 + f2 * g0 + f3x2 * g9x19 + f4 * g8x19 + f5x2 * g7x19 + f6 * g6x19 + f7x2 * g5x19 + f8 * g4x19 + f9x2 * g3x19;
  let h3 = f0 * g3 + f1 * g2 + f2 * g1 + f3 * g0 + f4 * g9x19 + f5 * g8x19 + f6 * g7x19 + f7 * g6x19 + f8 * g5x19 + f9 * g4x19;
  let h4 = f0 * g4 + f1x2 * g3 + f2 * g2 + f3x2 * g1 + f4 * g0 + f5x2 * g9x19 + f6 * g8x19 + f7x2 * g7x19 + f8 * g6x19 + f9x2 * g5x19;
  let h5 = f0 * g5 + f1 * g4 + f2 * g3 + f3 * g2 + f4 * g1 + f5 * g0 + f6 * g9x19 + f7 * g8x19 + f8 * g7x19 + f9 * g6x19;
  let h6 = f0 * g6 + f1x2 * g5 + f2 * g4 + f3x2 * g3 + f4 * g2 + f5x2 * g1 + f6 * g0 + f7x2 * g9x19 + f8 * g8x19 + f9x2 * g7x19;
  let h7 = f0 * g7 + f1 * g6 + f2 * g5 + f3 * g4 + f4 * g3 + f5 * g2 + f6 * g1 + f7 * g0 + f8 * g9x19 + f9 * g8x19;
  let h8 = f0 * g8 + f1x2 * g7 + f2 * g6 + f3x2 * g5 + f4 * g4 + f5x2 * g3 + f6 * g2 + f7x2 * g1 + f8 * g0 + f9x2 * g9x19;
  let h9 = f0 * g9 + f1 * g8 + f2 * g7 + f3 * g6 + f4 * g5 + f5 * g4 + f6 * g3 + f7 * g2 + f8 * g1 + f9 * g0;
  carryAndStore(h, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}

// h = f^2, the same columns as feMul with each cross product taken once and
// doubled. Input loose, output carried; h may alias f.
function feSquare(h: usize, f: usize): void {
  let f0 = load<i64>(f, 0), f1 = load<i64>(f, 8), f2 = load<i64>(f, 16), f3 = load<i64>(f, 24);
  let f4 = load<i64>(f, 32), f5 = load<i64>(f, 40), f6 = load<i64>(f, 48), f7 = load<i64>(f, 56);
  let f8 = load<i64>(f, 64), f9 = load<i64>(f, 72);
  let f0x2 = f0 << 1, f1x2 = f1 << 1, f2x2 = f2 << 1, f3x2 = f3 << 1, f4x2 = f4 << 1;
  let f5x2 = f5 << 1, f6x2 = f6 << 1, f7x2 = f7 << 1, f8x2 = f8 << 1, f9x2 = f9 << 1;
  let f1x4 = f1 << 2, f3x4 = f3 << 2, f5x4 = f5 << 2, f7x4 = f7 << 2;
  let f5x19 = 19 * f5, f6x19 = 19 * f6, f7x19 = 19 * f7, f8x19 = 19 * f8, f9x19 = 19 * f9;

  let h0 = f0 * f0 + f1x4 * f9x19 + f2x2 * f8x19 + f3x4 * f7x19 + f4x2 * f6x19 + f5x2 * f5x19;
  let h1 = f0x2 * f1 + f2x2 * f9x19 + f3x2 * f8x19 + f4x2 * f7x19 + f5x2 * f6x19;
  let h2 = f0x2 * f2 + f1x2 * f1 + f3x4 * f9x19 + f4x2 * f8x19 + f5x4 * f7x19 + f6 * f6x19;
  let h3 = f0x2 * f3 + f1x2 * f2 + f4x2 * f9x19 + f5x2 * f8x19 + f6x2 * f7x19;
  let h4 = f0x2 * f4 + f1x4 * f3 + f2 * f2 + f5x4 * f9x19 + f6x2 * f8x19 + f7x2 * f7x19;
  let h5 = f0x2 * f5 + f1x2 * f4 + f2x2 * f3 + f6x2 * f9x19 + f7x2 * f8x19;
  let h6 = f0x2 * f6 + f1x4 * f5 + f2x2 * f4 + f3x2 * f3 + f7x4 * f9x19 + f8 * f8x19;
  let h7 = f0x2 * f7 + f1x2 * f6 + f2x2 * f5 + f3x2 * f4 + f8x2 * f9x19;
  let h8 = f0x2 * f8 + f1x4 * f7 + f2x2 * f6 + f3x4 * f5 + f4 * f4 + f9x2 * f9x19;
  let h9 = f0x2 * f9 + f1x2 * f8 + f2x2 * f7 + f3x2 * f6 + f4x2 * f5;
  carryAndStore(h, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}

// h = f^(2^n), n >= 1.
function feSquareTimes(h: usize, f: usize, n: i32): void {
  feSquare(h, f);
  for (let i = 1; i < n; i++) feSquare(h, h);
}

// The 255 low bits of the 32 bytes at `bytes` (bit 255 is the sign of x and
// is not part of y). Carried output; the value may be >= p (see
// bytesAreCanonical).
function feFromBytes(h: usize, bytes: usize): void {
  for (let i = 0; i < LIMBS; i++) {
    let bit = limbBit(i);
    // Every limb fits in the 32 bits at its first byte; the last such load
    // ends exactly at byte 32.
    let word = load<u32>(bytes + <usize>(bit >> 3)) >> <u32>(bit & 7);
    store<i64>(limbAt(h, i), <i64>(word & ((<u32>1 << <u32>limbWidth(i)) - 1)));
  }
}

// True when the 255-bit y at `bytes` is below p, i.e. not one of
// p .. 2^255 - 1: little-endian that is ed ff .. ff 7f up to ff ff .. ff 7f.
function bytesAreCanonical(bytes: usize): bool {
  if ((load<u8>(bytes, 31) & 0x7f) != 0x7f) return true;
  for (let i: usize = 1; i < 31; i++) {
    if (load<u8>(bytes + i) != 0xff) return true;
  }
  return load<u8>(bytes) < 0xed;
}

// h = f reduced to its canonical form: every limb in [0, 2^width), value < p.
// Input |limb| < 2^45 (anything carried or loose).
//
// Two carry passes suffice: after the first, limbs 1..9 are in range and
// limb 0 is within 19 * 2^20 of its range; the second pass moves at most
// one unit out of limb 0 and at most one unit around the top (19 into limb
// 0), which lands back inside limb 0's range. Then 0 <= value < 2^255, and
// value >= p exactly when value + 19 carries out of bit 255.
function feFreeze(h: usize, f: usize): void {
  feCopy(h, f);
  feCarry(h);
  feCarry(h);
  let q: i64 = 19;
  for (let i = 0; i < LIMBS; i++) q = (load<i64>(limbAt(h, i)) + q) >> limbWidth(i);
  // Subtract q * p: add 19q, carry, and drop the carry out of bit 255 (q).
  store<i64>(h, load<i64>(h) + 19 * q);
  let carry: i64 = 0;
  for (let i = 0; i < LIMBS; i++) {
    let at = limbAt(h, i);
    let width = limbWidth(i);
    let value = load<i64>(at) + carry;
    carry = value >> width;
    store<i64>(at, value & ((<i64>1 << width) - 1));
  }
}

const FREEZE_SCRATCH = memory.data(FE_BYTES, 8);
const EQUAL_SCRATCH = memory.data(FE_BYTES, 8);

function feIsZero(f: usize): bool {
  feFreeze(FREEZE_SCRATCH, f);
  let any: i64 = 0;
  for (let i = 0; i < LIMBS; i++) any |= load<i64>(limbAt(FREEZE_SCRATCH, i));
  return any == 0;
}

// The low bit of the canonical value: RFC 8032's "sign" of x.
function feIsOdd(f: usize): bool {
  feFreeze(FREEZE_SCRATCH, f);
  return (load<i64>(FREEZE_SCRATCH) & 1) != 0;
}

function feEqual(f: usize, g: usize): bool {
  feSub(EQUAL_SCRATCH, f, g);
  return feIsZero(EQUAL_SCRATCH);
}

// ---------------------------------------------------------------------------
// Exponentiation by the fixed exponents p - 2 (inverse) and (p - 5)/8
// (square root). Both are 2^250 - 1 shifted up, plus a small tail:
//
//   p - 2      = 2^255 - 21 = (2^250 - 1) * 2^5 + 11
//   (p - 5)/8  = 2^252 - 3  = (2^250 - 1) * 2^2 + 1
//   (p - 1)/4  = 2^253 - 5  = (2^250 - 1) * 2^3 + 3    (for sqrt(-1) = 2^((p-1)/4))
//
// Writing e(n) = z^(2^n - 1), e(a + b) = e(a)^(2^b) * e(b) builds e(250)
// from e(5) in 249 squarings and 11 multiplications in all.

const POW_A = memory.data(FE_BYTES, 8);
const POW_B = memory.data(FE_BYTES, 8);
const POW_C = memory.data(FE_BYTES, 8);
const POW_D = memory.data(FE_BYTES, 8);
const POW_Z = memory.data(FE_BYTES, 8);
const POW_E250 = memory.data(FE_BYTES, 8);
const POW_Z11 = memory.data(FE_BYTES, 8);

// e250 = z^(2^250 - 1), z11 = z^11. No argument may be a POW_ slot but z.
function powTwo250MinusOne(e250: usize, z11: usize, z: usize): void {
  feSquare(POW_A, z);                                          // z^2
  feSquareTimes(POW_B, POW_A, 2);                              // z^8
  feMul(POW_B, POW_B, z);                                      // z^9
  feMul(z11, POW_B, POW_A);                                    // z^11
  feSquare(POW_A, z11);                                        // z^22
  feMul(POW_A, POW_A, POW_B);                                  // z^31 = e(5)
  feSquareTimes(POW_B, POW_A, 5); feMul(POW_B, POW_B, POW_A);  // e(10)
  feSquareTimes(POW_C, POW_B, 10); feMul(POW_C, POW_C, POW_B); // e(20)
  feSquareTimes(POW_D, POW_C, 20); feMul(POW_D, POW_D, POW_C); // e(40)
  feSquareTimes(POW_D, POW_D, 10); feMul(POW_D, POW_D, POW_B); // e(50)
  feSquareTimes(POW_C, POW_D, 50); feMul(POW_C, POW_C, POW_D); // e(100)
  feSquareTimes(POW_B, POW_C, 100); feMul(POW_B, POW_B, POW_C); // e(200)
  feSquareTimes(POW_B, POW_B, 50); feMul(e250, POW_B, POW_D);  // e(250)
}

// h = 1/z (z^(p-2)); 0 for z = 0. h may alias z.
function feInvert(h: usize, z: usize): void {
  feCopy(POW_Z, z);
  powTwo250MinusOne(POW_E250, POW_Z11, POW_Z);
  feSquareTimes(POW_E250, POW_E250, 5);
  feMul(h, POW_E250, POW_Z11);
}

// h = z^((p-5)/8). h may alias z.
function fePowP58(h: usize, z: usize): void {
  feCopy(POW_Z, z);
  powTwo250MinusOne(POW_E250, POW_Z11, POW_Z);
  feSquareTimes(POW_E250, POW_E250, 2);
  feMul(h, POW_E250, POW_Z);
}

// ---------------------------------------------------------------------------
// Points on -x^2 + y^2 = 1 + d x^2 y^2 (twisted Edwards, a = -1).
//
//   extended (320 bytes): | X | Y | Z | T |          x = X/Z, y = Y/Z, xy = T/Z
//   cached   (320 bytes): | Y+X | Y-X | 2Z | 2d*T |  a point prepared for adding
//
// Formulas: Hisil, Wong, Carter, Dawson, "Twisted Edwards curves revisited"
// (2008), for a = -1; the addition is complete on this curve (d is not a
// square), so identity and doubling inputs need no special case.

const POINT_BYTES: i32 = 4 * FE_BYTES;

@inline function coordX(p: usize): usize { return p; }
@inline function coordY(p: usize): usize { return p + <usize>FE_BYTES; }
@inline function coordZ(p: usize): usize { return p + <usize>(2 * FE_BYTES); }
@inline function coordT(p: usize): usize { return p + <usize>(3 * FE_BYTES); }

@inline function cachedYPlusX(c: usize): usize { return c; }
@inline function cachedYMinusX(c: usize): usize { return c + <usize>FE_BYTES; }
@inline function cachedZ2(c: usize): usize { return c + <usize>(2 * FE_BYTES); }
@inline function cachedT2d(c: usize): usize { return c + <usize>(3 * FE_BYTES); }

function pointSetIdentity(p: usize): void {
  feSetSmall(coordX(p), 0);
  feSetSmall(coordY(p), 1);
  feSetSmall(coordZ(p), 1);
  feSetSmall(coordT(p), 0);
}

function pointNegate(p: usize): void {
  feNegate(coordX(p), coordX(p));
  feNegate(coordT(p), coordT(p));
}

function pointToCached(c: usize, p: usize): void {
  feAdd(cachedYPlusX(c), coordY(p), coordX(p));
  feCarry(cachedYPlusX(c));
  feSub(cachedYMinusX(c), coordY(p), coordX(p));
  feCarry(cachedYMinusX(c));
  feAdd(cachedZ2(c), coordZ(p), coordZ(p));
  feCarry(cachedZ2(c));
  feMul(cachedT2d(c), coordT(p), FE_D2);
}

const DBL_A = memory.data(FE_BYTES, 8);
const DBL_B = memory.data(FE_BYTES, 8);
const DBL_C = memory.data(FE_BYTES, 8);
const DBL_E = memory.data(FE_BYTES, 8);
const DBL_F = memory.data(FE_BYTES, 8);
const DBL_G = memory.data(FE_BYTES, 8);
const DBL_H = memory.data(FE_BYTES, 8);

// r = 2p; r may alias p. The paper's doubling with F and H negated (and so
// every output coordinate; a projective point does not change):
//   A = X^2, B = Y^2, C = 2Z^2, E = 2XY, G = B - A, F = C - G, H = A + B
//   X' = E F, Y' = G H, Z' = F G, T' = E H
function pointDouble(r: usize, p: usize): void {
  feSquare(DBL_A, coordX(p));
  feSquare(DBL_B, coordY(p));
  feSquare(DBL_C, coordZ(p));
  feAdd(DBL_C, DBL_C, DBL_C);
  feCarry(DBL_C);                    // F below subtracts a loose G from it
  feMul(DBL_E, coordX(p), coordY(p));
  feAdd(DBL_E, DBL_E, DBL_E);
  feSub(DBL_G, DBL_B, DBL_A);
  feSub(DBL_F, DBL_C, DBL_G);
  feAdd(DBL_H, DBL_A, DBL_B);
  feMul(coordX(r), DBL_E, DBL_F);
  feMul(coordY(r), DBL_G, DBL_H);
  feMul(coordZ(r), DBL_F, DBL_G);
  feMul(coordT(r), DBL_E, DBL_H);
}

const ADD_A = memory.data(FE_BYTES, 8);
const ADD_B = memory.data(FE_BYTES, 8);
const ADD_C = memory.data(FE_BYTES, 8);
const ADD_D = memory.data(FE_BYTES, 8);
const ADD_E = memory.data(FE_BYTES, 8);
const ADD_F = memory.data(FE_BYTES, 8);
const ADD_G = memory.data(FE_BYTES, 8);
const ADD_H = memory.data(FE_BYTES, 8);

// r = p + q, or p - q when `subtract`; q is cached, r may alias p.
// -q = (-x, y) swaps Y+X with Y-X and negates 2dT, so subtracting swaps the
// two products and the signs on C:
//   A = (Y1-X1)(Y2-X2), B = (Y1+X1)(Y2+X2), C = T1 2d T2, D = Z1 2 Z2
//   E = B - A, F = D - C, G = D + C, H = B + A
//   X3 = E F, Y3 = G H, Z3 = F G, T3 = E H
function pointAddCached(r: usize, p: usize, q: usize, subtract: bool): void {
  feSub(ADD_E, coordY(p), coordX(p));
  feAdd(ADD_H, coordY(p), coordX(p));
  feMul(ADD_A, ADD_E, subtract ? cachedYPlusX(q) : cachedYMinusX(q));
  feMul(ADD_B, ADD_H, subtract ? cachedYMinusX(q) : cachedYPlusX(q));
  feMul(ADD_C, coordT(p), cachedT2d(q));
  feMul(ADD_D, coordZ(p), cachedZ2(q));
  feSub(ADD_E, ADD_B, ADD_A);
  feAdd(ADD_H, ADD_B, ADD_A);
  if (subtract) {
    feAdd(ADD_F, ADD_D, ADD_C);
    feSub(ADD_G, ADD_D, ADD_C);
  } else {
    feSub(ADD_F, ADD_D, ADD_C);
    feAdd(ADD_G, ADD_D, ADD_C);
  }
  feMul(coordX(r), ADD_E, ADD_F);
  feMul(coordY(r), ADD_G, ADD_H);
  feMul(coordZ(r), ADD_F, ADD_G);
  feMul(coordT(r), ADD_E, ADD_H);
}

const DEC_Y2 = memory.data(FE_BYTES, 8);
const DEC_U = memory.data(FE_BYTES, 8);
const DEC_V = memory.data(FE_BYTES, 8);
const DEC_V3 = memory.data(FE_BYTES, 8);
const DEC_X = memory.data(FE_BYTES, 8);
const DEC_CHECK = memory.data(FE_BYTES, 8);

// p = the curve point with this y whose x has low bit `odd` (RFC 8032
// 5.1.3 steps 2-4); false when there is none. y must be carried and must
// not alias p's X, Z or T.
//
// x^2 = u/v with u = y^2 - 1, v = d y^2 + 1. The candidate root
// x = u v^3 (u v^7)^((p-5)/8) satisfies v x^2 = u or v x^2 = -u when u/v is
// a square; in the second case sqrt(-1) * x is the root.
function pointFromY(p: usize, y: usize, odd: bool): bool {
  feSquare(DEC_Y2, y);
  feSub(DEC_U, DEC_Y2, FE_ONE);
  feMul(DEC_V, DEC_Y2, FE_D);
  feAdd(DEC_V, DEC_V, FE_ONE);
  feSquare(DEC_V3, DEC_V);
  feMul(DEC_V3, DEC_V3, DEC_V);                // v^3
  feSquare(DEC_X, DEC_V3);
  feMul(DEC_X, DEC_X, DEC_V);                  // v^7
  feMul(DEC_X, DEC_X, DEC_U);                  // u v^7
  fePowP58(DEC_X, DEC_X);
  feMul(DEC_X, DEC_X, DEC_V3);
  feMul(DEC_X, DEC_X, DEC_U);                  // the candidate x

  feSquare(DEC_CHECK, DEC_X);
  feMul(DEC_CHECK, DEC_CHECK, DEC_V);          // v x^2
  if (!feEqual(DEC_CHECK, DEC_U)) {
    feAdd(DEC_CHECK, DEC_CHECK, DEC_U);
    if (!feIsZero(DEC_CHECK)) return false;    // u/v is not a square
    feMul(DEC_X, DEC_X, FE_SQRT_M1);
  }
  if (feIsOdd(DEC_X) != odd) {
    if (odd && feIsZero(DEC_X)) return false;  // x = 0 has no odd form
    feNegate(DEC_X, DEC_X);
  }
  feCopy(coordX(p), DEC_X);
  if (coordY(p) != y) feCopy(coordY(p), y);
  feSetSmall(coordZ(p), 1);
  feMul(coordT(p), DEC_X, y);
  return true;
}

const DEC_Y = memory.data(FE_BYTES, 8);

// p = the point encoded in the 32 bytes at `bytes` (RFC 8032 5.1.3);
// false when y >= p or no point has that y and sign.
function pointDecode(p: usize, bytes: usize): bool {
  if (!bytesAreCanonical(bytes)) return false;
  feFromBytes(DEC_Y, bytes);
  return pointFromY(p, DEC_Y, (load<u8>(bytes, 31) >> 7) != 0);
}

const EQ_PRODUCT = memory.data(FE_BYTES, 8);

// q == a, where a has Z = 1: X_q = x_a Z_q and Y_q = y_a Z_q.
function pointEqualsAffine(q: usize, a: usize): bool {
  feMul(EQ_PRODUCT, coordX(a), coordZ(q));
  if (!feEqual(coordX(q), EQ_PRODUCT)) return false;
  feMul(EQ_PRODUCT, coordY(a), coordZ(q));
  return feEqual(coordY(q), EQ_PRODUCT);
}

// table[i] = cached (2i + 1) p for i < count. p must not be a TABLE_ slot.
const TABLE_STEP = memory.data(POINT_BYTES, 8);    // cached 2p
const TABLE_RUN = memory.data(POINT_BYTES, 8);     // extended (2i + 1) p

function buildOddMultiples(table: usize, p: usize, count: i32): void {
  pointDouble(TABLE_RUN, p);
  pointToCached(TABLE_STEP, TABLE_RUN);
  memory.copy(TABLE_RUN, p, <usize>POINT_BYTES);
  pointToCached(table, TABLE_RUN);
  for (let i = 1; i < count; i++) {
    pointAddCached(TABLE_RUN, TABLE_RUN, TABLE_STEP, false);
    pointToCached(table + <usize>(i * POINT_BYTES), TABLE_RUN);
  }
}

// ---------------------------------------------------------------------------
// Scalars: integers mod L, 32 bytes little-endian, read as four u64 words.

// L = 2^252 + 27742317777372353535851937790883648493, the order of B.
const L0: u64 = 0x5812631a5cf5d3ed;
const L1: u64 = 0x14def9dea2f79cd6;
const L2: u64 = 0;
const L3: u64 = 0x1000000000000000;

@inline function belowL(s0: u64, s1: u64, s2: u64, s3: u64): bool {
  if (s3 != L3) return s3 < L3;
  if (s2 != L2) return s2 < L2;
  if (s1 != L1) return s1 < L1;
  return s0 < L0;
}

// RFC 8032 5.1.7 step 1: S must be in [0, L).
function scalarIsCanonical(s: usize): bool {
  return belowL(load<u64>(s, 0), load<u64>(s, 8), load<u64>(s, 16), load<u64>(s, 24));
}

// out = the 64-byte little-endian number at `wide`, mod L.
//
// Bit by bit from the top: r = 2r + bit, minus L when that reaches L.
// 512 cheap steps on four words; it runs once per verification, next to
// some 3000 field multiplications, so a Barrett reduction would not pay for
// its extra code.
function scalarReduce(out: usize, wide: usize): void {
  let r0: u64 = 0, r1: u64 = 0, r2: u64 = 0, r3: u64 = 0;
  for (let bit = 511; bit >= 0; bit--) {
    let next = <u64>((load<u8>(wide + <usize>(bit >> 3)) >> <u8>(bit & 7)) & 1);
    // r < L < 2^253, so 2r + 1 < 2^254 still fits in four words.
    r3 = (r3 << 1) | (r2 >> 63);
    r2 = (r2 << 1) | (r1 >> 63);
    r1 = (r1 << 1) | (r0 >> 63);
    r0 = (r0 << 1) | next;
    if (!belowL(r0, r1, r2, r3)) {
      // 2r + 1 < 2L: one subtraction always suffices.
      let borrow: u64 = r0 < L0 ? 1 : 0;
      r0 -= L0;
      let nextBorrow: u64 = (r1 < L1 || (r1 == L1 && borrow != 0)) ? 1 : 0;
      r1 = r1 - L1 - borrow;
      borrow = nextBorrow;
      nextBorrow = (r2 < L2 || (r2 == L2 && borrow != 0)) ? 1 : 0;
      r2 = r2 - L2 - borrow;
      borrow = nextBorrow;
      r3 = r3 - L3 - borrow;  // r >= L, so no borrow leaves the top word
    }
  }
  store<u64>(out, r0, 0);
  store<u64>(out, r1, 8);
  store<u64>(out, r2, 16);
  store<u64>(out, r3, 24);
}

// Width-w NAF of the scalar at `s` (< 2^253) into 256 signed digits at
// `digits`, least significant first: every nonzero digit is odd, below
// 2^(w-1) in magnitude, and followed by at least w - 1 zeros, so
// sum digits[i] 2^i = s with about 256/(w + 1) additions.
//
// Each step: if s is odd, take d = s mods 2^w (the residue in
// (-2^(w-1), 2^(w-1))) and s -= d, which clears the low w bits; then halve.
// For s < 2^253 the digits end by position 253, so 256 always suffice.
function recodeWindowedNaf(digits: usize, s: usize, width: i32): void {
  let s0 = load<u64>(s, 0), s1 = load<u64>(s, 8), s2 = load<u64>(s, 16), s3 = load<u64>(s, 24);
  let window: i32 = 1 << width;
  let half: i32 = window >> 1;
  for (let i = 0; i < 256; i++) {
    let digit: i32 = 0;
    if ((s0 & 1) != 0) {
      digit = <i32>(s0 & <u64>(window - 1));
      if (digit >= half) digit -= window;
      if (digit > 0) {
        s0 -= <u64>digit;                      // clears the low bits, no borrow
      } else {
        let add = <u64>(-digit);
        s0 += add;
        if (s0 < add) {                        // carry into the upper words
          s1++;
          if (s1 == 0) {
            s2++;
            if (s2 == 0) s3++;
          }
        }
      }
    }
    store<i8>(digits + <usize>i, <i8>digit);
    s0 = (s0 >> 1) | (s1 << 63);
    s1 = (s1 >> 1) | (s2 << 63);
    s2 = (s2 >> 1) | (s3 << 63);
    s3 >>= 1;
  }
}

// ---------------------------------------------------------------------------
// [s]B + [k]P by one shared chain of doublings (Straus/Shamir), adding a
// table entry wherever either NAF has a digit: about 253 doublings and 70
// additions. B's table is wider because it is built once; P's is rebuilt on
// every call, so it stays at 8 entries. (Other widths from 4 to 8 measured
// within a few per cent of these.)

const BASE_WINDOW: i32 = 7;
const BASE_TABLE_POINTS: i32 = 1 << (BASE_WINDOW - 2);    // B, 3B, .., 63B
const KEY_WINDOW: i32 = 5;
const KEY_TABLE_POINTS: i32 = 1 << (KEY_WINDOW - 2);      // P, 3P, .., 15P

const BASE_TABLE = memory.data(POINT_BYTES * BASE_TABLE_POINTS, 8);
const KEY_TABLE = memory.data(POINT_BYTES * KEY_TABLE_POINTS, 8);
const DIGITS_S = memory.data(256);
const DIGITS_K = memory.data(256);

// Adds (digit > 0) or subtracts (digit < 0) table entry |digit|/2 to acc.
@inline function addDigit(acc: usize, table: usize, digit: i32): void {
  if (digit > 0) {
    pointAddCached(acc, acc, table + <usize>((digit >> 1) * POINT_BYTES), false);
  } else if (digit < 0) {
    pointAddCached(acc, acc, table + <usize>(((-digit) >> 1) * POINT_BYTES), true);
  }
}

// acc = [s]B + [k]p for scalars s, k < 2^253. p must not alias acc.
function doubleScalarMulBase(acc: usize, s: usize, k: usize, p: usize): void {
  recodeWindowedNaf(DIGITS_S, s, BASE_WINDOW);
  recodeWindowedNaf(DIGITS_K, k, KEY_WINDOW);
  buildOddMultiples(KEY_TABLE, p, KEY_TABLE_POINTS);

  let i = 255;
  while (i >= 0 && load<i8>(DIGITS_S + <usize>i) == 0 && load<i8>(DIGITS_K + <usize>i) == 0) i--;
  pointSetIdentity(acc);
  for (; i >= 0; i--) {
    pointDouble(acc, acc);
    addDigit(acc, BASE_TABLE, <i32>load<i8>(DIGITS_S + <usize>i));
    addDigit(acc, KEY_TABLE, <i32>load<i8>(DIGITS_K + <usize>i));
  }
}

// ---------------------------------------------------------------------------
// One-time set-up: the constants, from their definitions, and B's table.

let ready = false;
let hasher: Sha512 | null = null;

const POINT_B = memory.data(POINT_BYTES, 8);
const PREP_T = memory.data(FE_BYTES, 8);
const PREP_U = memory.data(FE_BYTES, 8);
const PREP_V = memory.data(FE_BYTES, 8);

function prepare(): void {
  feSetSmall(FE_ONE, 1);

  feSetSmall(PREP_T, 121666);
  feInvert(PREP_T, PREP_T);
  feSetSmall(FE_D, -121665);
  feMul(FE_D, FE_D, PREP_T);
  feAdd(FE_D2, FE_D, FE_D);
  feCarry(FE_D2);

  // sqrt(-1) = 2^((p-1)/4) = (2^(2^250 - 1))^8 * 2^3
  feSetSmall(PREP_T, 2);
  powTwo250MinusOne(PREP_U, PREP_V, PREP_T);
  feSquareTimes(PREP_U, PREP_U, 3);
  feSetSmall(PREP_T, 8);
  feMul(FE_SQRT_M1, PREP_U, PREP_T);

  // B = (x, 4/5) with x even (RFC 8032 5.1).
  feSetSmall(PREP_T, 5);
  feInvert(PREP_T, PREP_T);
  feSetSmall(PREP_U, 4);
  feMul(PREP_T, PREP_T, PREP_U);
  let onCurve = pointFromY(POINT_B, PREP_T, false);
  assert(onCurve, "ed25519: the base point does not decode");
  buildOddMultiples(BASE_TABLE, POINT_B, BASE_TABLE_POINTS);

  hasher = new Sha512();
  ready = true;
}

// ---------------------------------------------------------------------------

const POINT_A = memory.data(POINT_BYTES, 8);     // the key, then -A
const POINT_R = memory.data(POINT_BYTES, 8);
const POINT_CHECK = memory.data(POINT_BYTES, 8); // [S]B - [k]A
const DIGEST = memory.data(<i32>SHA512_DIGEST_BYTES, 8);
const SCALAR_K = memory.data(32, 8);

// Verifies the 64-byte `signature` of the `messageLen` bytes at `message`
// under the 32-byte `publicKey` (RFC 8032 5.1.7). Returns ED25519_OK or the
// first fault found, checked in this order: E_BAD_PUBLIC_KEY, E_BAD_R,
// E_BAD_S, E_BAD_SIGNATURE. Allocates only on the first call (the hasher).
export function ed25519_verify(signature: usize, message: usize, messageLen: usize, publicKey: usize): i32 {
  if (!ready) prepare();
  if (!pointDecode(POINT_A, publicKey)) return E_BAD_PUBLIC_KEY;
  if (!pointDecode(POINT_R, signature)) return E_BAD_R;
  let s = signature + R_BYTES;
  if (!scalarIsCanonical(s)) return E_BAD_S;

  let h = changetype<Sha512>(hasher);
  h.reset();
  h.update(signature, R_BYTES);
  h.update(publicKey, ED25519_PUBLIC_KEY_BYTES);
  h.update(message, messageLen);
  h.finish(DIGEST);
  scalarReduce(SCALAR_K, DIGEST);

  pointNegate(POINT_A);
  doubleScalarMulBase(POINT_CHECK, s, SCALAR_K, POINT_A);
  return pointEqualsAffine(POINT_CHECK, POINT_R) ? ED25519_OK : E_BAD_SIGNATURE;
}
