package io.libkv.raft;

/**
 * A log entry or request written in a format version newer than this member reads: not malformed (a
 * newer member wrote it on purpose), so it is never skipped. A member meeting one in its log stops
 * (it would otherwise diverge from the members that can apply it) until it is upgraded.
 */
final class NewerFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The version found. */
  final int found;

  NewerFormatException(int found, String what) {
    super(
        what
            + " has format version "
            + found
            + ", this member reads version "
            + Wire.NEWEST_ENTRY_VERSION
            + " and older only: upgrade it to the release of the members that wrote it");
    this.found = found;
  }
}
