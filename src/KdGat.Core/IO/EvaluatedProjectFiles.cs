using System.Security.Cryptography;
using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;

namespace KdGat.Core.IO;

/// <summary>
/// Whether the project files a long-lived MSBuild process (the MSBuild server, a reused node, an
/// IDE) evaluated can still be the files on disk. Such a process keeps every project file it parsed
/// and parses it again only when its last-write time changed (MSBuild's ProjectRootElementCache):
/// after an edit that keeps the time (cp -p, rsync -a, tar x, touch -r, two writes within a coarse
/// file system's tick) it evaluates the old text, so the stage graph, Explain and the build judge
/// by old Needs and targets, which no check of KdGat's can see. So each file's time and content are
/// remembered for the life of the process (what a process that runs one build records is never
/// asked again), and a later build that finds other content under the same time stops.
/// </summary>
internal sealed class EvaluatedProjectFiles
{
    /// <summary>Project files are kilobytes: a larger one is not read in every build, and not checked.</summary>
    public const long MaxBytes = 4L << 20;

    /// <summary>
    /// This process's record. With MSBUILDCACHECHECKFILECONTENT set (any value) MSBuild compares a
    /// kept file's content too and nothing needs checking; it reads the variable once per process,
    /// as this does at its first use (both in the process's first build).
    /// </summary>
    public static readonly EvaluatedProjectFiles InThisProcess = new(!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MSBUILDCACHECHECKFILECONTENT")));

    private readonly bool _msbuildComparesContent;
    // A Dictionary of a class under a lock: a ConcurrentDictionary of a tuple measured 1-2 ms more in a fresh process (JIT).
    private readonly Dictionary<string, Seen> _read = new(StringComparer.Ordinal);

    private sealed record Seen(long WriteTicks, byte[] Digest);

    public EvaluatedProjectFiles(bool msbuildComparesContent) => _msbuildComparesContent = msbuildComparesContent;

    /// <summary>
    /// KDG1229 naming the files whose content differs from what this process recorded under the
    /// same last-write time; null when there is none. Records every other file as it is now (a new
    /// time: MSBuild read it again). A file found so gets the time of now (what the message told
    /// users to do by hand) and is recorded with it, so the next build's MSBuild reads it again and
    /// goes on: whether MSBuild held the old text cannot be told (it also parses a file again after
    /// -restore, or after dropping it from its cache: a review found that stop repeated in every
    /// build until a touch). Where the time cannot be set, the old record stays: every later build
    /// of the process stops too until the file's time changes.
    /// </summary>
    /// <param name="files">Full paths of the files MSBuild evaluated the stage graph from.</param>
    public KdgException? OldTextEvaluated(IEnumerable<string> files)
    {
        if (Changed(files) is not ({ } old, var stuck)) return null;
        var names = string.Join(", ", old);
        return new KdgException(ErrorCodes.ProjectReloadNeeded,
            $"{names} changed since this MSBuild process (the MSBuild server, a reused node or an IDE) last read it, and kept its modification time (as cp -p, rsync -a, tar x or touch -r leave it). " +
            "MSBuild parses a project file again only when that time changed (or after -restore), so this build may have been evaluated from the old text, with its stage targets and Needs, and nothing KdGat checks would show it. Nothing was run. " +
            Remedy(stuck),
            old[0]);
    }

    /// <summary>
    /// Both checks of a build (<see cref="ToolsBuiltFromOldText"/>, then <see cref="OldTextEvaluated"/>), the first
    /// KDG1229 found or null. The tools' files first: a file in both lists (a Directory.Build.props a project also names
    /// as a KdGatGraphFile) is recorded anew by whichever check reads it first, and only the tools' check removes their
    /// stamp (a review: the other order left the tools built from the old text and stamped current).
    /// </summary>
    public KdgException? Check(IEnumerable<string> projectFiles, IEnumerable<string> toolBuildFiles, string toolStampDir) =>
        ToolsBuiltFromOldText(toolBuildFiles, toolStampDir) ?? OldTextEvaluated(projectFiles);

    /// <summary>
    /// The same for the MSBuild files the tool bootstrap builds KdGat's tools from in this process (the tool projects,
    /// Directory.Build.props/.targets, Directory.Packages.props): the tool-source hash reads their new content, so the
    /// tools were built again, but from the text MSBuild kept, and stamped as built from the new one; every later build
    /// took them as current (the fxmsgs brief: KDG1229 saw only the stage graph's files, which import none of these).
    /// The stamp in <paramref name="stampDir"/> goes, so the next build compiles the tools again, from the file MSBuild
    /// then reads again (its time is now).
    /// </summary>
    public KdgException? ToolsBuiltFromOldText(IEnumerable<string> files, string stampDir)
    {
        if (Changed(files) is not ({ } old, var stuck)) return null;
        try { if (Directory.Exists(stampDir)) Directory.Delete(stampDir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { stuck ??= [.. old]; }
        return new KdgException(ErrorCodes.ProjectReloadNeeded,
            $"{string.Join(", ", old)} changed since this MSBuild process (the MSBuild server, a reused node or an IDE) last read it, and kept its modification time (as cp -p, rsync -a, tar x or touch -r leave it). " +
            "MSBuild parses a project file again only when that time changed (or after -restore), so KdGat's tools may have been built from its old text. Nothing was run. " +
            $"The tools' stamp ({stampDir}) was removed, so the next build compiles them again. " + Remedy(stuck),
            old[0]);
    }

    private static string Remedy(List<string>? stuck) =>
        (stuck is null
            ? "KdGat set its modification time to now, so MSBuild reads it again: build again. "
            : $"Touch the file (`touch {stuck[0]}`: KdGat could not set its time or remove the stamp) or stop that process (`dotnet build-server shutdown`, or restart the IDE), and build again. ") +
        "An MSBuild server started with MSBUILDCACHECHECKFILECONTENT=1 in its environment compares the content itself.";

    /// <summary>The files whose content differs from this process's record under the same time (touched, or stuck where that failed); null when none.</summary>
    private (List<string>? Old, List<string>? Stuck) Changed(IEnumerable<string> files)
    {
        if (_msbuildComparesContent) return (null, null);
        List<string>? old = null, stuck = null;
        foreach (var file in files)
        {
            // Missing, unreadable, not a regular file, or large: unchecked, the record kept (MSBuild also keeps its text of a file that is gone).
            if (Read(file) is not { } now) continue;
            lock (_read)
            {
                if (_read.TryGetValue(file, out var was) && was.WriteTicks == now.WriteTicks && !was.Digest.AsSpan().SequenceEqual(now.Digest))
                {
                    (old ??= []).Add(file);
                    if (Touched(file, was.WriteTicks) is { } ticks) _read[file] = now with { WriteTicks = ticks };
                    else (stuck ??= []).Add(file);
                }
                else _read[file] = now;
            }
        }
        return (old, stuck);
    }

    /// <summary>Sets the file's last-write time to now (past the recorded one) and returns it as read back; null when it cannot be set.</summary>
    private static long? Touched(string file, long wasTicks)
    {
        try
        {
            // The file system's own sense of now matters, not the build's clock: TimeProvider.System, as MSBuild compares it.
            var now = TimeProvider.System.GetUtcNow().UtcDateTime;
            File.SetLastWriteTimeUtc(file, now.Ticks > wasTicks ? now : new DateTime(wasTicks, DateTimeKind.Utc).AddSeconds(1));
            var ticks = new FileInfo(file).LastWriteTimeUtc.Ticks;
            return ticks != wasTicks ? ticks : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static Seen? Read(string file)
    {
        try
        {
            // The time as MSBuild asks it (FileInfo, 100 ns ticks), not statx's forced NFS answer: a
            // newer time MSBuild's cached attributes did not show yet must not pass for a reload.
            var info = new FileInfo(file);
            if (!info.Exists || info.Length > MaxBytes) return null;
            // A FIFO or device: an open could block for ever (statx answers only for a regular file).
            if (OperatingSystem.IsLinux() && !Statx.Unavailable && !Statx.TryGet(file, out _)) return null;
            var ticks = info.LastWriteTimeUtc.Ticks;
            // SHA-256, not XxHash128: loaded and compiled already in a fresh process (CertificateHash).
            return new Seen(ticks, SHA256.HashData(SmallFile.ReadAllBytes(file, MaxBytes, checkedRegular: true)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
