package io.libkv.micrometer;

import io.libkv.raft.EmbeddedNode;
import io.libkv.raft.MemberCounters;
import io.libkv.raft.MemberStatus;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;

/**
 * The state of one embedded member ({@link EmbeddedNode}) as Micrometer meters:
 *
 * <pre>{@code
 * new EmbeddedMemberMetrics(node).bindTo(registry);
 * }</pre>
 *
 * <p>Every meter carries the tag {@value #MEMBER_TAG} (the member's id). Gauges, read from {@link
 * EmbeddedNode#status()} and {@link EmbeddedNode#counters()}:
 *
 * <ul>
 *   <li>{@code libkv.member.role}, tagged {@value #ROLE_TAG} ({@code leader}, {@code follower},
 *       {@code candidate}, {@code learner}, {@code stopped}): one gauge per role, 1 for the
 *       member's current role and 0 for the others;
 *   <li>{@code libkv.member.term}: the current Raft term ({@code -1} while the Raft server is not
 *       running);
 *   <li>{@code libkv.member.commit.index}, {@code libkv.member.applied.index}: the highest log
 *       index known committed, and applied to the member's copy of the data;
 *   <li>{@code libkv.member.log.size} (bytes): the Raft log segments on disk;
 *   <li>{@code libkv.member.snapshot.index} ({@code -1} if none) and {@code
 *       libkv.member.snapshot.size} (bytes): the latest snapshot;
 *   <li>{@code libkv.member.disk.free} (bytes): usable space on the data directory's file system;
 *   <li>{@code libkv.member.ready}: 1 when the member knows a leader and has applied up to the
 *       commit index it heard of ({@link MemberStatus#ready()}), else 0;
 *   <li>{@code libkv.member.watches.open}: open key and tree watches of the member's stores;
 *   <li>{@code libkv.member.leases.live}: leases in the data (locks, keys with a TTL); {@code -1}
 *       once the node is closed;
 *   <li>{@code libkv.member.writes.queued}: writes of the member's stores queued or sent and not
 *       yet answered;
 * </ul>
 *
 * and one counter, {@code libkv.member.watch.events.dropped}: events the watches dropped to
 * coalesce for slow readers since the member started.
 *
 * <p><b>Cost.</b> {@link EmbeddedNode#status()} lists the log and snapshot files; the meters share
 * one reading of it and of the counters, taken at most once per {@value #SAMPLE_MILLIS} ms, so a
 * scrape reads them once. Values may therefore be up to that old. A closed node still answers (its
 * role reads {@code stopped}).
 *
 * <p>Thread-safe; may be bound to several registries.
 */
public final class EmbeddedMemberMetrics implements MeterBinder {
  /** The tag naming the member, on every meter. */
  public static final String MEMBER_TAG = "member";

  /** The tag naming a role on the {@code libkv.member.role} gauges. */
  public static final String ROLE_TAG = "role";

  /** How long one reading of the member's status serves the meters, in milliseconds. */
  public static final long SAMPLE_MILLIS = 100;

  private record Sample(MemberStatus status, MemberCounters counters) {}

  private final String memberId;
  private final Sampler<Sample> sampler;

  /**
   * Creates the meters' source for {@code node}; nothing is registered until {@link #bindTo}.
   *
   * @throws NullPointerException if {@code node} is {@code null}
   */
  public EmbeddedMemberMetrics(EmbeddedNode node) {
    this(node, System::nanoTime, Duration.ofMillis(SAMPLE_MILLIS));
  }

  EmbeddedMemberMetrics(EmbeddedNode node, LongSupplier nanoClock, Duration sampleAge) {
    Objects.requireNonNull(node, "node");
    this.memberId = node.id();
    this.sampler =
        new Sampler<>(
            () -> new Sample(node.status(), node.counters()), nanoClock, sampleAge.toNanos());
  }

  /**
   * Registers this member's meters (listed in the class description) in {@code registry}. Binding
   * the same member to the same registry twice registers nothing new.
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    Tags tags = Tags.of(MEMBER_TAG, memberId);
    for (MemberStatus.Role role : MemberStatus.Role.values()) {
      Gauge.builder("libkv.member.role", this, m -> m.status().role() == role ? 1 : 0)
          .description("1 for the member's current Raft role, 0 for the others")
          .tags(tags.and(Tag.of(ROLE_TAG, role.name().toLowerCase(Locale.ROOT))))
          .strongReference(true)
          .register(registry);
    }
    gauge(
        registry, tags, "libkv.member.term", "The member's current Raft term", null, s -> s.term());
    gauge(
        registry,
        tags,
        "libkv.member.commit.index",
        "The highest Raft log index the member knows to be committed",
        null,
        s -> s.commitIndex());
    gauge(
        registry,
        tags,
        "libkv.member.applied.index",
        "The highest Raft log index applied to the member's copy of the data",
        null,
        s -> s.appliedIndex());
    gauge(
        registry,
        tags,
        "libkv.member.log.size",
        "Raft log segments on the member's disk",
        BaseUnits.BYTES,
        s -> s.logBytes());
    gauge(
        registry,
        tags,
        "libkv.member.snapshot.index",
        "The log index of the member's latest snapshot, -1 if none",
        null,
        s -> s.snapshotIndex());
    gauge(
        registry,
        tags,
        "libkv.member.snapshot.size",
        "The member's latest snapshot file",
        BaseUnits.BYTES,
        s -> s.snapshotBytes());
    gauge(
        registry,
        tags,
        "libkv.member.disk.free",
        "Usable space on the file system of the member's data directory",
        BaseUnits.BYTES,
        s -> s.diskFreeBytes());
    gauge(
        registry,
        tags,
        "libkv.member.ready",
        "1 when the member knows a leader and has applied up to the commit index, else 0",
        null,
        s -> s.ready() ? 1 : 0);
    Gauge.builder("libkv.member.watches.open", this, m -> m.counters().openWatches())
        .description("Open key and tree watches of the member's stores")
        .tags(tags)
        .strongReference(true)
        .register(registry);
    Gauge.builder("libkv.member.leases.live", this, m -> m.counters().liveLeases())
        .description("Leases in the member's data (locks, keys with a TTL); -1 once closed")
        .tags(tags)
        .strongReference(true)
        .register(registry);
    Gauge.builder("libkv.member.writes.queued", this, m -> m.counters().queuedWrites())
        .description("Writes of the member's stores queued or sent and not yet answered")
        .tags(tags)
        .strongReference(true)
        .register(registry);
    FunctionCounter.builder(
            "libkv.member.watch.events.dropped", this, m -> m.counters().droppedWatchEvents())
        .description("Events the member's watches dropped to coalesce for slow readers")
        .tags(tags)
        .register(registry);
  }

  private void gauge(
      MeterRegistry registry,
      Tags tags,
      String name,
      String description,
      String baseUnit,
      ToDoubleFunction<MemberStatus> value) {
    Gauge.builder(name, this, m -> value.applyAsDouble(m.status()))
        .description(description)
        .tags(tags)
        .baseUnit(baseUnit)
        .strongReference(true)
        .register(registry);
  }

  private MemberStatus status() {
    return sampler.get().status();
  }

  private MemberCounters counters() {
    return sampler.get().counters();
  }

  @Override
  public String toString() {
    return "EmbeddedMemberMetrics[" + memberId + "]";
  }
}
