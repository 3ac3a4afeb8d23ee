// What one file may cost to open, bounded: a legal file can still be built to make a reader spend
// gigabytes on bookkeeping (a million 4-byte tensors in a 58 MB safetensors header, a million
// initializers in an ONNX model), so past these counts a file is refused by name, before the
// per-tensor work starts (docs/reliability.md, "Limits").

/**
 * Tensors (safetensors header entries, ONNX initializers) one file may hold. Each costs a few hundred
 * bytes once opened, and about as much again while it is parsed; real checkpoints hold at most a few
 * thousand per file (a 70 B model's shard: ~1 000).
 */
export const MAX_TENSORS_PER_FILE = 250_000;
