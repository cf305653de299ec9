using System.Collections.Concurrent;
using KdGat.Core.Hashing;

namespace KdGat.Core.NoOp;

/// <summary>
/// Every question a build asked the file system while it decided, with the answer it got: the
/// stat of a path, a regular file's identity, a directory's names, a symlink's target. Recorded
/// by the few places that ask (<see cref="PathStat.Of"/>, <see cref="FileIdentity.Of"/>, the
/// directory walk, ...) while a recorder is active for the current async flow; asked again, the
/// same questions give the same answers exactly when nothing the decision read has changed
/// (content by identity, under the hash cache's racy rule). That is what a
/// <see cref="NoOpCertificate"/> stores and replays.
/// </summary>
internal sealed class FileObservations
{
    /// <summary>The kinds of question; each answer is a string made by <see cref="Ask"/>, the same function at record and replay.</summary>
    public enum Probe
    {
        /// <summary><see cref="PathStat.Of"/>: kind, and a regular file's identity and x bit.</summary>
        Stat = 'S',
        /// <summary><see cref="FileIdentity.Of"/>.</summary>
        Identity = 'I',
        /// <summary>The names one directory lists (one level, ghosts and temp files included).</summary>
        List = 'L',
        /// <summary>readlink(2) of a path stat calls missing.</summary>
        Link = 'K',
        /// <summary><see cref="File.Exists"/>.</summary>
        FileExists = 'F',
        /// <summary><see cref="Directory.Exists"/>.</summary>
        DirectoryExists = 'D',
        /// <summary>Only what a path is (file, directory, missing, other): for a file whose bytes decide nothing (a lock).</summary>
        Kind = 'N',
        /// <summary>A symlink's final target (through a chain of links), in full.</summary>
        FinalTarget = 'T',
        /// <summary>An environment variable's value (its digest): one a stage declares or the configuration expands.</summary>
        Environment = 'E',
    }

    private static readonly AsyncLocal<FileObservations?> Active = new();

    private readonly ConcurrentDictionary<(Probe, string), string> _seen = new();
    /// <summary>The recorder that was active when this one started with <see cref="RecordAlso"/>: it gets every answer too.</summary>
    private FileObservations? _forward;
    private long _latestChangeNs = long.MinValue;
    private int _unusable;

