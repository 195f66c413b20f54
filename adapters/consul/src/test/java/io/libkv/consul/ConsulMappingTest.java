package io.libkv.consul;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.libkv.store.CallNotSupportedException;
import io.libkv.store.Config;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Unit tests of the pure parts of the mapping: TTL arithmetic, key encoding, settings. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ConsulMappingTest {

  @Test
  void keyTtlsBecomeSessionsOfHalfTheirLength() {
    assertEquals(Duration.ofSeconds(10), ConsulStore.ttlSession(Duration.ofSeconds(20)));
    assertEquals(Duration.ofMillis(10_750), ConsulStore.ttlSession(Duration.ofMillis(21_500)));
    assertEquals(Duration.ofMillis(10_001), ConsulStore.ttlSession(Duration.ofMillis(20_001)));
    assertThrows(
        CallNotSupportedException.class, () -> ConsulStore.ttlSession(Duration.ofMillis(19_999)));
    assertThrows(CallNotSupportedException.class, () -> ConsulStore.ttlSession(Duration.ofDays(3)));
  }

  @Test
  void lockTtlsBecomeSessionsOfHalfTheirLengthButAtLeastTenSeconds() {
    assertEquals(Duration.ofSeconds(10), ConsulLocker.sessionTtl(Duration.ofSeconds(1)));
    assertEquals(Duration.ofSeconds(10), ConsulLocker.sessionTtl(Duration.ofSeconds(15)));
    assertEquals(Duration.ofSeconds(15), ConsulLocker.sessionTtl(Duration.ofSeconds(30)));
    assertEquals(Duration.ofSeconds(86_400), ConsulLocker.sessionTtl(Duration.ofDays(5)));
  }

  @Test
  void keysArePercentEncodedExceptUnreservedCharactersAndSlashes() {
    assertEquals("kv/a/b-c_d.e~f", ConsulPaths.kv("a/b-c_d.e~f"));
    assertEquals("kv/a%20b/%C3%A9/%3F%23%25%2B%26", ConsulPaths.kv("a b/é/?#%+&"));
    assertEquals("dc%2F1", ConsulPaths.encodeQueryValue("dc/1"));
  }

  @Test
  void durationsAreWrittenInMilliseconds() {
    assertEquals("10000ms", ConsulDurations.format(Duration.ofSeconds(10)));
  }

  @Test
  void endpointsDefaultToTheLocalAgentAndTakeTheSchemeFromTls() throws Exception {
    assertEquals(
        List.of("http://127.0.0.1:8500"),
        ConsulSettings.from(List.of(), Config.defaults()).endpoints());
    assertEquals(
        List.of("http://h:8500", "https://g:8501"),
        ConsulSettings.from(List.of("h", "https://g:8501/"), Config.defaults()).endpoints());
    Config tls = Config.builder().tls(javax.net.ssl.SSLContext.getDefault()).build();
    assertEquals(
        List.of("https://h:8501"), ConsulSettings.from(List.of("h:8501"), tls).endpoints());
    assertThrows(
        IllegalArgumentException.class,
        () -> ConsulSettings.from(List.of("ftp://h:1"), Config.defaults()));
    assertThrows(
        IllegalArgumentException.class,
        () -> ConsulSettings.from(List.of("http://h:1/v1"), Config.defaults()));
  }

  @Test
  void optionsAreCheckedAndTheTokenGoesInTheChosenHeader() {
    ConsulSettings s =
        ConsulSettings.from(
            List.of(),
            Config.builder()
                .password("t")
                .option("consul.tokenHeader", "bearer")
                .option("consul.watchWait", "2m")
                .option("consul.lockDelay", "15s")
                .option("other.backend.option", "ignored")
                .build());
    assertEquals("Authorization", s.tokenHeader());
    assertEquals("Bearer t", s.tokenValue("t"));
    assertEquals(Duration.ofMinutes(2), s.watchWait());
    assertEquals(Duration.ofSeconds(15), s.lockDelay());
    ConsulSettings plain = ConsulSettings.from(List.of(), Config.builder().password("t").build());
    assertEquals("X-Consul-Token", plain.tokenHeader());
    assertEquals("t", plain.tokenValue("t"));
    assertFalse(ConsulSettings.from(List.of(), Config.defaults()).token().isPresent());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ConsulSettings.from(
                    List.of(), Config.builder().option("consul.watchWait", "11m").build()));
    assertTrue(e.getMessage().contains("10m"), e.getMessage());
  }

  @Test
  void internalAndFolderKeysAreNotUserKeys() {
    assertTrue(ConsulStore.isUserKey("a/b"));
    assertFalse(ConsulStore.isUserKey("a/"));
    assertFalse(ConsulStore.isUserKey("__libkv/locks/a/x"));
    assertFalse(ConsulStore.isUserKey("__libkv"));
    assertTrue(ConsulStore.isUserKey("__libkvx"));
  }
}
