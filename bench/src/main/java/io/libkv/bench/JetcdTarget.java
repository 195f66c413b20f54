package io.libkv.bench;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The raw jetcd baseline: the same operations as the etcd adapter, made directly with jetcd, so the
 * adapter's own cost is the difference. Keys get the prefix {@code raw/}. Every jetcd exception is
 * turned into a {@link BenchException} here.
 */
final class JetcdTarget implements Target {
  private static final String PREFIX = "raw/";

  private final String name;
  private final List<Client> clients = new ArrayList<>();
  private final Client client;

  JetcdTarget(String name, List<String> endpoints, int connections) {
    this.name = name;
    for (int i = 0; i < Math.max(1, connections); i++) {
      clients.add(
          Client.builder()
              .endpoints(endpoints.toArray(new String[0]))
              .connectTimeout(Duration.ofSeconds(10))
              .build());
    }
    this.client = clients.get(0);
  }

  private JetcdTarget(JetcdTarget parent, Client client) {
    this.name = parent.name;
    this.client = client;
  }

  @Override
  public Target forClient(int c) {
    if (clients.size() <= 1) {
      return this;
    }
    return new JetcdTarget(this, clients.get(Math.floorMod(c, clients.size())));
  }

  @Override
  public String name() {
    return name;
  }

  private static ByteSequence bytes(String key) {
    return ByteSequence.from(PREFIX + key, StandardCharsets.UTF_8);
  }

  @Override
  public void put(String key, byte[] value) {
    await(client.getKVClient().put(bytes(key), ByteSequence.from(value), PutOption.DEFAULT));
  }

  @Override
  public boolean get(String key) {
    return await(client.getKVClient().get(bytes(key))).getCount() > 0;
  }

  @Override
  public boolean cas(String key, byte[] value) {
    KV kv = client.getKVClient();
    ByteSequence k = bytes(key);
    GetResponse seen = await(kv.get(k));
    if (seen.getCount() == 0) {
      return false;
    }
    long rev = seen.getKvs().get(0).getModRevision();
    return await(
            kv.txn()
                .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(rev)))
                .Then(Op.put(k, ByteSequence.from(value), PutOption.DEFAULT))
                .commit())
        .isSucceeded();
  }

  @Override
  public Subscription watch(String key) {
    LinkedBlockingQueue<byte[]> events = new LinkedBlockingQueue<>();
    ByteSequence k = bytes(key);
    KeyValue current = null;
    GetResponse now = await(client.getKVClient().get(k));
    if (now.getCount() > 0) {
      current = now.getKvs().get(0);
      events.add(current.getValue().getBytes());
    }
    Watch.Watcher w =
        client
            .getWatchClient()
            .watch(
                k,
                io.etcd.jetcd.options.WatchOption.builder()
                    .withRevision(current == null ? 0 : current.getModRevision() + 1)
                    .build(),
                response -> {
                  for (WatchEvent e : response.getEvents()) {
                    if (e.getEventType() == WatchEvent.EventType.PUT) {
                      events.add(e.getKeyValue().getValue().getBytes());
                    }
                  }
                });
    return new Subscription() {
      @Override
      public byte[] next(Duration timeout) throws InterruptedException {
        return events.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
      }

      @Override
      public void close() {
        w.close();
      }
    };
  }

  private static <T> T await(java.util.concurrent.CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause() == null ? e : e.getCause();
      throw new BenchException("jetcd: " + c, c);
    }
  }

  @Override
  public void close() {
    for (Client c : clients) {
      c.close();
    }
  }
}
