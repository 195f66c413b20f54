package io.libkv.spi;

/**
 * Checks, before a backend touches lmdbjava or Agrona, that the JVM was started with the flags they
 * need on Java 17, so that embedders get a message naming the flags rather than a bare {@link
 * IllegalAccessError} from deep inside a library.
 */
public final class JvmAccess {
  /** The flags lmdbjava and Agrona 2.x need. */
  public static final String REQUIRED_FLAGS =
      "--add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED"
          + " --add-exports java.base/jdk.internal.misc=ALL-UNNAMED";

  private JvmAccess() {}

  /**
   * Returns normally if {@code java.nio} and {@code sun.nio.ch} are open and {@code
   * jdk.internal.misc} exported to the caller's module.
   *
   * @param what the backend that needs them, for the message
   * @throws IllegalStateException naming the missing flags
   */
  public static void requireNioAccess(String what) {
    Module base = Object.class.getModule();
    Module self = JvmAccess.class.getModule();
    boolean ok =
        base.isOpen("java.nio", self)
            && base.isOpen("sun.nio.ch", self)
            && base.isExported("jdk.internal.misc", self);
    if (!ok) {
      throw new IllegalStateException(
          what
              + " needs these JVM flags on Java 17+: "
              + REQUIRED_FLAGS
              + " (add them to the java command line, your test runner's argLine, or"
              + " JDK_JAVA_OPTIONS)");
    }
  }
}
