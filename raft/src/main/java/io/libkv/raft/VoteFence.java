package io.libkv.raft;

import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.StampedLock;
import org.apache.ratis.client.ClientFactory;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.ReadIndexReplyProto;
import org.apache.ratis.proto.RaftProtos.ReadIndexRequestProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.rpc.RpcFactory;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerRpc;
import org.apache.ratis.server.ServerFactory;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;

/**
 * Makes a member decide a vote only once every AppendEntries it has begun has appended its entries.
 *
 * <p>Ratis 3.3.0 checks an AppendEntries request's term under the server's lock, releases the lock,
 * waits for the change to follower that the request may have started (seconds, for a leader
 * stepping down under load), and only then appends the entries; it answers success with the term it
 * read first. A vote request handled in between compares the candidate's log with a log that does
 * not hold those entries yet: a member can vote for a candidate whose log lacks entries that this
 * member then acknowledges to the old leader, which counts them as committed. The new leader
 * overwrites them: an acknowledged write lost. The jepsen-lite short profile found exactly this (a
 * put acknowledged at index 4,764 of term 2, on the old leader and on the member that voted, absent
 * from the log of the term-3 leader both followed).
 *
 * <p>This fence wraps the server that the transport dispatches to: appends that carry entries hold
 * a shared stamp from their call until their reply is ready (for an asynchronous append, until its
 * future completes); a vote takes the exclusive stamp, so it waits for those appends and later ones
 * wait for it. A vote that cannot have the stamp within {@code maxWait} is refused with an {@link
 * IOException} (as if it were lost): refusing a vote is always safe, granting one is not.
 * Heartbeats (no entries) and every other call pass unfenced.
 *
 * <p>The transport uses it through {@link Netty} or {@link Grpc}, the {@code raft.rpc.type} of
 * every member (its clients keep the plain type). Being the member's door to its transport, the
 * same wrapper hands the member's linearizable reads and followers' ReadIndex requests to the
 * member's {@link ReadIndexRounds} (passed in the Ratis parameters), and its factory gives each log
 * appender a leader state that reports replies to those rounds.
 */
final class VoteFence implements InvocationHandler {
  /**
   * How long a vote waits for begun appends before it is refused: long enough for a slow fsync
   * under load; a refused candidate asks again in its next round.
   */
  static final Duration MAX_WAIT = Duration.ofSeconds(5);

  private final RaftServer server;
  private final long maxWaitNs;
  private final StampedLock lock = new StampedLock();
  // The member's leadership checks of linearizable reads, or null (a server built without them).
  private final ReadIndexRounds reads;

  private VoteFence(RaftServer server, Duration maxWait, ReadIndexRounds reads) {
    this.server = server;
    this.maxWaitNs = maxWait.toNanos();
    this.reads = reads;
  }

  /** {@code server}, with its votes ordered after its begun appends. */
  static RaftServer wrap(RaftServer server, Duration maxWait) {
    return wrap(server, maxWait, null);
  }

  /**
   * {@code server}, with its votes ordered after its begun appends and, if {@code reads} is not
   * null, the linearizable reads and ReadIndex requests it leads confirmed by {@code reads}.
   */
  static RaftServer wrap(RaftServer server, Duration maxWait, ReadIndexRounds reads) {
    return (RaftServer)
        Proxy.newProxyInstance(
            VoteFence.class.getClassLoader(),
            new Class<?>[] {RaftServer.class},
            new VoteFence(server, maxWait, reads));
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    switch (method.getName()) {
      case "requestVote":
        return vote(method, args);
      case "appendEntries":
        if (carriesEntries(args)) {
          long stamp = lock.readLock();
          try {
            return call(method, args);
          } finally {
            lock.unlockRead(stamp);
          }
        }
        return call(method, args);
      case "appendEntriesAsync":
        if (carriesEntries(args)) {
          long stamp = lock.readLock();
          CompletableFuture<?> f;
          try {
            f = (CompletableFuture<?>) call(method, args);
          } catch (Throwable t) {
            lock.unlockRead(stamp);
            throw t;
          }
          if (f == null) {
            lock.unlockRead(stamp);
            return null;
          }
          return f.whenComplete((r, e) -> lock.unlockRead(stamp));
        }
        return call(method, args);
      case "submitClientRequestAsync":
        if (reads != null && args != null && args[0] instanceof RaftClientRequest r) {
          return reads.submit(server, r);
        }
        return call(method, args);
      case "submitClientRequest":
        if (reads != null && args != null && args[0] instanceof RaftClientRequest r) {
          return await(reads.submit(server, r));
        }
        return call(method, args);
      case "readIndexAsync":
        if (reads != null && args != null && args[0] instanceof ReadIndexRequestProto r) {
          @SuppressWarnings("unchecked")
          CompletableFuture<ReadIndexReplyProto> f =
              (CompletableFuture<ReadIndexReplyProto>) call(method, args);
          return f.thenCompose(reply -> reads.confirmReadIndex(server, r, reply));
        }
        return call(method, args);
      case "equals":
        return proxy == args[0];
      case "hashCode":
        return System.identityHashCode(proxy);
      case "toString":
        return "VoteFence(" + server + ")";
      default:
        return call(method, args);
    }
  }

