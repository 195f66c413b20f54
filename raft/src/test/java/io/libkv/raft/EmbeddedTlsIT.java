package io.libkv.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.LibKV;
import io.libkv.store.Backend;
import io.libkv.store.Config;
import io.libkv.store.KVPair;
import io.libkv.store.KeyModifiedException;
import io.libkv.store.NotReachableException;
import io.libkv.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS on a live embedded cluster: members and clients with certificates from the cluster's
 * CA work; a client without a certificate, a client with a certificate from another CA, and a peer
 * with a certificate from another CA get nowhere, and the cluster stays healthy. Certificates and
 * CAs are made at run time ({@link TestPki}).
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class EmbeddedTlsIT {
  private static final Duration REFUSED_WITHIN = Duration.ofMillis(1500);

  @TempDir static Path dir;
  private static TestPki ca;
  private static TestPki foreignCa;

  /**
   * One TLS cluster for the tests that leave it as they found it: a cold JVM's first TLS cluster is
   * slow to start on a small machine.
   */
  private static EmbeddedCluster shared;

  @BeforeAll
  static void startSharedCluster() {
    ca = TestPki.newCa("libkv-cluster-ca", dir.resolve("pki"));
    foreignCa = TestPki.newCa("someone-elses-ca", dir.resolve("foreign-pki"));
    shared = tlsCluster(id -> ca.issueMember(id, dir.resolve("member")), dir.resolve("shared"));
    shared.awaitLeader();
  }

  @AfterAll
  static void stopSharedCluster() {
    if (shared != null) {
      shared.close();
    }
  }

  private static String chain(Throwable t) {
    StringBuilder sb = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      sb.append(c.getClass().getName()).append(": ").append(c.getMessage()).append("\n caused by ");
    }
    return sb.toString();
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static EmbeddedCluster tlsCluster(
      Function<String, Config.TlsFiles> memberFiles, Path baseDir) {
    return EmbeddedCluster.builder()
        .nodes(3)
        .baseDir(baseDir)
        .memberTls(memberFiles)
        // A cold JVM's first TLS handshakes are slow on a small machine: 300 ms elections
        // would time out over and over before the first leader.
        .config(Config.builder().option(RaftSettings.ELECTION_TIMEOUT_MS, "1000").build())
        .start();
  }

  private static Store client(EmbeddedCluster cluster, Config.Builder config) {
    return LibKV.newStore(Backend.EMBEDDED, cluster.endpoints(), config.build());
  }

  /** A client (or member) expected to be refused: it gives up after about two seconds. */
  private static Config.Builder refusedSoon(Config.Builder config) {
    return config.connectionTimeout(REFUSED_WITHIN).option(RaftSettings.REQUEST_TIMEOUT_MS, "500");
  }

  @Test
  void aThreeNodeTlsClusterServesPutsGetsAndCasToMembersAndClients() {
    EmbeddedCluster cluster = shared;
    try (Store member = cluster.openStore("n2");
        Store client = client(cluster, Config.builder().tls(ca.issue("app", dir.resolve("app"))))) {
      member.put("tls/a", b("1"), null);
      assertArrayEquals(b("1"), client.get("tls/a").value());
      KVPair created = client.atomicPut("tls/b", b("x"), null, null);
      KVPair updated = member.atomicPut("tls/b", b("y"), created, null);
      assertThrows(
          KeyModifiedException.class, () -> client.atomicPut("tls/b", b("z"), created, null));
      assertTrue(client.atomicDelete("tls/b", updated));
      assertEquals(List.of("tls/a"), member.list("tls").stream().map(KVPair::key).toList());
    }
  }

  /** The administration handle speaks the members' TLS, and is refused without the cluster's CA. */
  @Test
  void clusterAdministrationWorksOverTlsAndRefusesAForeignCertificate() {
    EmbeddedCluster cluster = shared;
    Config admin = Config.builder().tls(ca.issue("admin", dir.resolve("admin"))).build();
    try (ClusterAdmin a = ClusterAdmin.connect(cluster.endpoints(), admin)) {
      List<MemberStatus> members = a.members();
      assertEquals(3, members.size(), "" + members);
      for (MemberStatus m : members) {
        assertTrue(m.failure().isEmpty(), "" + m);
        assertTrue(m.term() > 0, "" + m);
      }
      assertEquals(
          1,
          members.stream().filter(m -> m.role() == MemberStatus.Role.LEADER).count(),
          "" + members);
    }
    Path bundle = TestPki.bundle(dir.resolve("admin-both-cas.pem"), foreignCa, ca);
    Config foreign =
        refusedSoon(
                Config.builder()
                    .tls(foreignCa.issue("admin-intruder", dir.resolve("admin-intruder"), bundle)))
            .build();
    try (ClusterAdmin a = ClusterAdmin.connect(cluster.endpoints(), foreign)) {
      NotReachableException e = assertThrows(NotReachableException.class, a::members);
      assertTrue(e.getMessage().contains("TLS"), () -> chain(e));
      assertThrows(RuntimeException.class, () -> a.transferLeadership("n1"));
    }
  }

  /**
   * A certificate named by the revocation list of {@code embedded.tlsCrl} is refused by the member
   * on a new connection; rewriting the list revokes another without a restart. A list the cluster's
   * CA did not sign, or one without TLS, is refused when the settings are read.
   */
  @Test
  void revokedCertificatesAreRefusedAndARewrittenListTakesEffect() throws Exception {
    Files.createDirectories(dir.resolve("crl"));
    Path crl = dir.resolve("crl/cluster.crl");
    Config.TlsFiles memberFiles = ca.issueMember("n1", dir.resolve("member-crl"));
    Config.TlsFiles early = ca.issue("early", dir.resolve("early"));
    Config.TlsFiles later = ca.issue("later", dir.resolve("later"));
    ca.revocationList(crl, early);
    Config members =
        Config.builder()
            .tls(memberFiles)
            .option(RaftSettings.ELECTION_TIMEOUT_MS, "1000")
            .option(RaftSettings.TLS_CRL, crl.toString())
            .build();
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder()
            .nodes(1)
            .baseDir(dir.resolve("crl-cluster"))
            .config(members)
            .start()) {
      cluster.awaitLeader();
      try (Store revoked = client(cluster, refusedSoon(Config.builder().tls(early)))) {
        NotReachableException e =
            assertThrows(NotReachableException.class, () -> revoked.get("crl/k"));
        assertTrue(e.getMessage().contains("TLS"), () -> chain(e));
      }
      try (Store s = client(cluster, Config.builder().tls(later))) {
        s.put("crl/k", b("v"), null);
      }
      ca.revocationList(crl, early, later);
      try (Store nowRevoked = client(cluster, refusedSoon(Config.builder().tls(later)))) {
        assertThrows(NotReachableException.class, () -> nowRevoked.get("crl/k"));
      }
      try (Store s = cluster.openStore()) {
        assertArrayEquals(b("v"), s.get("crl/k").value(), "the member is unharmed");
      }
    }
    Path foreignList = foreignCa.revocationList(dir.resolve("crl/foreign.crl"));
    IllegalArgumentException unsigned =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RaftSettings.of(
                    members.toBuilder()
                        .option(RaftSettings.TLS_CRL, foreignList.toString())
                        .build()));
    assertTrue(unsigned.getMessage().contains(foreignList.toString()), unsigned.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            RaftSettings.of(Config.builder().option(RaftSettings.TLS_CRL, crl.toString()).build()));
  }

  /** The certificate a member presents to a new connection, read with a bare TLS handshake. */
  private static X509Certificate presented(EmbeddedCluster cluster, String id, Config.TlsFiles as)
      throws Exception {
    RaftTls tls = RaftSettings.of(Config.builder().tls(as).build()).tls;
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(new KeyManager[] {tls.keyManager}, new TrustManager[] {tls.trustManager}, null);
    String endpoint = cluster.node(id).endpoint();
    String hostPort = endpoint.substring(endpoint.indexOf('=') + 1);
    int colon = hostPort.lastIndexOf(':');
    try (SSLSocket s =
        (SSLSocket)
            ctx.getSocketFactory()
                .createSocket(
                    hostPort.substring(0, colon),
                    Integer.parseInt(hostPort.substring(colon + 1)))) {
      SSLParameters p = s.getSSLParameters();
      p.setApplicationProtocols(new String[] {"h2"});
      s.setSSLParameters(p);
      s.setSoTimeout(10_000);
      s.startHandshake();
      return (X509Certificate) s.getSession().getPeerCertificates()[0];
    }
  }

  /**
   * A member's certificate and key rewritten in place take effect on new connections without a
   * restart; a half-written pair (the new key beside the old certificate) is not used.
   */
  @Test
  void aMembersCertificateRewrittenInPlaceIsPresentedWithoutARestart() throws Exception {
    Config.TlsFiles memberFiles = ca.issueMember("n1", dir.resolve("member-rot"));
    Config.TlsFiles app = ca.issue("app-rot", dir.resolve("app-rot"));
    try (EmbeddedCluster cluster =
        EmbeddedCluster.builder()
            .nodes(1)
            .baseDir(dir.resolve("rot-cluster"))
            .config(
                Config.builder()
                    .tls(memberFiles)
                    .option(RaftSettings.ELECTION_TIMEOUT_MS, "1000")
                    .build())
            .start()) {
      cluster.awaitLeader();
      X509Certificate before = presented(cluster, "n1", app);
      Config.TlsFiles fresh = ca.issueMember("n1", dir.resolve("member-rot-2"));
      // Half-written: the new key beside the old certificate. Not used: the old pair still serves.
      Files.copy(fresh.keyFile(), memberFiles.keyFile(), StandardCopyOption.REPLACE_EXISTING);
      assertEquals(before.getSerialNumber(), presented(cluster, "n1", app).getSerialNumber());
      Files.copy(fresh.certFile(), memberFiles.certFile(), StandardCopyOption.REPLACE_EXISTING);
      X509Certificate after = presented(cluster, "n1", app);
      assertNotEquals(before.getSerialNumber(), after.getSerialNumber(), "still the old one");
      assertEquals(certificate(fresh).getSerialNumber(), after.getSerialNumber());
      try (Store s = client(cluster, Config.builder().tls(app))) {
        s.put("rot/k", b("v"), null);
        assertArrayEquals(b("v"), s.get("rot/k").value());
      }
    }
  }

  @Test
  void clientsWithoutACertificateOrWithAForeignOneAreRefused() {
    EmbeddedCluster cluster = shared;
    try (Store s = cluster.openStore()) {
      s.put("secret", b("s3cr3t"), null);
    }
    // Locally: a TLS config without a client certificate cannot work on a mutual-TLS cluster.
    Config.TlsFiles caOnly = new Config.TlsFiles(null, null, ca.caFile);
    IllegalArgumentException noCert =
        assertThrows(
            IllegalArgumentException.class, () -> client(cluster, Config.builder().tls(caOnly)));
    assertTrue(noCert.getMessage().contains("certificate"), noCert.getMessage());

    // A certificate from another CA (the client itself trusts the cluster's CA too).
    Path bundle = TestPki.bundle(dir.resolve("both-cas.pem"), foreignCa, ca);
    Config.TlsFiles foreign = foreignCa.issue("intruder", dir.resolve("intruder"), bundle);
    try (Store intruder = client(cluster, refusedSoon(Config.builder().tls(foreign)))) {
      NotReachableException e =
          assertThrows(NotReachableException.class, () -> intruder.get("secret"));
      assertTrue(e.getMessage().contains("TLS"), e.getMessage());
      NotReachableException w =
          assertThrows(NotReachableException.class, () -> intruder.put("x", b("1"), null));
      assertTrue(w.getMessage().contains("TLS"), w.getMessage());
    }
    // No TLS at all.
    try (Store plain = client(cluster, refusedSoon(Config.builder()))) {
      NotReachableException e =
          assertThrows(NotReachableException.class, () -> plain.get("secret"));
      assertTrue(e.getMessage().contains("TLS"), () -> chain(e));
    }
    // The cluster is unharmed and nothing was written.
    try (Store s = cluster.openStore()) {
      assertArrayEquals(b("s3cr3t"), s.get("secret").value());
      assertFalse(s.exists("x"));
    }
  }

  @Test
  void aPeerWithAForeignCertificateCannotTakeAMembersPlaceNorWinVotes() throws Exception {
    EmbeddedCluster cluster = shared;
    EmbeddedNode leader = cluster.awaitLeader();
    String victim =
        cluster.runningIds().stream()
            .filter(id -> !id.equals(leader.id()))
            .findFirst()
            .orElseThrow();
    try (Store s = cluster.openStore(leader.id())) {
      s.put("before", b("1"), null);
    }
    long term = leader.member().currentTerm();
    cluster.stop(victim);
    // An impostor on the stopped member's address, with its id, an empty directory and a
    // certificate from another CA: without TLS it would be sent the log and could vote.
    Config impostorConfig =
        Config.builder()
            .tls(foreignCa.issueMember(victim, dir.resolve("impostor-pki")))
            .nodeId(victim)
            .dataDir(dir.resolve("impostor"))
            .connectionTimeout(REFUSED_WITHIN)
            .option(RaftSettings.REQUEST_TIMEOUT_MS, "500")
            .option(RaftSettings.ELECTION_TIMEOUT_MS, "300")
            .build();
    try (EmbeddedNode impostor = EmbeddedNode.start(cluster.endpoints(), impostorConfig);
        Store onImpostor = impostor.openStore();
        Store s = cluster.openStore(leader.id())) {
      // The cluster (two of three) goes on writing while the impostor campaigns.
      for (int i = 0; i < 20; i++) {
        s.put("during/" + i, b("v" + i), null);
      }
      NotReachableException e =
          assertThrows(NotReachableException.class, () -> onImpostor.put("evil", b("1"), null));
      assertTrue(e.getMessage().contains("TLS"), e.getMessage());
      assertFalse(impostor.knowsLeader(), "the impostor never heard from the leader");
      assertEquals(0, impostor.appliedIndex(), "the impostor was sent no log entry");
      assertTrue(leader.isLeader(), "the leader kept its place");
      assertEquals(term, leader.member().currentTerm(), "no election was forced");
      assertFalse(s.exists("evil"));
    }
    // The real member comes back and catches up.
    EmbeddedNode back = cluster.restart(victim);
    try (Store s = back.openStore()) {
      assertArrayEquals(b("v19"), s.get("during/19").value());
    }
  }

  /** The certificate of a PEM file. */
  private static X509Certificate certificate(Config.TlsFiles files) throws Exception {
    try (java.io.InputStream in = Files.newInputStream(files.certFile())) {
      return (X509Certificate)
          java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  @Test
  void aMemberStartsOnlyWithACertificateThatNamesIt() {
    EmbeddedCluster cluster = shared;
    Config.Builder asN9 = refusedSoon(Config.builder()).nodeId("n9").dataDir(dir.resolve("n9"));
    IllegalArgumentException client =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                EmbeddedNode.join(
                    cluster.endpoints(),
                    asN9.tls(ca.issue("app-n9", dir.resolve("app-n9"))).build()));
    assertTrue(client.getMessage().contains("names no member"), client.getMessage());
    assertTrue(client.getMessage().contains("URI:libkv://member/n9"), client.getMessage());
    IllegalArgumentException other =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                EmbeddedNode.join(
                    cluster.endpoints(),
                    asN9.tls(ca.issueMember("n2", dir.resolve("n2-for-n9"))).build()));
    assertTrue(other.getMessage().contains("names member n2"), other.getMessage());
  }

  /**
   * A Ratis server with none of libkv's checks, on member {@code id}'s address with {@code files}:
   * what a modified member, or a plain Ratis server with a stolen key, would be.
   */
  private static RaftServer impostor(
      EmbeddedCluster cluster, String id, Config.TlsFiles files, Path where) throws Exception {
    RaftGroup group = cluster.node(cluster.runningIds().get(0)).member().group;
    RaftPeer peer = group.getPeer(RaftPeerId.valueOf(id));
    // A client's settings (no member id, so its own certificate is not checked) on a member's port.
    RaftSettings settings =
        RaftSettings.of(
            Config.builder()
                .tls(files)
                .option(RaftSettings.ELECTION_TIMEOUT_MS, "300")
                .option(RaftSettings.REQUEST_TIMEOUT_MS, "500")
                .build());
    RaftProperties p = settings.serverProperties(peer, where);
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftServer server =
        RaftServer.newBuilder()
            .setServerId(peer.getId())
            .setGroup(group)
            .setStateMachine(new BaseStateMachine())
            .setProperties(p)
            .setParameters(settings.parameters())
            .build();
    server.start();
    return server;
  }

  /**
   * Whoever holds a certificate from the cluster's CA cannot take a member's part unless the
   * certificate names that member: a client's certificate is refused as a voter and as a server
   * (the leader sends it nothing), and a member's certificate cannot speak for another member. The
   * members say who they refused and why.
   */
  @Test
  void peerCallsNeedTheCertificateOfTheMemberTheyClaimToComeFrom() throws Exception {
    EmbeddedCluster cluster = shared;
    EmbeddedNode leader = cluster.awaitLeader();
    List<String> others =
        cluster.runningIds().stream().filter(id -> !id.equals(leader.id())).toList();
    String victim = others.get(0);
    EmbeddedNode witness = cluster.node(others.get(1));
    try (Store s = cluster.openStore(leader.id())) {
      s.put("roles/before", b("1"), null);
    }
    long term = leader.member().currentTerm();
    cluster.stop(victim);
    try {
      // 1. A client's certificate from the cluster's CA, claiming the stopped member's id.
      long refusedBefore = witness.member().peerCheck.refused();
      RaftServer client =
          impostor(
              cluster,
              victim,
              ca.issue("client-as-member", dir.resolve("client-as-member")),
              dir.resolve("impostor-client"));
      try (Store s = cluster.openStore(leader.id())) {
        EmbeddedClusterIT.waitUntil(
            () -> witness.member().peerCheck.refused() > refusedBefore,
            Duration.ofSeconds(30),
            "the witness to refuse the impostor's vote requests");
        String why = witness.member().peerCheck.lastRefusal();
        assertTrue(why.contains("as member " + victim), why);
        assertTrue(why.contains("CN=client-as-member"), why);
        assertTrue(why.contains("names no member"), why);
        for (int i = 0; i < 10; i++) {
          s.put("roles/client/" + i, b("v"), null);
        }
        RaftServer.Division d = client.getDivision(leader.member().group.getGroupId());
        assertEquals(
            null,
            d.getRaftLog().getLastEntryTermIndex(),
            "the leader refused the impostor as a server: it was sent no entry");
        assertFalse(d.getInfo().isLeader());
      } finally {
        client.close();
      }
      // 2. A member's certificate (the witness's) claiming to be the stopped member, on its
      // address.
      long refusedThen = leader.member().peerCheck.refused();
      RaftServer other =
          impostor(
              cluster,
              victim,
              ca.issueMember(witness.id(), dir.resolve("member-as-other")),
              dir.resolve("impostor-member"));
      try (Store s = cluster.openStore(leader.id())) {
        EmbeddedClusterIT.waitUntil(
            () -> leader.member().peerCheck.refused() > refusedThen,
            Duration.ofSeconds(30),
            "the leader to refuse the impostor's vote requests");
        String why = leader.member().peerCheck.lastRefusal();
        assertTrue(why.contains("names member " + witness.id() + ", not " + victim), why);
        for (int i = 0; i < 10; i++) {
          s.put("roles/member/" + i, b("v"), null);
        }
        assertEquals(
            null,
            other
                .getDivision(leader.member().group.getGroupId())
                .getRaftLog()
                .getLastEntryTermIndex(),
            "at the stopped member's address the leader wants that member's certificate: it sent"
                + " the impostor no entry");
      } finally {
        other.close();
      }
      assertTrue(leader.isLeader(), "the leader kept its place");
      assertEquals(term, leader.member().currentTerm(), "no election was forced");
    } finally {
      cluster.restart(victim);
    }
    // The real member comes back and catches up.
    try (Store s = cluster.openStore(victim)) {
      assertArrayEquals(b("v"), s.get("roles/client/9").value());
    }
  }

  @Test
  void aClientRefusesAMemberWhoseCertificateDoesNotNameItsHost() {
    // Signed by the right CA, but for another host than the endpoint's 127.0.0.1.
    Config.TlsFiles elsewhere =
        ca.issueMemberForHost("n1", dir.resolve("elsewhere-member"), "elsewhere.invalid");
    try (EmbeddedCluster cluster =
            EmbeddedCluster.builder()
                .nodes(1)
                .baseDir(dir.resolve("one"))
                .config(Config.builder().tls(elsewhere).build())
                .start();
        Store client =
            client(
                cluster,
                refusedSoon(Config.builder().tls(ca.issue("app", dir.resolve("elsewhere-app")))))) {
      NotReachableException e = assertThrows(NotReachableException.class, () -> client.get("k"));
      assertTrue(e.getMessage().contains("refused by TLS"), e.getMessage());
      assertTrue(e.getMessage().contains("127.0.0.1"), e.getMessage());
    }
  }

  /** Nine rolling restarts: about 40 s on a loaded 2-core machine, so in the slow profile. */
  @Test
  void certificatesAndTheirCaAreReplacedByRollingRestarts() {
    TestPki newCa = TestPki.newCa("new-ca", dir.resolve("new-pki"));
    Path bundle = TestPki.bundle(dir.resolve("old-and-new-ca.pem"), ca, newCa);
    Function<String, Config.TlsFiles> old = id -> ca.issueMember(id, dir.resolve("rotation-pki"));
    // 1. every member trusts both CAs; 2. every member presents a certificate of the new CA;
    // 3. every member trusts only the new CA. The cluster serves writes throughout.
    List<Function<String, Config.TlsFiles>> steps =
        List.of(
            id -> {
              Config.TlsFiles o = old.apply(id);
              return new Config.TlsFiles(o.certFile(), o.keyFile(), bundle);
            },
            id -> newCa.issueMember(id, dir.resolve("member-2"), bundle),
            id -> newCa.issueMember(id, dir.resolve("member-3")));
    try (EmbeddedCluster cluster = tlsCluster(old, dir.resolve("rotation"))) {
      cluster.awaitLeader();
      int written = 0;
      for (Function<String, Config.TlsFiles> step : steps) {
        for (String id : List.of("n1", "n2", "n3")) {
          cluster.stop(id);
          EmbeddedNode n =
              cluster.restart(
                  id,
                  Config.builder()
                      .tls(step.apply(id))
                      .option(RaftSettings.ELECTION_TIMEOUT_MS, "1000")
                      .build());
          try (Store s = n.openStore()) {
            s.put("rotation/" + written, b("v"), null);
            written++;
          }
        }
      }
      try (Store client =
          client(cluster, Config.builder().tls(newCa.issue("app", dir.resolve("new-app"))))) {
        assertEquals(9, client.list("rotation").size());
      }
      Config.TlsFiles oldClient = ca.issue("old-app", dir.resolve("old-app"), bundle);
      try (Store client = client(cluster, refusedSoon(Config.builder().tls(oldClient)))) {
        NotReachableException e =
            assertThrows(NotReachableException.class, () -> client.get("rotation/0"));
        assertTrue(e.getMessage().contains("refused by TLS"), e.getMessage());
      }
    }
  }
}
