using System.Text;
using System.Text.RegularExpressions;

namespace KdGat.Core.Hashing;

/// <summary>
/// Expands a root-relative glob ('*', '?', '**') into files. Small on purpose: code globs in the
/// config are the only user, and the walk starts at the longest literal directory prefix.
/// </summary>
public static class Glob
{
    public static IReadOnlyList<string> Expand(string root, string pattern)
    {
        pattern = pattern.Replace('\\', '/');
        if (Path.IsPathRooted(pattern)) { root = "/"; pattern = pattern.TrimStart('/'); }
        if (!HasWildcard(pattern))
        {
            var full = Path.GetFullPath(Path.Combine(root, pattern));
            if (File.Exists(full)) return new[] { full };
            if (Directory.Exists(full)) return PathHasher.EnumerateContentFiles(full).ToArray();
            return Array.Empty<string>();
        }
        var segments = pattern.Split('/');
        var literal = segments.TakeWhile(s => !HasWildcard(s)).ToArray();
        var baseDir = Path.GetFullPath(Path.Combine(root, string.Join('/', literal)));
        if (!Directory.Exists(baseDir)) return Array.Empty<string>();
        var wildPart = string.Join('/', segments.Skip(literal.Length));
        var regex = ToRegex(wildPart);
        var recurse = segments.Skip(literal.Length).Count() > 1 || pattern.Contains("**");
        return PathHasher.EnumerateContentFiles(baseDir)
            .Where(f => recurse || Path.GetDirectoryName(f) == baseDir)
            .Select(f => (Full: f, Relative: Path.GetRelativePath(baseDir, f).Replace('\\', '/')))
            .Where(f => regex.IsMatch(f.Relative) && !InBuildOutput(f.Relative, wildPart))
            .Select(f => f.Full)
            .ToArray();
    }

    // Generated files under obj/ and bin/ change with every compile (AssemblyInfo, GlobalUsings):
    // matched through a wildcard they would make every stage stale after any `dotnet build`.
    private static readonly string[] BuildOutputDirs = ["bin", "obj", ".git", ".kdgat"];

    private static bool InBuildOutput(string relative, string wildPart)
    {
        var dirs = relative.Split('/')[..^1];
        return dirs.Any(d => BuildOutputDirs.Contains(d) && !wildPart.Split('/').Contains(d));
    }

    private static bool HasWildcard(string s) => s.IndexOfAny(['*', '?']) >= 0;

    internal static Regex ToRegex(string glob)
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
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
