package io.libkv.jepsen;

/** What a check concluded. Only {@link #VALID} is a pass. */
enum Verdict {
  /** Checked completely and found correct. */
  VALID,
  /** A violation was found. */
  INVALID,
  /** The check ran out of time or memory before deciding: counts as a failure. */
  UNKNOWN;

  /** Combines two verdicts: any INVALID wins, then any UNKNOWN. */
  Verdict and(Verdict other) {
    if (this == INVALID || other == INVALID) {
      return INVALID;
    }
    if (this == UNKNOWN || other == UNKNOWN) {
      return UNKNOWN;
    }
    return VALID;
  }
}
