package io.libkv.micrometer;

/** The calls a {@link MeteredStore} times, and the {@code operation} tag value of each. */
enum Operation {
  PUT("put"),
  GET("get"),
  DELETE("delete"),
  EXISTS("exists"),
  WATCH("watch"),
  WATCH_TREE("watchTree"),
  NEW_LOCK("newLock"),
  LIST("list"),
  DELETE_TREE("deleteTree"),
  ATOMIC_PUT("atomicPut"),
  ATOMIC_DELETE("atomicDelete"),
  CLOSE("close"),
  PUT_ASYNC("putAsync"),
  DELETE_ASYNC("deleteAsync"),
  ATOMIC_PUT_ASYNC("atomicPutAsync"),
  ATOMIC_DELETE_ASYNC("atomicDeleteAsync"),
  LOCK("lock"),
  UNLOCK("unlock");

  final String tag;

  Operation(String tag) {
    this.tag = tag;
  }
}
