package io.libkv.storage.engine;

/**
 * {@link CommandCodec} could not decode its input (truncated, garbage, or an unknown version).
 * Nothing was applied.
 */
public final class MalformedCommandException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;
  private final int offset;

  /** Creates the error, with the offset in the input where decoding failed. */
  public MalformedCommandException(String message, int offset) {
    super("Malformed command encoding at byte " + offset + ": " + message);
    this.offset = offset;
  }

  /** The offset in the input where decoding failed. */
  public int offset() {
    return offset;
  }
}
