using System.Text;
using System.Text.RegularExpressions;

namespace KdGat.Core.Auditing;

/// <summary>
/// Reads the output of <c>strace -f -y -o FILE</c> (see <see cref="Strace"/>) into file accesses.
/// Handles the pid prefix of every line ("123 " with -o, "[pid 123] " on a terminal), calls split
/// over two lines by another process ("&lt;unfinished ...&gt;" then "&lt;... openat resumed&gt;"),
/// quoted paths with C escapes (octal, hex, \" \\), "fd&lt;/path&gt;" decorations from -y, and
/// relative paths, resolved against the directory fd or the calling process's working directory
/// (tracked through chdir/fchdir and inherited by the children of fork/vfork/clone). Failed calls
/// (= -1 ENOENT ...) are not accesses and are dropped.
/// </summary>
internal sealed partial class StraceParser
{
    private readonly string _initialCwd;
    private readonly Dictionary<int, string> _cwd = new();
    private readonly Dictionary<int, string> _unfinished = new();
    private readonly List<TracedAccess> _accesses = new();
    // Each distinct access once: memory grows with the files a stage touches, not with how often it touches them.
    private readonly HashSet<(AccessKind, string, bool, bool)> _seen = new();

    /// <param name="initialCwd">The working directory of the first traced process (the stage's run dir).</param>
    public StraceParser(string initialCwd) => _initialCwd = Path.GetFullPath(initialCwd);

    public IReadOnlyList<TracedAccess> Accesses => _accesses;
    /// <summary>Lines that looked like a traced call but could not be understood (counted, never fatal).</summary>
    public int Unparsed { get; private set; }

    /// <summary>Parses a whole trace file, one line at a time.</summary>
    public static StraceParser ParseFile(string traceFile, string initialCwd)
    {
        var p = new StraceParser(initialCwd);
        using var reader = new StreamReader(traceFile, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false);
        while (reader.ReadLine() is { } line) p.Feed(line);
        return p;
    }

