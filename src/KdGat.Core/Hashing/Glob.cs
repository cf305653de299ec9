using System.Text;
using System.Text.RegularExpressions;

namespace KdGat.Core.Hashing;

/// <summary>
/// Expands a root-relative glob ('*', '?', '**') into files: code globs and inputs in the config.
/// The walk starts at the longest literal directory prefix and follows symlinks as
/// <see cref="PathHasher"/> does (a cycle is an error); a matching FIFO or device is an error.
/// </summary>
internal static class Glob
{
    public static IReadOnlyList<string> Expand(string root, string pattern)
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
                PathKind.Directory => PathHasher.EnumerateContentFiles(full).ToArray(),
                PathKind.Other => throw PathHasher.NotContent(full, stat),
                _ => Array.Empty<string>(),
            };
        }
        var segments = pattern.Split('/');
        var literal = segments.TakeWhile(s => !HasWildcard(s)).ToArray();
        var baseDir = Path.GetFullPath(Path.Combine(root, string.Join('/', literal)));
        if (PathStat.Of(baseDir).Kind != PathKind.Directory) return Array.Empty<string>();
        var wildPart = string.Join('/', segments.Skip(literal.Length));
        var regex = ToRegex(wildPart);
        var recurse = segments.Skip(literal.Length).Count() > 1 || pattern.Contains("**");
        return PathHasher.Walk(baseDir)
            .Where(f => recurse || Path.GetDirectoryName(f.Path) == baseDir)
            .Select(f => (f.Path, f.Kind, Relative: Path.GetRelativePath(baseDir, f.Path).Replace('\\', '/')))
            .Where(f => regex.IsMatch(f.Relative) && !InBuildOutput(f.Relative, wildPart))
            .Select(f => f.Kind == PathKind.File ? f.Path : throw PathHasher.NotContent(f.Path, PathStat.Of(f.Path)))
            .ToArray();
    }

    /// <summary>The directory a glob's walk starts at: its segments before the first wildcard (the path itself without one).</summary>
    public static string LiteralBase(string fullPattern)
    {
        var segments = fullPattern.Replace('\\', '/').Split('/');
        var literal = segments.TakeWhile(s => !HasWildcard(s)).ToArray();
        return literal.Length == segments.Length ? fullPattern : Path.GetFullPath(string.Join('/', literal) is { Length: > 0 } l ? l : "/");
    }

    // Generated files under obj/ and bin/ change with every compile (AssemblyInfo, GlobalUsings):
    // matched through a wildcard they would make every stage stale after any `dotnet build`.
    private static readonly string[] BuildOutputDirs = ["bin", "obj", ".git", Pipeline.PipelineLayout.StateDirName];

    private static bool InBuildOutput(string relative, string wildPart)
    {
        var dirs = relative.Split('/')[..^1];
        return dirs.Any(d => BuildOutputDirs.Contains(d) && !wildPart.Split('/').Contains(d));
    }

    public static bool HasWildcard(string s) => s.IndexOfAny(['*', '?']) >= 0;

    // Patterns are few (a stage's code globs and inputs), instances many: each is compiled once.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    internal static Regex ToRegex(string glob) => Compiled.GetOrAdd(glob, Build);

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
