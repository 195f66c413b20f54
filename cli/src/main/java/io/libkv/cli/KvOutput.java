package io.libkv.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.libkv.store.KVPair;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * What {@code ./libkv kv} prints: text for people, or (with {@code --json}) one JSON object per
 * line for scripts. The only place that knows either format. Every line is flushed at once, so a
 * watch can be read through a pipe as events come.
 *
 * <p>Text: a value as it is; a pair as {@code KEY<TAB>VALUE} (keys cannot hold a tab); watch events
 * as {@code put<TAB>KEY<TAB>INDEX<TAB>VALUE} and {@code delete<TAB>KEY<TAB>INDEX}. JSON: a pair is
 * {@code {"key","value","index"}}, with {@code "valueBase64"} in place of {@code "value"} when the
 * bytes are not UTF-8.
 */
final class KvOutput {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final PrintWriter out;
  private final boolean json;

  KvOutput(PrintWriter out, boolean json) {
    this.out = out;
    this.json = json;
  }

  /** {@code get}: the value (text), or the pair (JSON). */
  void value(KVPair pair) {
    line(json ? write(pair(pair)) : text(pair.value()));
  }

  /** A write that returns no pair ({@code put}, {@code del}): {@code OK}, or what was done. */
  void done(String op, String key) {
    line(json ? write(JSON.createObjectNode().put("op", op).put("key", key)) : "OK");
  }

  /** {@code cas}: the new index (text), or the new pair (JSON). */
  void written(KVPair pair) {
    line(json ? write(pair(pair)) : Long.toString(pair.lastIndex()));
  }

  /** One pair of {@code ls}: {@code KEY<TAB>VALUE}, or only the key; the pair in JSON. */
  void listed(KVPair pair, boolean keysOnly) {
    if (json) {
      line(write(pair(pair)));
    } else {
      line(keysOnly ? pair.key() : pair.key() + '\t' + text(pair.value()));
    }
  }

  /** One event of a key watch. */
  void event(KVPair pair) {
    if (json) {
      ObjectNode n = JSON.createObjectNode().put("event", pair.isDeletion() ? "delete" : "put");
      n.setAll(pair(pair));
      line(write(n));
    } else if (pair.isDeletion()) {
      line("delete\t" + pair.key() + '\t' + pair.lastIndex());
    } else {
      line("put\t" + pair.key() + '\t' + pair.lastIndex() + '\t' + text(pair.value()));
    }
  }

  /**
   * One event of a tree watch: the whole list under {@code dir}. Text: a line {@code
   * tree<TAB>DIR<TAB>N}, then one {@code <TAB>KEY<TAB>INDEX<TAB>VALUE} line per pair.
   */
  void tree(String dir, List<KVPair> pairs) {
    if (json) {
      ObjectNode n = JSON.createObjectNode().put("event", "tree").put("dir", dir);
      ArrayNode a = n.putArray("pairs");
      pairs.forEach(p -> a.add(pair(p)));
      line(write(n));
      return;
    }
    StringBuilder b = new StringBuilder("tree\t").append(dir).append('\t').append(pairs.size());
    for (KVPair p : pairs) {
      b.append(System.lineSeparator()).append('\t').append(p.key()).append('\t');
      b.append(p.lastIndex()).append('\t').append(text(p.value()));
    }
    line(b.toString());
  }

  private void line(String s) {
    out.println(s);
    out.flush();
  }

  private static ObjectNode pair(KVPair p) {
    ObjectNode n = JSON.createObjectNode().put("key", p.key());
    if (p.value() != null) {
      String utf8 = strictUtf8(p.value());
      if (utf8 != null) {
        n.put("value", utf8);
      } else {
        n.put("valueBase64", Base64.getEncoder().encodeToString(p.value()));
      }
    }
    return n.put("index", p.lastIndex());
  }

  private static String text(byte[] value) {
    return new String(value, StandardCharsets.UTF_8);
  }

  private static String strictUtf8(byte[] value) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(value))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static String write(ObjectNode n) {
    try {
      return JSON.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      // A tree of strings and numbers always serialises; this would be a bug in Jackson.
      throw new IllegalStateException("cannot write JSON for " + n, e);
    }
  }
}