    /// <summary>Observations recorded; the answers as (probe, path, answer).</summary>
    public IEnumerable<(Probe Probe, string Path, string Answer)> All => _seen.Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value));
    public int Count => _seen.Count;

    /// <summary>The newest ctime among the regular files observed (their identities vouch for content only when older than the build: racy rule).</summary>
    public long LatestChangeNs => Interlocked.Read(ref _latestChangeNs);

    /// <summary>
    /// False when an answer cannot vouch for what was read: the same question answered two ways
    /// (something changed during the build), or a file without a full identity (no statx).
    /// </summary>
    public bool Usable => Volatile.Read(ref _unusable) == 0;

    /// <summary>Records into <paramref name="into"/> for the rest of the current async flow (null: stops recording).</summary>
    public static void RecordInto(FileObservations? into) => Active.Value = into;

    /// <summary>
    /// While the result is not disposed, the current flow records into <paramref name="into"/> as
    /// well as into whatever recorded before (a pipeline load keeps its own answers, to ask them again
    /// before a later build of the process uses it, and the build's certificate still gets them).
    /// </summary>
    public static Forwarding RecordAlso(FileObservations into)
    {
        var was = Active.Value;
        into._forward = was;
        Active.Value = into;
        return new Forwarding(into, was);
    }

    /// <summary>Ends <see cref="RecordAlso"/>: the earlier recorder again, and nothing later added to the kept one reaches it (its build is over).</summary>
    public readonly struct Forwarding(FileObservations into, FileObservations? was) : IDisposable
    {
        public void Dispose()
        {
            into._forward = null;
            Active.Value = was;
        }
    }

    /// <summary>Whether every observation but those <paramref name="checkedOtherwise"/> names is answered the same now.</summary>
    public bool StillAnswered(Func<Probe, string, bool> checkedOtherwise) =>
        AnsweredTheSame([.. _seen.Where(kv => !checkedOtherwise(kv.Key.Item1, kv.Key.Item2)).Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value))]);

    /// <summary>
    /// Every observation asked again, now, unrecorded, with the same answer; many of them on every core
    /// (statx and readdir calls: a certificate of 600 datasets holds 60,000).
    /// </summary>
    public static bool AnsweredTheSame((Probe Probe, string Path, string Answer)[] observations)
    {
        using var _ = Pause();
        if (observations.Length < 2048)
        {
            foreach (var (probe, path, answer) in observations)
                if (AskUnrecorded(probe, path) != answer) return false;
            return true;
        }
        var differs = 0;
        Parallel.ForEach(Partitioner.Create(0, observations.Length, 1024), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, (range, loop) =>
        {
            for (var i = range.Item1; i < range.Item2 && Volatile.Read(ref differs) == 0; i++)
                if (AskUnrecorded(observations[i].Probe, observations[i].Path) != observations[i].Answer) { Interlocked.Exchange(ref differs, 1); loop.Stop(); }
        });
        return differs == 0;
    }

    /// <summary>While the result is not disposed, the current flow records nothing (KdGat's own probe and temp files).</summary>
    public static Paused Pause()
    {
        var was = Active.Value;
        Active.Value = null;
        return new Paused(was);
    }

    public readonly struct Paused(FileObservations? was) : IDisposable
    {
        public void Dispose() => Active.Value = was;
    }

    public static bool Recording => Active.Value is not null;

    public static void Saw(Probe probe, string path, string answer)
    {
        if (Active.Value is { } o) o.Add(probe, path, answer);
    }

    /// <summary>Asks <paramref name="probe"/> of <paramref name="path"/> and records the answer, only while recording (no system call otherwise).</summary>
    public static void Observe(Probe probe, string path)
    {
        if (Active.Value is { } o) o.Add(probe, path, Ask(probe, path));
    }

    public static void SawStat(string path, PathStat stat)
    {
        if (Active.Value is { } o) o.Add(Probe.Stat, path, StatAnswer(stat), stat.Identity?.ChangedNs);
    }

    public static void SawIdentity(string path, FileIdentity? id)
    {
        if (Active.Value is { } o) o.Add(Probe.Identity, path, IdentityAnswer(id), id?.ChangedNs);
    }

    /// <summary>
    /// The identity of a file KdGat itself writes for MSBuild (a stamp or up-to-date marker): its
    /// bytes vouch for nothing (MSBuild compares times and existence, which the answer holds), so
    /// it was written in this very build does not make the observations racy.
    /// </summary>
    public static void SawOwn(string path) => Observe(Probe.Identity, path);

    /// <param name="changedNs">When a regular file whose identity vouches for the bytes read last changed (<see cref="FileIdentity.ChangedNs"/>; racy rule: <see cref="LatestChangeNs"/>); null for every other answer.</param>
    public void Add(Probe probe, string path, string answer, long? changedNs = null)
    {
        _forward?.Add(probe, path, answer, changedNs);
        var key = (probe, path);
        var kept = _seen.GetOrAdd(key, answer);
        if (kept != answer) Interlocked.Exchange(ref _unusable, 1);
        if (answer.StartsWith('?')) Interlocked.Exchange(ref _unusable, 1);
        if (changedNs is { } changed)
        {
            var seen = Interlocked.Read(ref _latestChangeNs);
            while (changed > seen)
            {
                var was = Interlocked.CompareExchange(ref _latestChangeNs, changed, seen);
                if (was == seen) break;
                seen = was;
            }
        }
    }

    /// <summary>Asks the question again, now: equal to the recorded answer when what it vouches for is unchanged.</summary>
    public static string Ask(Probe probe, string path)
    {
        using var _ = Pause();
        return AskUnrecorded(probe, path);
    }

    /// <summary><see cref="Ask"/> for a caller that has paused recording already (a replay of many: one pause, not one each).</summary>
    internal static string AskUnrecorded(Probe probe, string path)
    {
        try
        {
            return probe switch
            {
                Probe.Stat => StatAnswer(PathStat.Of(path)),
                Probe.Identity => IdentityAnswer(FileIdentity.Of(path)),
                Probe.List => ListAnswer(path),
                Probe.Link => LinkAnswer(path),
                Probe.FileExists => File.Exists(path) ? "1" : "0",
                Probe.DirectoryExists => Directory.Exists(path) ? "1" : "0",
                Probe.FinalTarget => FinalTargetAnswer(path),
                Probe.Kind => PathStat.Of(path).Kind.ToString(),
                Probe.Environment => EnvironmentAnswer(System.Environment.GetEnvironmentVariable(path)),
                _ => "?unknown probe",
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Diagnostics.KdgException)
        {
            return "?" + e.GetType().Name; // never equal to a recorded answer
        }
    }

    internal static string StatAnswer(PathStat s) => s.Kind switch
    {
        PathKind.File when s.Identity is { IsCheckedRegularFile: true } id => (s.Executable ? "fx:" : "f:") + id,
        PathKind.File => "?file without identity",
        PathKind.Directory => $"d:{s.Device}:{s.Inode}", // which directory: a link retargeted to another one with the same names shows
        PathKind.Missing => "m",
        _ => "o:" + s.TypeName,
    };

    internal static string IdentityAnswer(FileIdentity? id) => id switch
    {
        null => "none",
        { IsCheckedRegularFile: true } i => "f:" + i,
        _ => "?file without identity",
    };

    /// <summary>A directory's names, one level, sorted ordinally, as one digest (what a walk or a glob saw).</summary>
    internal static string ListAnswer(IEnumerable<string> names)
    {
        var sorted = names.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return CertificateHash.Of(string.Join('\n', sorted));
    }

    private static string ListAnswer(string dir) =>
        ListAnswer(new System.IO.Enumeration.FileSystemEnumerable<string>(dir, (ref System.IO.Enumeration.FileSystemEntry e) => e.FileName.ToString(), OneLevel));

    internal static readonly EnumerationOptions OneLevel = new() { RecurseSubdirectories = false, IgnoreInaccessible = false, AttributesToSkip = 0 };

    /// <summary>"=" and the target of a symlink, "none" for anything else.</summary>
    internal static string LinkAnswer(string path)
    {
        try { return new FileInfo(path).LinkTarget is { } target ? "=" + target : "none"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "none"; }
    }

    /// <summary>"=" and where a chain of symlinks ends, in full; "none" when the path is not a link.</summary>
    internal static string FinalTargetAnswer(string path)
    {
        try { return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true) is { } target ? "=" + target.FullName : "none"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "?" + e.GetType().Name; }
    }

    internal static string EnvironmentAnswer(string? value) => value is null ? "unset" : "=" + CertificateHash.Of(value);

    /// <summary>An environment variable a decision reads, observed (the certificate's key leaves out a few a shell changes: these count anyway).</summary>
    public static string? Variable(string name)
    {
        var value = System.Environment.GetEnvironmentVariable(name);
        SawVariable(name, value);
        return value;
    }

    /// <summary>A variable's value as a decision read it (its digest only while recording: the fingerprint of every instance reads its variables).</summary>
    public static void SawVariable(string name, string? value)
    {
        if (Active.Value is { } o) o.Add(Probe.Environment, name, EnvironmentAnswer(value));
    }

    /// <summary><see cref="LinkAnswer"/> (readlink(2): "=target", or "none" when the path is not a link), observed.</summary>
    public static string ReadLink(string path)
    {
        var answer = LinkAnswer(path);
        Saw(Probe.Link, path, answer);
        return answer;
    }

    /// <summary><see cref="File.Exists"/>, observed.</summary>
    public static bool FileExists(string path)
    {
        var exists = File.Exists(path);
        Saw(Probe.FileExists, path, exists ? "1" : "0");
        return exists;
    }

    /// <summary><see cref="Directory.Exists"/>, observed.</summary>
    public static bool DirectoryExists(string path)
    {
        var exists = Directory.Exists(path);
        Saw(Probe.DirectoryExists, path, exists ? "1" : "0");
        return exists;
    }

    /// <summary>Observes a directory's names when recording (a caller that lists it by other means: a filter, Any()).</summary>
    public static void SawListing(string dir) => Observe(Probe.List, dir);
}