  private Object vote(Method method, Object[] args) throws Throwable {
    long stamp;
    try {
      stamp = lock.tryWriteLock(maxWaitNs, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(
          server.getId() + ": interrupted while ordering a vote after appends", e);
    }
    if (stamp == 0) {
      throw new IOException(
          server.getId()
              + ": vote refused: appends begun "
              + TimeUnit.NANOSECONDS.toMillis(maxWaitNs)
              + " ms ago have not finished, and a vote must see their entries");
    }
    try {
      return call(method, args);
    } finally {
      lock.unlockWrite(stamp);
    }
  }

  /** The blocking form of a client request, as Ratis' own: waits for the reply. */
  private static RaftClientReply await(CompletableFuture<RaftClientReply> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while waiting for a reply");
    } catch (ExecutionException e) {
      Throwable t = e.getCause();
      if (t instanceof IOException io) {
        throw io;
      }
      throw new IOException(t);
    }
  }

  private static boolean carriesEntries(Object[] args) {
    return args != null
        && args.length == 1
        && args[0] instanceof AppendEntriesRequestProto r
        && r.getEntriesCount() > 0;
  }

  private Object call(Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(server, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** A transport's factory whose server side dispatches through a {@link VoteFence}. */
  private static final class Factory implements ServerFactory, ClientFactory {
    private final RpcType type;
    private final ServerFactory server;
    private final ClientFactory client;
    private final Duration maxWait;
    private final ReadIndexRounds reads;

    Factory(RpcType type, SupportedRpcType transport, Parameters parameters, Duration maxWait) {
      RpcFactory f = transport.newFactory(parameters);
      this.type = type;
      this.server = ServerFactory.cast(f);
      this.client = ClientFactory.cast(f);
      this.maxWait = maxWait;
      this.reads =
          parameters == null
              ? null
              : parameters.get(ReadIndexRounds.PARAMETER, ReadIndexRounds.class);
    }

    @Override
    public RpcType getRpcType() {
      return type;
    }

    @Override
    public RaftServerRpc newRaftServerRpc(RaftServer s) {
      return server.newRaftServerRpc(wrap(s, maxWait, reads));
    }

    @Override
    public LogAppender newLogAppender(RaftServer.Division d, LeaderState l, FollowerInfo f) {
      if (reads == null) {
        return server.newLogAppender(d, l, f);
      }
      // The appender reports its replies through the leader state it is given: the rounds see
      // every reply, then Ratis handles it as before.
      LogAppender a = server.newLogAppender(d, reads.observe(l), f);
      reads.started(l, a);
      return a;
    }

    @Override
    public RaftClientRpc newRaftClientRpc(ClientId clientId, RaftProperties properties) {
      return client.newRaftClientRpc(clientId, properties);
    }
  }

  /**
   * A Ratis transport, fenced. Ratis instantiates a member's {@code raft.rpc.type} from its class
   * name, so each transport is a class with a no-argument constructor.
   */
  private abstract static class Fenced implements RpcType {
    private final SupportedRpcType transport;

    Fenced(SupportedRpcType transport) {
      this.transport = transport;
    }

    @Override
    public String name() {
      return getClass().getName();
    }

    @Override
    public RpcFactory newFactory(Parameters parameters) {
      return new Factory(this, transport, parameters, MAX_WAIT);
    }
  }

  /** Ratis' Netty transport, fenced. */
  static final class Netty extends Fenced {
    Netty() {
      super(SupportedRpcType.NETTY);
    }
  }

  /** Ratis' gRPC transport, fenced. */
  static final class Grpc extends Fenced {
    Grpc() {
      super(SupportedRpcType.GRPC);
    }
  }

  /** The fenced form of {@code transport}, for a member's {@code raft.rpc.type}. */
  static RpcType of(SupportedRpcType transport) {
    return switch (transport) {
      case NETTY -> new Netty();
      case GRPC -> new Grpc();
      default -> throw new IllegalArgumentException("no fenced form of " + transport);
    };
  }
}