    public void Feed(string line)
    {
        var m = PidPrefix().Match(line);
        var pid = m.Success ? int.Parse(m.Groups[1].Value.Length > 0 ? m.Groups[1].Value : m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        var rest = line[m.Length..].TrimEnd();
        if (rest.Length == 0 || rest.StartsWith("---", StringComparison.Ordinal) || rest.StartsWith("+++", StringComparison.Ordinal)) return;

        const string unfinished = "<unfinished ...>";
        if (rest.EndsWith(unfinished, StringComparison.Ordinal))
        {
            _unfinished[pid] = rest[..^unfinished.Length].TrimEnd();
            return;
        }
        var resumed = Resumed().Match(rest);
        if (resumed.Success)
        {
            if (!_unfinished.Remove(pid, out var start)) { Unparsed++; return; }
            rest = start + rest[resumed.Length..];
        }
        if (!Call.TryParse(rest, out var call)) { Unparsed++; return; }
        Apply(pid, call);
    }

    private void Apply(int pid, Call c)
    {
        if (c.Failed) return;
        switch (c.Name)
        {
            case "open": Open(pid, c, null, 0, 1); break;
            case "openat": Open(pid, c, 0, 1, 2); break;
            case "openat2": Open(pid, c, 0, 1, 2); break;
            case "creat": Add(pid, c, AccessKind.Write, null, 0); break;
            case "execve": Add(pid, c, AccessKind.Read, null, 0); break;
            case "execveat": Add(pid, c, AccessKind.Read, 0, 1); break;
            case "truncate" or "unlink" or "rmdir": Add(pid, c, AccessKind.Write, null, 0); break;
            case "unlinkat": Add(pid, c, AccessKind.Write, 0, 1); break;
            case "mkdir": Add(pid, c, AccessKind.Write, null, 0, created: true); break;
            case "mkdirat": Add(pid, c, AccessKind.Write, 0, 1, created: true); break;
            case "rename": Add(pid, c, AccessKind.Write, null, 0); Add(pid, c, AccessKind.Write, null, 1); break;
            case "renameat" or "renameat2": Add(pid, c, AccessKind.Write, 0, 1); Add(pid, c, AccessKind.Write, 2, 3); break;
            case "link": Add(pid, c, AccessKind.Read, null, 0); Add(pid, c, AccessKind.Write, null, 1); break;
            case "linkat": Add(pid, c, AccessKind.Read, 0, 1); Add(pid, c, AccessKind.Write, 2, 3); break;
            case "symlink": Add(pid, c, AccessKind.Write, null, 1); break; // the target is only text
            case "symlinkat": Add(pid, c, AccessKind.Write, 1, 2); break;
            case "chdir":
                if (Resolve(pid, c, null, 0) is { } dir) _cwd[pid] = dir;
                break;
            case "fchdir":
                if (c.Args.Count > 0 && Decoration(c.Args[0]) is { } fdDir) _cwd[pid] = fdDir;
                break;
            case "clone" or "clone3" or "fork" or "vfork":
                // The child starts where the parent is (threads share it anyway). A child that already
                // printed lines before the parent's call returned got the same value from CwdOf.
                if (c.Return is { } child and > 0 and <= int.MaxValue) _cwd.TryAdd((int)child, CwdOf(pid));
                break;
        }
    }

    private void Open(int pid, Call c, int? dirArg, int pathArg, int flagsArg)
    {
        if (c.Args.Count <= flagsArg) { Unparsed++; return; }
        var flags = c.Args[flagsArg];
        if (flags.StartsWith('{')) flags = OpenHowFlags().Match(flags).Groups[1].Value; // openat2's struct open_how
        var set = flags.Split('|', StringSplitOptions.TrimEntries);
        if (set.Contains("O_PATH")) return; // a handle without access to the content
        var writes = set.Contains("O_WRONLY") || set.Contains("O_RDWR") || set.Contains("O_CREAT") || set.Contains("O_TRUNC");
        var listing = set.Contains("O_DIRECTORY");
        if (writes) Add(pid, c, AccessKind.Write, dirArg, pathArg);
        if (!writes || set.Contains("O_RDWR")) Add(pid, c, AccessKind.Read, dirArg, pathArg, listing: listing);
    }

    private void Add(int pid, Call c, AccessKind kind, int? dirArg, int pathArg, bool listing = false, bool created = false)
    {
        if (Resolve(pid, c, dirArg, pathArg) is { } path && _seen.Add((kind, path, listing, created)))
            _accesses.Add(new TracedAccess(pid, c.Name, kind, path, listing, created));
    }

    /// <summary>The absolute path a call's path argument names, or null when it cannot be known.</summary>
    private string? Resolve(int pid, Call c, int? dirArg, int pathArg)
    {
        if (c.Args.Count <= pathArg || Unquote(c.Args[pathArg]) is not { Length: > 0 } path) { Unparsed++; return null; }
        if (path.StartsWith('/')) return Normalize(path);
        string? baseDir;
        if (dirArg is null) baseDir = CwdOf(pid);
        else
        {
            var dirfd = c.Args[dirArg.Value];
            baseDir = Decoration(dirfd);
            if (dirfd.StartsWith("AT_FDCWD", StringComparison.Ordinal))
            {
                if (baseDir is not null) _cwd[pid] = baseDir; // -y prints the working directory itself: the best source
                else baseDir = CwdOf(pid);
            }
        }
        if (baseDir is null) { Unparsed++; return null; }
        return Normalize(baseDir + "/" + path);
    }

    private string CwdOf(int pid)
    {
        if (_cwd.TryGetValue(pid, out var cwd)) return cwd;
        // A child seen before its parent's fork returned: it inherits the forking parent's directory.
        var forking = _unfinished.Where(u => ForkLike().IsMatch(u.Value)).Select(u => u.Key).ToArray();
        cwd = forking.Length == 1 && _cwd.TryGetValue(forking[0], out var parent) ? parent : _initialCwd;
        _cwd[pid] = cwd;
        return cwd;
    }

    private static string Normalize(string path) => Path.GetFullPath(path);

    /// <summary>The path in a -y decoration: <c>3&lt;/a/b&gt;</c> or <c>AT_FDCWD&lt;/a&gt;</c>.</summary>
    internal static string? Decoration(string arg)
    {
        var open = arg.IndexOf('<');
        return open > 0 && arg.EndsWith('>') ? Unescape(arg[(open + 1)..^1]) : null;
    }

    /// <summary>A quoted string argument, unescaped; a truncated one ("..."...) is taken as printed.</summary>
    internal static string? Unquote(string arg)
    {
        if (arg.EndsWith("...", StringComparison.Ordinal)) arg = arg[..^3];
        return arg.Length >= 2 && arg[0] == '"' && arg[^1] == '"' ? Unescape(arg[1..^1]) : null;
    }

    /// <summary>strace's C escapes to bytes, then UTF-8 (paths are bytes; non-ASCII arrives as \303\251).</summary>
    internal static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var bytes = new List<byte>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var ch = s[i];
            if (ch != '\\' || i + 1 == s.Length) { bytes.AddRange(Encoding.UTF8.GetBytes(ch.ToString())); continue; }
            var e = s[++i];
            switch (e)
            {
                case 'n': bytes.Add((byte)'\n'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case 'r': bytes.Add((byte)'\r'); break;
                case 'v': bytes.Add(0x0b); break;
                case 'f': bytes.Add(0x0c); break;
                case 'a': bytes.Add(0x07); break;
                case 'b': bytes.Add(0x08); break;
                case 'x':
                    var hex = 0; var n = 0;
                    while (n < 2 && i + 1 < s.Length && Uri.IsHexDigit(s[i + 1])) { hex = hex * 16 + Convert.ToInt32(s[++i].ToString(), 16); n++; }
                    bytes.Add((byte)hex);
                    break;
                case >= '0' and <= '7':
                    var oct = e - '0'; var d = 1;
                    while (d < 3 && i + 1 < s.Length && s[i + 1] is >= '0' and <= '7') { oct = oct * 8 + (s[++i] - '0'); d++; }
                    bytes.Add((byte)oct);
                    break;
                default: bytes.AddRange(Encoding.UTF8.GetBytes(e.ToString())); break; // \" \\ and anything else: the character itself
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    [GeneratedRegex(@"^(?:\[pid\s+(\d+)\]\s*|(\d+)\s+)")]
    private static partial Regex PidPrefix();
    [GeneratedRegex(@"^<\.\.\. [A-Za-z0-9_]+ resumed>")]
    private static partial Regex Resumed();
    [GeneratedRegex(@"^(?:clone3?|v?fork)\(")]
    private static partial Regex ForkLike();
    [GeneratedRegex(@"flags=([A-Z0-9_|]+)")]
    private static partial Regex OpenHowFlags();
}
