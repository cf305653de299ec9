using System.Text;
using System.Text.RegularExpressions;

namespace KdGat.Core.Hashing;

/// <summary>
/// Expands a root-relative glob ('*', '?', '**') into files: code globs and inputs in the config.
/// The walk starts at the longest literal directory prefix and follows symlinks as
/// <see cref="PathHasher"/> does (a cycle is an error); a matching FIFO or device is an error, and
/// so is a name below the base directory that is not UTF-8. Dangling symlinks and empty
/// directories are not files: code globs skip them, declared inputs hash dangling links they match.
/// </summary>
internal static class Glob
{
    /// <param name="notInto">Folders a wildcard does not enter (a code glob: <see cref="Pipeline.PipelineLayout.WrittenFolders"/>); the literal part of the pattern may lie in one.</param>
    public static IReadOnlyList<string> Expand(string root, string pattern, IReadOnlySet<string>? notInto = null)
    {
        pattern = pattern.Replace('\\', '/');
        if (Path.IsPathRooted(pattern)) { root = "/"; pattern = pattern.TrimStart('/'); }
        if (!HasWildcard(pattern))
        {
            var full = Path.GetFullPath(Path.Combine(root, pattern));
            var stat = PathStat.Of(full);
            return stat.Kind switch
            {
                PathKind.File => new[] { full },
                // A code folder named whole (code: [mylib]) leaves out its __pycache__ folders as a wildcard does (the diff review).
                PathKind.Directory => PathHasher.EnumerateContentFiles(full, PathHasher.IsBytecodeCache).ToArray(),
                PathKind.Other => throw PathHasher.NotContent(full, stat),
                _ => Array.Empty<string>(),
            };
        }
        return Wild(root, pattern, withDangling: false, notInto).Select(e => e.Path).ToArray();
    }

    /// <summary>
    /// A wildcard glob's matches as walk entries: regular files (with their x bit) and, with
    /// <paramref name="withDangling"/>, dangling symlinks the pattern matches (a declared input
    /// hashes them by target); never directories. A matching FIFO or device is an error.
    /// </summary>
    internal static IReadOnlyList<PathHasher.WalkEntry> ExpandEntries(string root, string pattern, bool withDangling, CancellationToken cancel = default)
    {
        pattern = pattern.Replace('\\', '/');
        if (Path.IsPathRooted(pattern)) { root = "/"; pattern = pattern.TrimStart('/'); }
        if (!HasWildcard(pattern)) throw new ArgumentException("a wildcard glob expected", nameof(pattern));
        return Wild(root, pattern, withDangling, cancel: cancel);
    }

    private static PathHasher.WalkEntry[] Wild(string root, string pattern, bool withDangling, IReadOnlySet<string>? notInto = null, CancellationToken cancel = default)
    {
        var (baseDir, wildPart) = Split(root, pattern);
        if (PathStat.Of(baseDir).Kind != PathKind.Directory) return [];
        var regex = ToRegex(wildPart);
        var recurse = wildPart.Contains('/') || wildPart.Contains("**");
        var projectDirs = new Dictionary<string, bool>(StringComparer.Ordinal); // one listing per bin/ or obj/ parent, not per file
        // .git/ and .kdgat/ are never entered unless the glob names them: nothing below them could
        // match (Excluded), and what they hold (KdGat's own state, rewritten by every build) would
        // otherwise be read and listed for nothing, and void every no-op certificate.
        var named = wildPart.Split('/');
        return PathHasher.Walk(baseDir, skip: dir => UnnamedStateDir(Path.GetFileName(dir), named) || notInto?.Contains(dir) == true, cancel)
            .Where(f => f.Kind is PathKind.File or PathKind.Other || (withDangling && f.Kind == PathKind.Missing))
            .Where(f => recurse || Path.GetDirectoryName(f.Path) == baseDir)
            .Select(f => (Entry: f, Relative: Path.GetRelativePath(baseDir, f.Path).Replace('\\', '/')))
            .Where(f => regex.IsMatch(f.Relative) && !Excluded(baseDir, f.Relative, named, projectDirs))
            .Select(f => f.Entry.Kind != PathKind.Other ? f.Entry : throw PathHasher.NotContent(f.Entry.Path, PathStat.Of(f.Entry.Path)))
            .ToArray();
    }

    /// <summary>A '/'-separated wildcard glob as the directory of its segments before the first wildcard, and the rest.</summary>
    private static (string BaseDir, string WildPart) Split(string root, string pattern)
    {
        var segments = pattern.Split('/');
        var literal = segments.TakeWhile(s => !HasWildcard(s)).ToArray();
        return (Path.GetFullPath(Path.Combine(root, string.Join('/', literal))), string.Join('/', segments.Skip(literal.Length)));
    }

    /// <summary>The directory a glob's walk starts at: its segments before the first wildcard (the path itself without one).</summary>
    public static string LiteralBase(string fullPattern)
    {
        var segments = fullPattern.Replace('\\', '/').Split('/');
        var literal = segments.TakeWhile(s => !HasWildcard(s)).ToArray();
        return literal.Length == segments.Length ? fullPattern : Path.GetFullPath(string.Join('/', literal) is { Length: > 0 } l ? l : "/");
    }

