// The unit tests must be compiled like the kernel (asconfig.json): wasm2c
// 1.0.32 rejects SIMD and threads, and the kernel uses the incremental
// runtime. If as-pect.asconfig.json drifts, this fails first.
const RUNTIME_INCREMENTAL: i32 = 2;

describe("unit test build", () => {
  it("has SIMD and threads disabled", () => {
    expect(ASC_FEATURE_SIMD).toBe(false);
    expect(ASC_FEATURE_THREADS).toBe(false);
  });

  it("uses the incremental runtime", () => {
    expect(ASC_RUNTIME).toBe(RUNTIME_INCREMENTAL);
  });
});
