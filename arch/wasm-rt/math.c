/*
 * Rounding functions for wasm2c output, by bit manipulation so they need
 * neither SSE4.1 (x86_64) nor a libm. Only the default rounding mode
 * (to nearest, ties to even) exists in wasm, which nearbyint relies on.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#define F64_MANTISSA_BITS 52
#define F64_EXPONENT_BIAS 1023
#define F32_MANTISSA_BITS 23
#define F32_EXPONENT_BIAS 127

double trunc(double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  int exponent = (int)((bits >> F64_MANTISSA_BITS) & 0x7ff) - F64_EXPONENT_BIAS;
  if (exponent >= F64_MANTISSA_BITS) return x; /* integral, infinite or NaN */
  if (exponent < 0) return copysign(0.0, x);
  bits &= ~((1ull << (F64_MANTISSA_BITS - exponent)) - 1);
  memcpy(&x, &bits, sizeof bits);
  return x;
}

float truncf(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  int exponent = (int)((bits >> F32_MANTISSA_BITS) & 0xff) - F32_EXPONENT_BIAS;
  if (exponent >= F32_MANTISSA_BITS) return x;
  if (exponent < 0) return copysignf(0.0f, x);
  bits &= ~((1u << (F32_MANTISSA_BITS - exponent)) - 1);
  memcpy(&x, &bits, sizeof bits);
  return x;
}

double floor(double x) {
  double t = trunc(x);
  return x < t ? t - 1.0 : t;
}

float floorf(float x) {
  float t = truncf(x);
  return x < t ? t - 1.0f : t;
}

double ceil(double x) {
  double t = trunc(x);
  return x > t ? t + 1.0 : t;
}

float ceilf(float x) {
  float t = truncf(x);
  return x > t ? t + 1.0f : t;
}

/* Adding and removing 2^52 leaves the value rounded to an integer by the
 * FPU's own rounding, ties to even; beyond 2^52 every double is integral. */
double nearbyint(double x) {
  const double two52 = 4503599627370496.0;
  double magnitude = fabs(x);
  if (!(magnitude < two52)) return x;
  volatile double shifted = magnitude + two52;
  return copysign(shifted - two52, x);
}

float nearbyintf(float x) {
  const float two23 = 8388608.0f;
  float magnitude = fabsf(x);
  if (!(magnitude < two23)) return x;
  volatile float shifted = magnitude + two23;
  return copysignf(shifted - two23, x);
}
