package io.libkv.storage.engine;

import java.nio.file.Path;

/**
 * A snapshot made by {@link KvEngine#snapshotTo}, described by what it contains.
 *
 * @param directory the directory holding the copy ({@code data.mdb})
 * @param appliedIndex the applied index stored inside the copy
 * @param lastRevision the highest revision inside the copy
 */
public record SnapshotInfo(Path directory, long appliedIndex, long lastRevision) {}
