// Which engines this build has, for the page to say so before a merge (kept apart from
// engine-choice.ts so the page does not load the engines' code).

/** Flip with the line in engine-choice.ts when src/gpu's GpuEngine lands. */
export const GPU_ENGINE_BUILT = false;