    /// <summary>
    /// Whether something a glob (a full path, wildcards allowed) can match lies at or under <paramref name="path"/>, or
    /// <paramref name="path"/> holds where its walk starts: whether writing there can change what it matches. A glob's
    /// literal folder alone said too much: 'data/*.txt' reaches no file of data/cache/ds1/ (a '*' stays within one
    /// folder), yet a stage's output there was refused (KDG1204; a first-week review). With '**' everything below the folder.
    /// </summary>
    public static bool MayReach(string fullPattern, string path)
    {
        var baseDir = LiteralBase(fullPattern);
        if (!HasWildcard(fullPattern)) return IO.PathText.IsUnder(path, baseDir) || IO.PathText.IsUnder(baseDir, path);
        if (IO.PathText.IsUnder(baseDir, path)) return true;
        if (!IO.PathText.IsUnder(path, baseDir)) return false;
        var wild = fullPattern.Replace('\\', '/').Split('/').SkipWhile(seg => !HasWildcard(seg)).ToArray();
        if (wild.Any(seg => seg.Contains("**", StringComparison.Ordinal))) return true;
        var below = Path.GetRelativePath(baseDir, path).Replace('\\', '/').Split('/');
        // A match has exactly as many segments as the wildcard part: one lies at or under the path when the path's segments match its first ones.
        return below.Length <= wild.Length && below.Select((seg, i) => ToRegex(wild[i]).IsMatch(seg)).All(m => m);
    }

    /// <summary>
    /// Whether a root-relative wildcard glob covers a file (what <see cref="Expand"/> would list,
    /// without walking): the audit's test of a read against a stage's code globs.
    /// </summary>
    public static bool Covers(string root, string pattern, string fullPath, IReadOnlySet<string>? notInto = null)
    {
        var (baseDir, wildPart) = Split(root, pattern.Replace('\\', '/'));
        if (!IO.PathText.IsUnder(fullPath, baseDir)) return false;
        if (notInto?.Any(d => d.Length > baseDir.Length && IO.PathText.IsUnder(d, baseDir) && IO.PathText.IsUnder(fullPath, d)) == true) return false;
        var relative = Path.GetRelativePath(baseDir, fullPath).Replace('\\', '/');
        return ToRegex(wildPart).IsMatch(relative) && !Excluded(baseDir, relative, wildPart.Split('/'), new(StringComparer.Ordinal));
    }

    // A wildcard never reaches into KdGat's state or git's, nor into a .NET project's bin/ and obj/:
    // files generated there change with every compile (AssemblyInfo, GlobalUsings) and would make
    // every stage stale after any `dotnet build`. Naming the directory in the glob reaches it. Only
    // a project's own build output is left out: a bin/ of scripts beside no project file is code like
    // any other (a stage ran scripts2/bin/wrap.sh, matched by 'scripts2/**/*.sh', and an edit there
    // left it up to date when every bin/ was skipped).
    // Nor into Python's __pycache__: a .pyc holds its source's file time, so a `touch` or a checkout of an
    // unchanged module made `code: ['mylib/**']` see changed code (KDG3020, reruns that never settle: a user review).
    private static readonly string[] StateDirs = [".git", Pipeline.PipelineLayout.StateDirName, PathHasher.BytecodeCacheDir];
    private static readonly string[] BuildOutputDirs = ["bin", "obj"];

    /// <summary>.git/, .kdgat/ or __pycache__/, and the glob's own segments (<paramref name="named"/>) do not name it.</summary>
    private static bool UnnamedStateDir(string dir, string[] named) => StateDirs.Contains(dir) && !named.Contains(dir);

    /// <param name="named">The glob's wildcard part, by '/' segment: a directory it names is reached.</param>
    private static bool Excluded(string baseDir, string relative, string[] named, Dictionary<string, bool> projectDirs)
    {
        var dirs = relative.Split('/')[..^1];
        for (var i = 0; i < dirs.Length; i++)
        {
            if (UnnamedStateDir(dirs[i], named)) return true;
            if (named.Contains(dirs[i])) continue;
            if (!BuildOutputDirs.Contains(dirs[i])) continue;
            var parent = Path.Combine(baseDir, string.Join('/', dirs[..i]));
            if (!projectDirs.TryGetValue(parent, out var isProject)) projectDirs[parent] = isProject = IsProjectDir(parent);
            if (isProject) return true;
        }
        return false;
    }

    /// <summary>
    /// A directory holding a .NET project file (*.csproj, *.fsproj, *.vbproj): its bin/ and obj/ are
    /// build output. Not *.proj: every pipeline root has pipeline.proj, and a bin/ of scripts beside it is code.
    /// </summary>
    private static bool IsProjectDir(string dir)
    {
        NoOp.FileObservations.SawListing(dir);
        try { return Directory.EnumerateFiles(dir, "*proj").Any(f => Path.GetExtension(f) is ".csproj" or ".fsproj" or ".vbproj"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    public static bool HasWildcard(string s) => s.IndexOfAny(['*', '?']) >= 0;

    // Patterns are few (a stage's code globs and inputs), instances many: each is compiled once.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    internal static Regex ToRegex(string glob)
    {
        // A long-lived process (server, IDE) sees edited globs and many pipelines: bounded, not kept for ever.
        if (Compiled.Count > 1024) Compiled.Clear();
        return Compiled.GetOrAdd(glob, Build);
    }

    private static Regex Build(string glob)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                // "**/" matches zero or more directories; a trailing "**" matches everything below.
                if (i + 2 < glob.Length && glob[i + 2] == '/') { sb.Append("(?:.*/)?"); i += 2; }
                else { sb.Append(".*"); i += 1; }
            }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else sb.Append(Regex.Escape(c.ToString()));
        }
        // NonBacktracking: linear in the path's length. With backtracking, "a/**/**/**/**/**/**/**/z.x"
        // against a path 100 directories deep did not finish in two minutes.
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    }
}
