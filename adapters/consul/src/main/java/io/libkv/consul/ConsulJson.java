package io.libkv.consul;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.libkv.store.StoreException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The JSON shapes of Consul's API, read and written with Jackson's tree model: KV entry lists,
 * transaction bodies and answers, session create and renew. Malformed JSON is a {@link
 * StoreException} naming what was being read.
 */
final class ConsulJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final byte[] EMPTY = new byte[0];

  private ConsulJson() {}

  /** Reads the array of entries of {@code GET /v1/kv/...}. */
  static List<ConsulEntry> entries(byte[] body, String what) {
    JsonNode root = parse(body, what);
    if (!root.isArray()) {
      throw malformed(what, "expected a JSON array of KV entries");
    }
    List<ConsulEntry> out = new ArrayList<>(root.size());
    for (JsonNode n : root) {
      out.add(entry(n, what));
    }
    return out;
  }

  static ConsulEntry entry(JsonNode n, String what) {
    JsonNode key = n.get("Key");
    if (key == null || !key.isTextual()) {
      throw malformed(what, "KV entry without Key");
    }
    JsonNode v = n.get("Value");
    byte[] value;
    try {
      value = v == null || v.isNull() ? EMPTY : Base64.getDecoder().decode(v.asText());
    } catch (IllegalArgumentException e) {
      throw malformed(what, "Value of " + key.asText() + " is not base64");
    }
    JsonNode s = n.get("Session");
    return new ConsulEntry(
        key.asText(),
        value,
        n.path("CreateIndex").asLong(),
        n.path("ModifyIndex").asLong(),
        n.path("LockIndex").asLong(),
        n.path("Flags").asLong(),
        s == null || s.isNull() || s.asText().isEmpty() ? null : s.asText());
  }

  /** Reads the literal {@code true}/{@code false} answer of a KV write or session destroy. */
  static boolean bool(byte[] body, String what) {
    JsonNode n = parse(body, what);
    if (!n.isBoolean()) {
      throw malformed(what, "expected true or false");
    }
    return n.booleanValue();
  }

  /** Reads {@code {"ID": "..."}} from a session create. */
  static String sessionId(byte[] body, String what) {
    JsonNode id = parse(body, what).get("ID");
    if (id == null || !id.isTextual() || id.asText().isEmpty()) {
      throw malformed(what, "session create answer without ID");
    }
    return id.asText();
  }

  /** The body of {@code PUT /v1/session/create}. */
  static byte[] sessionCreate(String name, String ttl, String behavior, String lockDelay) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("Name", name);
    o.put("TTL", ttl);
    o.put("Behavior", behavior);
    o.put("LockDelay", lockDelay);
    return write(o);
  }

  /** A transaction under construction: the body of {@code PUT /v1/txn}. */
  static final class Txn {
    private final ArrayNode ops = MAPPER.createArrayNode();

    Txn kv(String verb, String key) {
      ObjectNode kv = ops.addObject().putObject("KV");
      kv.put("Verb", verb);
      kv.put("Key", key);
      return this;
    }

    Txn kv(String verb, String key, byte[] value, long flags, long index, String session) {
      ObjectNode kv = ops.addObject().putObject("KV");
      kv.put("Verb", verb);
      kv.put("Key", key);
      if (value != null) {
        kv.put("Value", Base64.getEncoder().encodeToString(value));
      }
      if (flags != 0) {
        kv.put("Flags", flags);
      }
      if (index != 0) {
        kv.put("Index", index);
      }
      if (session != null) {
        kv.put("Session", session);
      }
      return this;
    }

    int size() {
      return ops.size();
    }

    byte[] body() {
      return write(ops);
    }
  }

  /** The answer of {@code PUT /v1/txn}: KV results (values may be empty) and errors. */
  record TxnResult(List<ConsulEntry> results, List<String> errors) {
    /** The entry of {@code key} with the largest ModifyIndex, or {@code null}. */
    ConsulEntry last(String key) {
      ConsulEntry best = null;
      for (ConsulEntry e : results) {
        if (e.key().equals(key) && (best == null || e.modifyIndex() > best.modifyIndex())) {
          best = e;
        }
      }
      return best;
    }
  }

  static TxnResult txnResult(byte[] body, String what) {
    JsonNode root = parse(body, what);
    List<ConsulEntry> results = new ArrayList<>();
    for (JsonNode r : root.path("Results")) {
      JsonNode kv = r.get("KV");
      if (kv != null && !kv.isNull()) {
        results.add(entry(kv, what));
      }
    }
    List<String> errors = new ArrayList<>();
    for (JsonNode e : root.path("Errors")) {
      errors.add("op " + e.path("OpIndex").asInt() + ": " + e.path("What").asText());
    }
    return new TxnResult(results, errors);
  }

  private static JsonNode parse(byte[] body, String what) {
    try {
      JsonNode n = MAPPER.readTree(body);
      if (n == null || n.isMissingNode()) {
        throw malformed(what, "empty body");
      }
      return n;
    } catch (IOException e) {
      throw new StoreException("Consul sent malformed JSON for " + what + ": " + e, e);
    }
  }

  private static byte[] write(JsonNode n) {
    try {
      return MAPPER.writeValueAsBytes(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  private static StoreException malformed(String what, String detail) {
    return new StoreException("Consul sent an unexpected answer for " + what + ": " + detail);
  }
}
